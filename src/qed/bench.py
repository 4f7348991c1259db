"""``make bench``: the CLI's speed targets, measured on this machine and printed.

1. ``qed quiz`` shows its first card in under 0.3 s with the whole knowledge base loaded: the time
   from spawning the command in a pseudo-terminal to the first card's key help on screen.
2. ``qed stats`` over 10,000 reviews in under 0.5 s: the whole command, on a database filled with
   10,000 FSRS reviews spread over 120 days.

Each figure is the median of several runs, with the fastest and slowest. Targets are checked here,
never in a timed test (a loaded CI machine would make such a test flaky).
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

QUIZ_TARGET_S = 0.3
STATS_TARGET_S = 0.5
REVIEWS = 10_000


def qed_command() -> list[str]:
    script = Path(sys.executable).with_name("qed")
    return [str(script)] if script.exists() else [sys.executable, "-m", "qed.cli"]


def bench_env(db: Path) -> dict[str, str]:
    return dict(os.environ, QED_DB=str(db), QED_FUZZ="0", TERM="dumb", COLUMNS="100")


def first_card_seconds(db: Path) -> float:
    import pexpect

    command = qed_command()
    start = time.perf_counter()
    child = pexpect.spawn(command[0], [*command[1:], "quiz"], env=bench_env(db), encoding="utf-8", timeout=30)
    child.expect_exact("[Enter] answer")
    elapsed = time.perf_counter() - start
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    return elapsed


def fill(db: Path, page_ids: list[str], reviews: int, seed: int = 0) -> None:
    """``reviews`` FSRS reviews over the last 120 days, written in one transaction (set-up, not measured)."""
    from qed.scheduling import make_scheduler, new_card, now_utc
    from qed.store import INSERT_CARD, INSERT_REVIEW, Store, card_row, review_row

    rng = random.Random(seed)
    scheduler = make_scheduler(fuzzing=False)
    now = now_utc()
    start = now - timedelta(days=120)
    step = timedelta(days=120) / reviews
    cards = {}
    rows = []
    for index in range(reviews):
        page_id = rng.choice(page_ids)
        moment = start + step * index
        card = cards.get(page_id) or new_card(page_id, moment)
        before = 0 if page_id not in cards else card.state.value
        rating = rng.choices([1, 2, 3, 4], weights=[1, 2, 6, 1])[0]
        card, _ = scheduler.review_card(card, rating, moment)
        cards[page_id] = card
        rows.append(review_row(page_id, rating, moment, 4000, before, card.due))
    with Store(db) as store:
        store.db.execute("BEGIN")
        store.db.executemany(INSERT_REVIEW, rows)
        store.db.executemany(INSERT_CARD, [card_row(page_id, card) for page_id, card in cards.items()])
        store.db.execute("COMMIT")


def stats_seconds(db: Path) -> float:
    start = time.perf_counter()
    subprocess.run([*qed_command(), "stats"], env=bench_env(db), check=True, capture_output=True)
    return time.perf_counter() - start


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(function, db: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds of each run, and the CPU seconds its process used (less sensitive to a busy machine)."""
    walls, cpus = [], []
    for _ in range(runs):
        before = children_cpu()
        walls.append(function(db))
        cpus.append(children_cpu() - before)
    return walls, cpus


def report(name: str, samples: tuple[list[float], list[float]], target: float) -> bool:
    walls, cpus = samples
    median = statistics.median(walls)
    ok = median < target
    print(
        f"{name:<40} median {median * 1000:5.0f} ms (min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f},"
        f" n={len(walls)}; CPU {statistics.median(cpus) * 1000:.0f} ms)  target < {target * 1000:.0f} ms"
        f"  {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    from qed.deck import Deck

    deck = Deck.load()
    load = os.getloadavg()[0]
    print(f"knowledge base: {len(deck.pages)} question pages; python {sys.version.split()[0]}; {os.cpu_count()} cores; load {load:.1f}")
    results = []
    with tempfile.TemporaryDirectory(prefix="qed-bench-") as folder:
        quiz_db = Path(folder) / "quiz.sqlite3"
        first_card_seconds(quiz_db)  # warm the file cache and create the database
        results.append(report("qed quiz: first card on screen", measure(first_card_seconds, quiz_db, 9), QUIZ_TARGET_S))
        stats_db = Path(folder) / "stats.sqlite3"
        fill(stats_db, deck.ids, REVIEWS)
        stats_seconds(stats_db)
        results.append(report(f"qed stats, {REVIEWS:,} reviews: whole command", measure(stats_seconds, stats_db, 9), STATS_TARGET_S))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
