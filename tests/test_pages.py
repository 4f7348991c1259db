"""The anatomy of every question page and proof module, and the links between them."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest
from mkdocs.utils import yaml_load

from qed.claims import proof_module_paths, read_claims
from qed.inventory import load_inventory
from qed.pages import cited_claims, page_paths, parse_page
from tests._support import ROOT

PAGE_PATHS = page_paths(ROOT / "docs")
PROOF_PATHS = proof_module_paths(ROOT / "answers")
CLAIM_MODULES = sorted((ROOT / "answers").rglob("*.py"))


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_there_are_pages_and_proofs():
    assert len(PAGE_PATHS) >= 8 and len(PROOF_PATHS) >= 8


@pytest.mark.parametrize("path", PAGE_PATHS, ids=_id)
def test_page_follows_the_anatomy(path):
    """Parsing checks fields, tags, level, id == file stem, the H1 question, section order, short answer."""
    parse_page(path)


def test_page_ids_are_unique(pages):
    counts = Counter(page.id for page in pages)
    assert [page_id for page_id, n in counts.items() if n > 1] == []


def test_every_source_id_exists_and_is_answered_by_one_page_only(pages):
    inventory = load_inventory()
    owners: dict[str, list[str]] = {}
    for page in pages:
        for source in page.sources:
            assert source in inventory, f"{page.path}: source {source} is not in the inventory"
            owners.setdefault(source, []).append(page.id)
    assert {s: o for s, o in owners.items() if len(o) > 1} == {}


def test_zh_titles_are_the_original_titles_of_the_sources(pages):
    inventory = load_inventory()
    for page in pages:
        for source, title in zip(page.sources, page.zh, strict=True):
            assert " ".join(title.split()) in " ".join(inventory[source].title.split()), (
                f"{page.path}: zh {title!r} is not part of the original title of {source}: {inventory[source].title!r}"
            )


def test_each_page_links_to_existing_proof_modules_of_its_own_section(pages):
    for page in pages:
        assert page.proof_modules, f"{page.path}: '## Proof' links no proof module"
        for module in page.proof_modules:
            path = ROOT / module
            assert path.is_file(), f"{page.path}: proof link {module} does not exist"
            assert path.parent.name == page.section, f"{page.path}: proof {module} is in another section"
        assert f"answers/{page.section}/{page.module_stem}.py" in page.proof_modules, (
            f"{page.path}: its own proof answers/{page.section}/{page.module_stem}.py is not linked"
        )


def test_each_proof_module_belongs_to_exactly_one_page(pages):
    linked = Counter(module for page in pages for module in page.proof_modules)
    for path in PROOF_PATHS:
        assert linked[_id(path)] == 1, f"{_id(path)} is linked from {linked[_id(path)]} pages (expected 1)"


def test_every_wrong_answer_is_a_failure_admonition_citing_an_existing_claim(pages):
    for page in pages:
        wrong = page.wrong_answers
        assert wrong, f"{page.path}: '## Common wrong answers' has no entry"
        raw = [line for line in page.sections["Common wrong answers"].splitlines() if line[:3] in {"???", "!!!"}]
        assert len(raw) == len(wrong)
        claims = {claim.name for module in page.proof_modules for claim in read_claims(ROOT / module)}
        for entry in wrong:
            assert entry.kind == "failure", f"{page.path}: wrong answer {entry.title!r} is not a 'failure' admonition"
            assert entry.claims, f"{page.path}: wrong answer {entry.title!r} cites no claim (`test_...`)"
            unknown = set(entry.claims) - claims
            assert not unknown, f"{page.path}: wrong answer {entry.title!r} cites unknown claims {sorted(unknown)}"


def test_claims_cited_in_the_explanation_exist(pages):
    for page in pages:
        claims = {claim.name for module in page.proof_modules for claim in read_claims(ROOT / module)}
        for section in ("Explanation", "Follow-ups"):
            cited = cited_claims(page.sections.get(section, ""))
            assert set(cited) <= claims, f"{page.path}: '## {section}' cites unknown claims {sorted(set(cited) - claims)}"


@pytest.mark.parametrize("path", CLAIM_MODULES, ids=_id)
def test_claims_take_no_arguments_have_a_docstring_and_unique_names(path):
    claims = read_claims(path)
    for claim in claims:
        assert claim.arguments == 0, f"{claim.name} takes arguments; a claim is run without fixtures"
        assert claim.doc, f"{claim.name} has no docstring stating the claim"
        assert claim.doc.endswith("."), f"{claim.name}: the docstring is one sentence ending with '.'"
    assert len({c.name for c in claims}) == len(claims)


@pytest.mark.parametrize("path", PROOF_PATHS, ids=_id)
def test_proof_module_is_an_essay_ending_with_the_checklist(path):
    """Percent format: a Markdown cell with an H1 first, at least two claims, the run_claims cell last."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # "), "the first cell is Markdown with an H1 title"
    assert len(read_claims(path)) >= 2, "a proof has at least two claims"
    last_cell = text.rsplit("# %%", 1)[1]
    tree = ast.parse(last_cell.split("\n", 1)[1])
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.If), "the last cell is `if __name__ == '__main__':`"
    assert "run_claims(globals())" in last_cell


def _nav_paths(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [p for item in node for p in _nav_paths(item)]
    if isinstance(node, dict):
        return [p for value in node.values() for p in _nav_paths(value)]
    return []


def test_every_page_and_section_index_is_in_the_nav(pages):
    with (ROOT / "mkdocs.yml").open(encoding="utf-8") as handle:
        nav = set(_nav_paths(yaml_load(handle)["nav"]))
    missing = sorted(page.src_uri for page in pages if page.src_uri not in nav)
    assert missing == []
    indexes = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").glob("*/index.md")}
    assert indexes <= nav
