"""The inventory of source questions: complete, unique, and in step with shared/questions.md."""

from pathlib import Path

import pytest

from qed.inventory import load_inventory, parse_questions_md
from qed.pages import load_sections

SHARED = Path(__file__).resolve().parents[2] / "shared" / "questions.md"


def test_inventory_has_all_149_source_questions_once():
    inventory = load_inventory()
    assert len(inventory) == 149
    assert {q.seed for q in inventory.values()} == {0, 1, 2, 3, 4}
    assert all(q.kind in {"verifiable", "conceptual", "opinion"} for q in inventory.values())


@pytest.mark.skipif(not SHARED.exists(), reason="shared/questions.md is not beside this checkout")
def test_inventory_matches_shared_questions_md():
    expected = parse_questions_md(SHARED.read_text(encoding="utf-8"))
    assert list(load_inventory().values()) == expected


def test_every_inventory_section_belongs_to_exactly_one_site_section():
    owners = [number for section in load_sections() for number in section["inventory"]]
    assert sorted(owners) == sorted({q.section for q in load_inventory().values()})
