"""The scheduler wrapper and the review store: FSRS through the fsrs package, one transaction per
rating, and databases that must never be overwritten."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Card, Rating, State

from qed import scheduling
from qed.store import APPLICATION_ID, SCHEMA_VERSION, Store, StoreError
from tests._deck import hammer_script

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def test_card_id_is_stable_across_processes_and_fits_sqlite():
    """The FSRS card id of a page is the same in processes with different hash seeds, and < 2**63."""
    code = "from qed.scheduling import card_id; print(card_id('conv-bn-fusion'))"
    seen = {
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True).stdout.strip()
        for seed in ("1", "2", "random")
    }
    assert len(seen) == 1
    expected = int(hashlib.sha256(b"conv-bn-fusion").hexdigest()[:16], 16) // 2
    assert int(seen.pop()) == expected == scheduling.card_id("conv-bn-fusion")
    assert 0 <= expected < 2**63


def test_preview_matches_review_and_changes_nothing():
    """The interval shown for each rating is the one rating it gives, and previewing leaves the card alone."""
    scheduler = scheduling.make_scheduler(fuzzing=False)
    card = scheduling.new_card("receptive-field", NOW)
    before = card.to_dict()
    intervals = scheduling.preview(scheduler, card, NOW)
    assert card.to_dict() == before
    for rating, interval in intervals.items():
        assert scheduler.review_card(card, rating, NOW)[0].due - NOW == interval
    # fsrs v6 defaults: learning steps of 1 and 10 minutes; Easy graduates a new card at once
    assert intervals[Rating.Again] == timedelta(minutes=1)
    assert intervals[Rating.Good] == timedelta(minutes=10)
    assert intervals[Rating.Easy] >= timedelta(days=1)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "<1m"), (60, "1m"), (330, "6m"), (3 * 3600, "3h"), (8 * 86400, "8d"), (63 * 86400, "2.1mo"), (500 * 86400, "1.4y")],
)
def test_interval_format(seconds, text):
    """Intervals read as Anki writes them above its buttons."""
    assert scheduling.format_interval(timedelta(seconds=seconds)) == text


def test_fuzzing_is_on_for_users_and_off_with_qed_fuzz_0(monkeypatch):
    """Users get fuzzed intervals; QED_FUZZ=0 (the tests) gives exact ones."""
    monkeypatch.delenv("QED_FUZZ", raising=False)
    assert scheduling.make_scheduler().enable_fuzzing is True
    monkeypatch.setenv("QED_FUZZ", "0")
    assert scheduling.make_scheduler().enable_fuzzing is False


def test_a_rating_commits_the_card_and_the_review_together(tmp_path):
    """After one rating a second connection sees the card and its review; schema and owner are recorded."""
    db = tmp_path / "r.sqlite3"
    scheduler = scheduling.make_scheduler(fuzzing=False)
    with Store(db) as store:
        card = store.record("dropout", Rating.Good, scheduler, NOW, 1500)
    other = sqlite3.connect(db)
    assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert other.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    row = other.execute("SELECT page_id, card_id, state, due FROM cards").fetchone()
    assert row == ("dropout", scheduling.card_id("dropout"), card.state.value, card.due.timestamp())
    log = other.execute("SELECT page_id, rating, reviewed_at, duration_ms, state_before FROM reviews").fetchall()
    assert log == [("dropout", 3, NOW.timestamp(), 1500, 0)]
    assert other.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_rating_is_applied_to_the_state_in_the_file_not_a_stale_copy(tmp_path):
    """Two sessions rating the same new card Good twice move it through both learning steps, as one would."""
    db = tmp_path / "r.sqlite3"
    scheduler = scheduling.make_scheduler(fuzzing=False)
    with Store(db) as first, Store(db) as second:
        first.record("dropout", Rating.Good, scheduler, NOW)
        card = second.record("dropout", Rating.Good, scheduler, NOW + timedelta(minutes=10))
        assert second.review_count() == 2
    expected, _ = scheduler.review_card(Card(card_id=1, due=NOW), Rating.Good, NOW)
    expected, _ = scheduler.review_card(expected, Rating.Good, NOW + timedelta(minutes=10))
    assert (card.state, card.due) == (expected.state, expected.due) == (State.Review, expected.due)


def test_an_empty_file_becomes_a_database_and_migrations_run_once(tmp_path):
    """A 0-byte file is initialised; reopening a current database changes nothing."""
    db = tmp_path / "r.sqlite3"
    db.touch()
    Store(db).close()
    snapshot = sqlite3.connect(db).execute("SELECT sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    Store(db).close()
    assert sqlite3.connect(db).execute("SELECT sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall() == snapshot
    assert len(snapshot) == 5


def _bad_database(tmp_path, kind: str):
    db = tmp_path / f"{kind}.sqlite3"
    if kind == "not-sqlite":
        db.write_bytes(b"this is a text file, not a database\n" * 10)
    elif kind == "foreign":
        other = sqlite3.connect(db)
        other.execute("CREATE TABLE photos (id INTEGER)")
        other.commit()
        other.close()
    elif kind == "newer":
        Store(db).close()
        other = sqlite3.connect(db)
        other.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        other.close()
    elif kind == "corrupt":
        with Store(db) as store:
            scheduler = scheduling.make_scheduler(fuzzing=False)
            for index in range(400):
                store.record(f"page-{index}", Rating.Good, scheduler, NOW)
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = bytearray(db.read_bytes())
        page = 4096
        rng = random.Random(0)
        for offset in range(2 * page, len(data) - page, page):  # scribble over every b-tree page but the first two
            data[offset + 8 : offset + 200] = rng.randbytes(192)
        db.write_bytes(bytes(data))
    return db


@pytest.mark.parametrize(
    ("kind", "words"),
    [("not-sqlite", "not a SQLite database"), ("foreign", "not a QED review database"),
     ("newer", "newer qed"), ("corrupt", "corrupt")],
)
def test_a_bad_database_is_named_in_one_line_and_left_untouched(tmp_path, kind, words):
    """Garbage, a foreign SQLite file, a newer schema and a corrupt file each give one line naming it; bytes unchanged."""
    db = _bad_database(tmp_path, kind)
    before = db.read_bytes()
    with pytest.raises(StoreError) as raised:
        Store(db)
    message = str(raised.value)
    assert message.startswith(str(db)) and words in message and "\n" not in message
    assert db.read_bytes() == before


def test_a_locked_database_gives_a_one_line_error_after_the_busy_timeout(tmp_path, monkeypatch):
    """While another process holds the write lock, a rating waits QED_BUSY_TIMEOUT and then fails, named."""
    db = tmp_path / "r.sqlite3"
    Store(db).close()
    monkeypatch.setenv("QED_BUSY_TIMEOUT", "0.3")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Store(db) as store:
            started = time.monotonic()
            with pytest.raises(StoreError) as raised:
                store.record("dropout", Rating.Good, scheduling.make_scheduler(fuzzing=False), NOW)
            assert time.monotonic() - started >= 0.25
    finally:
        holder.execute("ROLLBACK")
    assert "locked" in str(raised.value) and str(db) in str(raised.value)
    with Store(db) as store:
        assert store.review_count() == 0


def test_a_directory_is_not_a_database(tmp_path):
    """Pointing --db at a folder is a one-line error."""
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)


def _hammer(db, label, count, go=None):
    return subprocess.Popen(
        [sys.executable, "-c", hammer_script(), str(db), label, str(count), *([str(go)] if go else [])],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "QED_FUZZ": "0"},
    )


def test_sigkill_at_random_points_loses_no_acknowledged_rating(tmp_path):
    """Killed with SIGKILL at 25 random moments, a rating process leaves every rating it acknowledged, and a sound file."""
    rng = random.Random(0)
    db = tmp_path / "r.sqlite3"
    Store(db).close()
    acknowledged_total = 0
    for round_ in range(25):
        child = _hammer(db, "r", 10_000)
        target = rng.randint(1, 40)
        acknowledged = 0
        for line in child.stdout:  # wait for a random number of acknowledgements, then kill mid-stream
            acknowledged = int(line.split()[1])
            if acknowledged >= target:
                break
        time.sleep(rng.random() * 0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        acknowledged_total += acknowledged
        with Store(db) as store:
            assert store.integrity() == "ok"
            count = store.review_count()
        # the child may have committed a few ratings after the last one we read
        assert count >= acknowledged_total
        acknowledged_total = count
    assert acknowledged_total >= 25


def test_two_sessions_at_once_lose_no_review(tmp_path):
    """Two processes rating the same cards at the same time, interleaved, leave all 2 x 300 reviews in the file."""
    db = tmp_path / "r.sqlite3"
    go = tmp_path / "go"
    Store(db).close()
    children = [_hammer(db, label, 300, go) for label in ("a", "b")]
    time.sleep(1.0)  # both processes are up and waiting
    go.touch()
    for child in children:
        child.communicate(timeout=120)
        assert child.returncode == 0
    with Store(db) as store:
        assert store.review_count() == 600
        assert store.integrity() == "ok"
        per_page = dict(store.db.execute("SELECT page_id, count(*) FROM reviews GROUP BY page_id").fetchall())
        writers = [row[0] for row in store.db.execute("SELECT duration_ms FROM reviews ORDER BY id")]
    assert per_page == {"odd-sums": 200, "pooling-toy": 200, "dropout-toy": 200}
    switches = sum(a != b for a, b in zip(writers, writers[1:]))
    assert switches >= 2, "the two writers did not overlap; the test proved nothing"


def test_the_preview_is_unfuzzed_even_when_the_schedule_is_fuzzed():
    """With fuzzing on, the four intervals shown are the unfuzzed ones, the same in every run."""
    card = scheduling.new_card("dropout", NOW)
    card, _ = scheduling.make_scheduler(fuzzing=False).review_card(card, Rating.Easy, NOW)
    later = card.due
    expected = scheduling.preview(scheduling.make_scheduler(fuzzing=False), card, later)
    assert all(scheduling.preview(scheduling.make_scheduler(fuzzing=True), card, later) == expected for _ in range(20))
