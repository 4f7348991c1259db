"""The inventory of source questions: every question of the five source notes, with its id.

The data file ``data/inventory.tsv`` is generated from ``shared/questions.md`` by
``python -m qed.inventory PATH/TO/questions.md`` and committed, so the project checks its own
coverage without the shared folder. ``tests/test_inventory.py`` checks that the two still agree.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

FIELDS = ("id", "section", "title", "english", "kind")
_ID = re.compile(r"^S\d\.\d+$")
_SECTION = re.compile(r"^## (\d+|Appendix)\b")


@dataclass(frozen=True)
class SourceQuestion:
    id: str
    section: str  # the inventory's section number ("1".."15") or "appendix"
    title: str  # the original title, copied from the note (typos kept)
    english: str
    kind: str  # verifiable, conceptual or opinion

    @property
    def seed(self) -> int:
        return int(self.id[1])


def parse_questions_md(text: str) -> list[SourceQuestion]:
    """Read the question tables of ``questions.md`` (the merge table and the sources table are skipped)."""
    questions: list[SourceQuestion] = []
    section = None
    for line in text.splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1).lower()
            continue
        if line.startswith("## "):
            section = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if section is None or len(cells) != 4 or not _ID.match(cells[0]):
            continue
        questions.append(SourceQuestion(cells[0], section, *cells[1:]))
    return questions


def write_tsv(questions: list[SourceQuestion], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(FIELDS)
        for q in questions:
            writer.writerow([getattr(q, field) for field in FIELDS])


@cache
def load_inventory() -> dict[str, SourceQuestion]:
    """All source questions by id, in the order of the inventory."""
    text = resources.files("qed").joinpath("data/inventory.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return {row["id"]: SourceQuestion(**row) for row in rows}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m qed.inventory PATH/TO/questions.md", file=sys.stderr)
        return 2
    questions = parse_questions_md(Path(argv[0]).read_text(encoding="utf-8"))
    target = Path(__file__).with_name("data") / "inventory.tsv"
    write_tsv(questions, target)
    print(f"wrote {len(questions)} source questions to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
