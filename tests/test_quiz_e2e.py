"""``qed quiz`` driven in a real pseudo-terminal (pexpect), key by key, then the database checked."""

from __future__ import annotations

import random
import signal
import sqlite3
import time

import pexpect
import pytest

from tests._deck import deck_env, make_deck
from tests._support import BIN

CARD = "[Enter] answer"  # the key help under every card's question
RATE = "[1-4] rate"  # the key help under a revealed answer


@pytest.fixture
def kb(tmp_path):
    return make_deck(tmp_path / "kb"), tmp_path / "reviews.sqlite3"


def spawn(kb, *args: str, **env: str) -> pexpect.spawn:
    root, db = kb
    child = pexpect.spawn(
        str(BIN / "qed"), ["quiz", *args], env=deck_env(root, db, **env), encoding="utf-8", timeout=60,
        dimensions=(50, 100),
    )
    return child


def reviews(db) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return connection.execute("SELECT page_id, rating FROM reviews ORDER BY id").fetchall()


def current_card(child) -> str:
    """The id of the card on screen, read back from the question shown (toy questions are unique)."""
    questions = {
        "What do the first n odd numbers": "odd-sums",
        "What does a toy pooling page ask": "pooling-toy",
        "Why does the toy dropout page exist": "dropout-toy",
        "Which toy proof fails on purpose": "broken-proof",
    }
    for text, page_id in questions.items():
        if text in child.before:
            return page_id
    raise AssertionError(f"no known question on screen: {child.before[-300:]!r}")


def test_a_session_with_every_key(kb):
    """c lists claims, r runs them, o prints the address, Enter reveals intervals, 1-4 rate, s skips, q quits."""
    child = spawn(kb, "--new", "4")
    child.expect_exact(CARD)
    first = current_card(child)  # new cards come in nav order: convolution first
    assert first == "broken-proof"
    child.send("c")
    child.expect_exact("test_false_on_purpose: Two plus two is five")
    child.send("r")
    child.expect_exact("1 passed, 1 failed")
    child.send("o")
    child.expect_exact("Page: http://127.0.0.1:8000/convolution/broken-proof.html")
    child.send("2")  # a rating before the answer is shown is refused
    child.expect_exact("Press Enter to see the answer first.")
    child.send("\r")
    child.expect_exact("one of its claims asserts something false")
    child.expect(r"1 Again 1m\s+2 Hard 6m\s+3 Good 10m\s+4 Easy 8d")
    child.send("4")
    child.expect_exact("Easy · due in 8d")
    child.expect_exact(CARD)
    assert current_card(child) == "pooling-toy"
    child.send("s")
    child.expect_exact("Skipped.")
    child.expect_exact(CARD)
    assert current_card(child) == "dropout-toy"
    child.send("\r")
    child.expect_exact(RATE)
    child.send("1")
    child.expect_exact("Again · due in 1m")
    child.expect_exact(CARD)
    assert current_card(child) == "odd-sums"
    child.send("\r")
    child.expect_exact(RATE)
    child.send("3")
    child.expect_exact("Good · due in 10m")
    child.expect_exact(CARD)  # the card failed a minute ago comes back (learn-ahead, as in Anki)
    assert current_card(child) == "dropout-toy"
    child.send("q")
    child.expect(r"Reviewed 3 cards · again-rate 33% \(1 again\) · 1 skipped · next due")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert reviews(kb[1]) == [("broken-proof", 4), ("dropout-toy", 1), ("odd-sums", 3)]


def test_new_card_limit_holds_across_sessions_of_the_same_day(kb):
    """With --new 2, a second session the same day offers no new card and says why."""
    child = spawn(kb, "--new", "2")
    for _ in range(2):
        child.expect_exact(CARD)
        child.send("\r")
        child.expect_exact(RATE)
        child.send("4")
    child.expect(r"Reviewed 2 cards")
    child.expect(pexpect.EOF)
    again = spawn(kb, "--new", "2")
    again.expect_exact("Nothing due now and no new cards left for today (--new 2). Next due in 8d.")
    again.expect(pexpect.EOF)
    assert len(reviews(kb[1])) == 2


def test_chinese_first_and_filters(kb):
    """--lang zh puts the Chinese title first; --section limits the cards to that section."""
    child = spawn(kb, "--lang", "zh", "--section", "pooling")
    child.expect_exact("Pooling层的作用以及如何进行反向传播")
    child.expect_exact("What does a toy pooling page ask?")
    child.expect_exact(CARD)
    child.send("\r")
    child.expect_exact(RATE)
    child.send("4")  # Easy: due in days, so the session ends (a Good card would come back in 10 minutes)
    child.expect(r"Reviewed 1 card ")
    child.expect(pexpect.EOF)


def test_cram_leaves_the_schedule_alone(kb):
    """--cram shows cards and takes ratings but writes nothing to the database."""
    child = spawn(kb, "--cram", "--tag", "dropout")
    child.expect_exact(CARD)
    child.send("\r")
    child.expect_exact(RATE)
    child.send("2")
    child.expect_exact("Hard · cram: schedule unchanged")
    child.expect(r"cram: the schedule was not changed")
    child.expect(pexpect.EOF)
    assert reviews(kb[1]) == []


@pytest.mark.parametrize("ending", ["\x04", "\x03"], ids=["ctrl-d", "ctrl-c"])
def test_ctrl_d_and_ctrl_c_end_with_a_summary(kb, ending):
    """Ctrl-D and Ctrl-C end the session with its summary; the rating given before stays."""
    child = spawn(kb)
    child.expect_exact(CARD)
    child.send("\r")
    child.expect_exact(RATE)
    child.send("3")
    child.expect_exact(CARD)
    child.send(ending)
    child.expect(r"Reviewed 1 card · again-rate 0%")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert len(reviews(kb[1])) == 1


def test_sigkill_mid_session_keeps_every_rating_given(kb):
    """A quiz killed with SIGKILL at random points keeps every rating it acknowledged, eight times over."""
    rng = random.Random(1)
    given = 0
    for _ in range(8):
        child = spawn(kb, "--new", "4")
        acknowledged = 0
        target = rng.randint(0, 2)
        on_card = child.expect_exact([CARD, "Nothing due now"]) == 0
        while on_card and acknowledged < target:
            child.send("\r")
            child.expect_exact(RATE)
            child.send(rng.choice("1234"))
            child.expect(r"(Again|Hard|Good|Easy) · due")
            acknowledged += 1
            on_card = child.expect_exact([CARD, "Reviewed"]) == 0
        in_flight = False
        moment = rng.random()
        if on_card and moment < 0.33:
            child.send("\r")  # killed with an answer on screen
        elif on_card and moment < 0.66:
            child.send("\r")
            child.expect_exact(RATE)
            child.send(rng.choice("1234"))  # killed while a rating may be being written
            in_flight = True
        time.sleep(rng.random() * 0.02)
        child.kill(signal.SIGKILL)
        child.close(force=True)
        given += acknowledged
        count = len(reviews(kb[1]))  # the file is sound (integrity_check) and holds every acknowledged rating
        assert count == given or (in_flight and count == given + 1)
        given = count


def test_two_quiz_sessions_at_once_lose_no_review(kb):
    """Two sessions on one database, rating alternately, leave every rating in the file."""
    first, second = spawn(kb, "--new", "4"), spawn(kb, "--new", "4")
    for child in (first, second):
        child.expect_exact(CARD)
    for _ in range(2):
        for child in (first, second):
            child.send("\r")
            child.expect_exact(RATE)
            child.send("3")
            child.expect_exact("Good · due")
            child.expect_exact(CARD)
    for child in (first, second):
        child.send("q")
        child.expect(r"Reviewed 2 cards")
        child.expect(pexpect.EOF)
    assert len(reviews(kb[1])) == 4
