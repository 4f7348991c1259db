"""The executed site/ as files: page weight, and claim lists that match what the build ran.

No browser needed; these run in ``make test`` right after the strict build, like the browser tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qed.claims import proof_module_paths, read_claims
from qed.pages import load_pages
from tests.browser.conftest import ROOT, SITE

PROOF_PAGE_BUDGET = 150_000  # bytes of HTML, before compression (issue 9)


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make site` (or mkdocs build) first", pytrace=False)
    return SITE


def test_every_proof_page_is_at_most_150_kb(site):
    sizes = {path.relative_to(site).as_posix(): path.stat().st_size for path in site.glob("answers/*/*.html")}
    assert len(sizes) == len(proof_module_paths(ROOT / "answers"))
    over = {page: size for page, size in sizes.items() if size > PROOF_PAGE_BUDGET}
    assert over == {}, f"over {PROOF_PAGE_BUDGET} bytes: {over}"


def test_plots_are_files_beside_the_pages_not_inline(site):
    pages = [path.read_text(encoding="utf-8") for path in site.glob("answers/*/*.html")]
    assert not any("data:image/png;base64" in page for page in pages)
    referenced = {name for page in pages for name in re.findall(r'src="(?:\.\./)+assets/plots/([0-9a-f]{16}\.\w+)"', page)}
    assert referenced and referenced <= {path.name for path in (site / "assets" / "plots").iterdir()}


def _listed(html: str) -> list[tuple[str, str]]:
    """(module page, claim) of every held-marked claim link on a page."""
    return re.findall(r'class="qed-held"[^>]*>✔</span> <a href="(?:\.\./)*(answers/[^"#]+\.html)#(test_\w+)"', html)


def test_each_question_page_lists_exactly_the_claims_of_its_proofs_as_held(site):
    for page in load_pages(ROOT / "docs"):
        html = (site / page.src_uri.replace(".md", ".html")).read_text(encoding="utf-8")
        expected = [
            (module.replace(".py", ".html"), claim.name) for module in page.proof_modules for claim in read_claims(ROOT / module)
        ]
        assert _listed(html) == expected, page.src_uri
        assert re.search(r"All \d+ held when this site was built \(torch (?:2\.13\.0[^,]*|not imported), Python 3\.\d+\.\d+, run 20\d\d-", html)


def test_the_ledger_lists_every_claim_once_and_every_link_lands_on_its_def(site):
    ledger = (site / "claims.html").read_text(encoding="utf-8")
    listed = _listed(ledger)
    modules = proof_module_paths(ROOT / "answers")
    expected = {(m.relative_to(ROOT).as_posix().replace(".py", ".html"), c.name) for m in modules for c in read_claims(m)}
    assert len(listed) == len(set(listed)) == len(expected) and set(listed) == expected
    ids = {}
    for module_page, claim in listed:
        if module_page not in ids:
            ids[module_page] = set(re.findall(r'id="(test_\w+)"', (site / module_page).read_text(encoding="utf-8")))
        assert claim in ids[module_page], f"{module_page}#{claim}"
    helpers = [m for m in sorted((ROOT / "answers").glob("_*.py")) if read_claims(m)]
    helper_claims = [c.name for m in helpers for c in read_claims(m)]
    shared = ledger[ledger.index('id="shared-helpers"'):]
    assert re.findall(r'class="qed-held"[^>]*>✔</span> <code>(test_\w+)</code>', shared) == helper_claims
    assert f"<strong>{len(expected) + len(helper_claims)} claims</strong>" in ledger


def test_the_cli_and_anki_addresses_name_pages_that_exist(site, monkeypatch):
    """`qed quiz`'s `o` key and the Anki notes link a page by address; each must be a file of the built site."""
    from qed.deck import Deck

    monkeypatch.setenv("QED_SITE_URL", "http://qed.invalid/")
    deck = Deck.load(ROOT)
    for page in deck.pages:
        path = deck.url(page).removeprefix("http://qed.invalid/")
        assert (site / path).is_file(), deck.url(page)
