"""A small throwaway knowledge base for the CLI tests: real page anatomy, proofs without torch.

``make_deck(tmp_path)`` writes ``docs/<section>/<id>.md`` and ``answers/<section>/<module>.py``
for the pages in ``PAGES`` (a claim of ``broken-proof`` fails on purpose) and returns the root.
Point the CLI at it with ``QED_ROOT``. The real knowledge base is never modified.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

# id, section, level, tags, sources, zh, question, short answer (with math), proof claims
PAGES = [
    ("odd-sums", "algorithms", 1, ["algorithms"], ["S2.12"], ["判断一棵树是否为完全二叉树"],
     "What do the first n odd numbers add up to?", "They add up to $n^2$: each odd number $2k-1$ grows the square by one L-shaped border.",
     ["test_odd_sums_are_squares", "test_squares_differ_by_odd_numbers"]),
    ("pooling-toy", "pooling", 2, ["pooling"], ["S1.35"], ["Pooling层的作用以及如何进行反向传播"],
     "What does a toy pooling page ask?", "A **toy** answer with a formula $y_i = \\max_j x_{ij}$ and no more.",
     ["test_max_is_an_upper_bound", "test_max_of_constants"]),
    ("dropout-toy", "regularization", 2, ["regularization", "dropout"], ["S4.2"], ["dropout为什么能解决过拟合?"],
     "Why does the toy dropout page exist?", "To test filters: it carries the dropout tag.",
     ["test_halving_twice_is_a_quarter", "test_sum_is_commutative"]),
    ("broken-proof", "convolution", 3, ["convolution"], ["S2.5"], ["一个3×3的卷积核经过两层后，它的感受野是多少？"],
     "Which toy proof fails on purpose?", "This one: one of its claims asserts something false.",
     ["test_true_claim", "test_false_on_purpose"]),
]

CLAIM = '''
def {name}():
    """{doc}"""
    assert {expr}
'''
EXPRESSIONS = {
    "test_odd_sums_are_squares": ("The first n odd numbers sum to n squared, by brute force.", "all(sum(range(1, 2 * n, 2)) == n * n for n in range(30))"),
    "test_squares_differ_by_odd_numbers": ("Consecutive squares differ by consecutive odd numbers.", "all((n + 1) ** 2 - n * n == 2 * n + 1 for n in range(30))"),
    "test_max_is_an_upper_bound": ("The maximum bounds every element from above.", "all(x <= max([3, 1, 2]) for x in [3, 1, 2])"),
    "test_max_of_constants": ("The maximum of equal numbers is that number.", "max([5, 5, 5]) == 5"),
    "test_halving_twice_is_a_quarter": ("Halving twice is taking a quarter.", "(8 / 2) / 2 == 8 / 4"),
    "test_sum_is_commutative": ("Addition does not depend on order.", "sum([1, 2, 3]) == sum([3, 2, 1])"),
    "test_true_claim": ("Two plus two is four.", "2 + 2 == 4"),
    "test_false_on_purpose": ("Two plus two is five (false on purpose).", "2 + 2 == 5"),
}


def page_text(page_id, section, level, tags, sources, zh, question, answer, claims) -> str:
    module = page_id.replace("-", "_")
    zh_lines = "".join(f"  - {line}\n" for line in zh)
    return (
        f"---\nid: {page_id}\ntitle: {page_id.replace('-', ' ').capitalize()}\ntags: [{', '.join(tags)}]\n"
        f"level: {level}\nsources: [{', '.join(sources)}]\nzh:\n{zh_lines}---\n\n# {question}\n\n"
        f"## Short answer\n\n{answer}\n\n## Explanation\n\nThe explanation of {page_id}, with $x_i^2$ kept as TeX.\n\n"
        f"## Proof\n\n[`answers/{section}/{module}.py`](../answers/{section}/{module}.py)\n\n"
        f"## Common wrong answers\n\n??? failure \"A wrong answer\"\n    **Refuted by:** `{claims[0]}`\n"
    )


def make_deck(root: Path, pages=PAGES) -> Path:
    for page_id, section, level, tags, sources, zh, question, answer, claims in pages:
        docs = root / "docs" / section
        docs.mkdir(parents=True, exist_ok=True)
        (docs / f"{page_id}.md").write_text(
            page_text(page_id, section, level, tags, sources, zh, question, answer, claims), encoding="utf-8"
        )
        answers = root / "answers" / section
        answers.mkdir(parents=True, exist_ok=True)
        body = "".join(CLAIM.format(name=name, doc=EXPRESSIONS[name][0], expr=EXPRESSIONS[name][1]) for name in claims)
        (answers / f"{page_id.replace('-', '_')}.py").write_text(body, encoding="utf-8")
    return root


def deck_env(root: Path, db: Path, **extra: str) -> dict[str, str]:
    """The environment for a CLI process on the toy deck: fixed intervals, no colour, a fixed width."""
    return {
        **os.environ,
        "QED_ROOT": str(root),
        "QED_DB": str(db),
        "QED_FUZZ": "0",
        "TERM": "dumb",
        "COLUMNS": "100",
        "NO_COLOR": "1",
        **extra,
    }


def hammer_script() -> str:
    """A child process that rates cards in a loop, printing how many ratings it has committed.

    Arguments: database, a one-letter label, the number of ratings, and optionally a file whose
    appearance starts the loop."""
    return textwrap.dedent(
        """
        import os, sys, time
        from fsrs import Rating
        from qed.scheduling import make_scheduler, now_utc
        from qed.store import Store

        db, label, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
        go = sys.argv[4] if len(sys.argv) > 4 else None
        ids = ["odd-sums", "pooling-toy", "dropout-toy"]
        scheduler = make_scheduler(fuzzing=False)
        with Store(db) as store:
            while go and not os.path.exists(go):  # start together with the other writer
                time.sleep(0.001)
            for index in range(count):
                # duration_ms carries the writer's label, so a test can see the two interleave
                store.record(ids[index % 3], Rating(1 + index % 4), scheduler, now_utc(), ord(label[0]))
                if go:
                    time.sleep(0.002)  # a person pauses between ratings; without it SQLite lets one writer starve the other
                print(f"{label} {index + 1}", flush=True)
        """
    )
