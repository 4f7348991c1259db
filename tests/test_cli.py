"""Every ``qed`` command through typer's runner, on a toy knowledge base and on the real one."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest
from fsrs import Rating
from typer.testing import CliRunner

from qed.cli import app
from qed.pages import load_pages
from qed.scheduling import make_scheduler, now_utc
from qed.store import Store
from tests._deck import make_deck
from tests._support import ROOT

runner = CliRunner()


@pytest.fixture
def deck(tmp_path, monkeypatch):
    root = make_deck(tmp_path / "kb")
    monkeypatch.setenv("QED_ROOT", str(root))
    monkeypatch.setenv("QED_DB", str(tmp_path / "reviews.sqlite3"))
    monkeypatch.setenv("QED_FUZZ", "0")
    monkeypatch.setenv("COLUMNS", "120")
    return root


def qed(*args: str):
    return runner.invoke(app, list(args))


def test_list_shows_every_question_and_filters(deck):
    """`qed list` lists all four toy questions; --tag, --section and --level narrow it."""
    result = qed("list")
    assert result.exit_code == 0, result.output
    for page_id in ("odd-sums", "pooling-toy", "dropout-toy", "broken-proof"):
        assert page_id in result.output
    assert "4 questions" in result.output
    narrowed = qed("list", "--tag", "dropout")
    assert "1 questions" in narrowed.output and "dropout-toy" in narrowed.output
    assert "odd-sums" not in qed("list", "--section", "pooling").output
    assert "broken-proof" in qed("list", "--level", "3").output and "odd-sums" not in qed("list", "--level", "3").output


@pytest.mark.parametrize(
    ("args", "first_suggestion"),
    [
        (["list", "--tag", "dropuot"], "dropout"),
        (["list", "--section", "convolutoin"], "convolution"),
        (["list", "--level", "4"], "1 (screening)"),
        (["show", "odd-sum"], "odd-sums"),
        (["verify", "pooling-tay"], "pooling-toy"),
    ],
)
def test_unknown_values_give_one_line_with_the_nearest_first(deck, args, first_suggestion):
    """An unknown id, tag, section or level exits 2 with one line listing the valid values, nearest first."""
    result = qed(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qed: error: unknown ")
    assert lines[0].split("valid: ", 1)[1].startswith(first_suggestion)


def test_show_prints_question_chinese_answer_explanation_and_claims(deck):
    """`qed show` prints the H1, the Chinese title, both answer sections with TeX readable, and the claims."""
    result = qed("show", "odd-sums")
    assert result.exit_code == 0, result.output
    for text in ("What do the first n odd numbers add up to?", "判断一棵树是否为完全二叉树", "Short answer",
                 "n^2", "Explanation", "x_i^2", "test_odd_sums_are_squares", "http://127.0.0.1:8000/algorithms/odd-sums.html"):
        assert text in result.output


def test_verify_runs_the_proofs_and_reports_each_claim(deck):
    """`qed verify` passes a sound proof (exit 0) and names the failing claim of a broken one (exit 1)."""
    good = qed("verify", "odd-sums", "pooling-toy")
    assert good.exit_code == 0, good.output
    assert good.output.count("✔") == 4 and "4 passed" not in good.output and "2 passed, 0 failed" in good.output
    bad = qed("verify", "broken-proof")
    assert bad.exit_code == 1
    assert "✘ test_false_on_purpose" in bad.output and "✔ test_true_claim" in bad.output
    assert qed("verify").exit_code == 2
    every = qed("verify", "--all")
    assert every.exit_code == 1 and every.output.count("✔") == 7 and every.output.count("✘") == 1


def test_quiz_without_a_terminal_is_a_clear_error(deck):
    """`qed quiz` with stdin not a terminal exits 2 with one line instead of hanging."""
    result = qed("quiz")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "needs a terminal" in result.stderr


def test_a_broken_page_is_named_with_its_field(deck):
    """A page whose front matter lacks a field makes every command name the file and the field, exit 2."""
    page = deck / "docs" / "pooling" / "pooling-toy.md"
    page.write_text(page.read_text(encoding="utf-8").replace("level: 2\n", ""), encoding="utf-8")
    for args in (["list"], ["show", "odd-sums"], ["stats"]):
        result = qed(*args)
        assert result.exit_code == 2
        assert result.stderr.strip() == f"qed: error: {page}: front matter is missing field 'level'"


def test_stats_counts_due_reviews_streak_retention_and_retired(deck, tmp_path):
    """`qed stats` agrees with a review log built by hand: due, reviews today, streak, retention, retired cards."""
    scheduler = make_scheduler(fuzzing=False)
    now = now_utc()
    with Store(tmp_path / "reviews.sqlite3") as store:
        # odd-sums: graduated three days ago, then reviewed (mature) and passed yesterday and failed today
        store.record("odd-sums", Rating.Easy, scheduler, now - timedelta(days=30))
        store.record("odd-sums", Rating.Good, scheduler, now - timedelta(days=1))
        store.record("odd-sums", Rating.Again, scheduler, now)
        store.record("dropout-toy", Rating.Good, scheduler, now)  # learning, due in 10 minutes
        store.record("gone-page", Rating.Good, scheduler, now)  # its page no longer exists
    result = qed("stats")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Reviews today 3" in text
    assert "Daily streak 2 days" in text
    assert "True retention (30 d) 50.0% of 2 mature reviews" in text
    assert "Retired cards 1" in text
    assert "New (never seen) 2" in text
    assert "Due this week 2" in text
    assert "Reviews per day" in result.output


def test_export_anki_writes_notes_with_stable_guids(deck, tmp_path):
    """The .apkg holds one note per question with its fields and tags; a re-export after an edit keeps every GUID."""
    import genanki

    target = tmp_path / "deck.apkg"
    assert qed("export", "anki", str(target)).exit_code == 0

    def read(path):
        with zipfile.ZipFile(path) as package:
            package.extract("collection.anki2", tmp_path / "unzipped")
        db = sqlite3.connect(tmp_path / "unzipped" / "collection.anki2")
        notes = {row[0]: row[1:] for row in db.execute("SELECT guid, flds, tags FROM notes")}
        decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
        db.close()
        return notes, decks

    notes, decks = read(target)
    assert len(notes) == 4
    guid = genanki.guid_for("qed", "odd-sums")
    fields, tags = notes[guid]
    page_id, question, chinese, answer, address, sources = fields.split("\x1f")
    assert (page_id, question, chinese, sources) == (
        "odd-sums", "What do the first n odd numbers add up to?", "判断一棵树是否为完全二叉树", "S2.12")
    assert "\\(n^2\\)" in answer and "<p>" in answer
    assert address == "http://127.0.0.1:8000/algorithms/odd-sums.html"
    assert set(tags.split()) == {"algorithms", "level-1"}
    deck_ids = {int(key) for key, value in decks.items() if value["name"].startswith("QED")}

    page = deck / "docs" / "algorithms" / "odd-sums.md"
    page.write_text(page.read_text(encoding="utf-8").replace("They add up", "They always add up"), encoding="utf-8")
    assert qed("export", "anki", str(target)).exit_code == 0
    again, decks_again = read(target)
    assert set(again) == set(notes)
    assert "always add up" in again[guid][0]
    assert {int(key) for key, value in decks_again.items() if value["name"].startswith("QED")} == deck_ids


def test_export_refuses_a_name_without_apkg(deck, tmp_path):
    """Anki only imports .apkg files; another suffix is a one-line error and nothing is written."""
    result = qed("export", "anki", str(tmp_path / "deck.zip"))
    assert result.exit_code == 2 and "must end in .apkg" in result.stderr
    assert not (tmp_path / "deck.zip").exists()


def test_the_real_knowledge_base_loads_in_the_cli():
    """On the real pages, `qed list` lists every question page and `qed show` renders one with its claims."""
    pages = load_pages(ROOT / "docs")
    result = runner.invoke(app, ["list"], env={"COLUMNS": "200", "QED_ROOT": str(ROOT), "QED_DB": ":memory:"})
    assert result.exit_code == 0, result.output
    assert f"{len(pages)} questions" in result.output
    shown = runner.invoke(app, ["show", "conv-bn-fusion"], env={"COLUMNS": "200", "QED_ROOT": str(ROOT)})
    assert shown.exit_code == 0 and "test_" in shown.output


def test_the_cli_never_imports_torch(tmp_path):
    """list, show, stats, export and a whole quiz session (keys from a script) run without importing torch,
    nor numpy or pydantic (each adds startup time before the first card)."""
    make_deck(tmp_path / "kb")
    code = f"""
import sys
from typer.testing import CliRunner
from qed.cli import app
from qed.deck import Deck
from qed.quiz import Session
from qed.scheduling import make_scheduler
from qed.store import Store
from rich.console import Console
import io
runner = CliRunner()
for args in (["list"], ["show", "odd-sums"], ["stats"], ["export", "anki", {str(tmp_path / "d.apkg")!r}]):
    assert runner.invoke(app, args).exit_code == 0, args
deck = Deck.load()
keys = iter("c\\r3\\r1q")
with Store({str(tmp_path / "r.sqlite3")!r}) as store:
    Session(deck, store, deck.pages, Console(file=io.StringIO()), lambda: next(keys), scheduler=make_scheduler()).run()
    assert store.review_count() == 2
print("torch" in sys.modules, "numpy" in sys.modules, "pydantic" in sys.modules)
"""
    env = {"QED_ROOT": str(tmp_path / "kb"), "QED_DB": str(tmp_path / "r.sqlite3"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "False"]


def test_editing_a_page_keeps_its_schedule_and_a_removed_page_keeps_its_history(deck, tmp_path):
    """The page id is the key: new text keeps the card's state; a deleted page is hidden, counted retired, its log kept."""
    with Store(tmp_path / "reviews.sqlite3") as store:
        store.record("odd-sums", Rating.Easy, make_scheduler(fuzzing=False), now_utc())
        store.record("pooling-toy", Rating.Good, make_scheduler(fuzzing=False), now_utc())
    page = deck / "docs" / "algorithms" / "odd-sums.md"
    page.write_text(page.read_text(encoding="utf-8").replace("What do the first n odd", "What, exactly, do the first n odd"), encoding="utf-8")
    (deck / "docs" / "pooling" / "pooling-toy.md").unlink()
    listed = qed("list").output
    row = next(line for line in listed.splitlines() if "odd-sums" in line)
    assert "review" in row and "in 8d" in row
    assert "pooling-toy" not in listed and "3 questions" in listed
    assert "Retired cards 1" in " ".join(qed("stats").output.split())
    with Store(tmp_path / "reviews.sqlite3") as store:
        assert store.review_count() == 2


@pytest.mark.parametrize("command", [["stats"], ["list"]])
def test_a_bad_review_database_is_one_line_exit_2_and_untouched(deck, tmp_path, command):
    """A review file that is not a database makes the CLI print one line naming it, exit 2, and leave it as it was."""
    bad = tmp_path / "notes.txt"
    bad.write_text("my notes, not a database\n" * 50, encoding="utf-8")
    before = bad.read_bytes()
    result = qed(*command, "--db", str(bad))
    assert result.exit_code == 2
    assert result.stderr == f"qed: error: {bad}: is not a SQLite database (left untouched)\n"
    assert bad.read_bytes() == before
