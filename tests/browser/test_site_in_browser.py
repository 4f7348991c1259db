"""What a reader sees in Chromium: the home page, search in two languages, math, plots, quiz mode.

Runs against the built ``site/`` (see ``conftest.py``): the executed build, so the proof pages carry
their outputs and plots.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from qed.pages import load_pages
from tests.browser.conftest import NO_BROWSER, ROOT, screenshot

if NO_BROWSER:  # one line in the summary for the whole module
    pytest.skip(NO_BROWSER, allow_module_level=True)

QUESTION = "convolution/receptive-field.html"
PROOF = "answers/convolution/receptive_field.html"
OTHER_QUESTION = "normalization/batch-norm.html"


def test_home_page_renders_with_live_counts(site):
    """The home page shows the title, the four counts, and the three ways to use QED."""
    page = site("index.html")
    expect(page.locator("article h1")).to_have_text(re.compile(r"^QED"))
    cells = page.locator("article table td").all_inner_texts()
    pages = load_pages(ROOT / "docs")
    answered = len({source for p in pages for source in p.sources})
    assert cells[0] == str(len(pages)) and cells[3] == f"{answered} of 149"
    assert int(cells[1]) > len(pages) and int(cells[2]) > 0
    for way in ("Read.", "Verify.", "Quiz."):
        expect(page.locator("article").get_by_text(way, exact=True).first).to_be_visible()
    screenshot(page, "home")


def search(page, query: str):
    page.locator("label.md-search__icon, .md-search__input").first.click()
    field = page.locator("input.md-search__input")
    field.fill(query)
    results = page.locator(".md-search-result__item a")
    expect(results.first).to_be_visible(timeout=15_000)
    return results


@pytest.mark.parametrize("query", ["感受野", "receptive field"])
def test_search_finds_the_receptive_field_page_in_either_language(site, query):
    """Material's search, with jieba's segmentation at build time, finds the page by its Chinese or English name."""
    page = site("index.html")
    results = search(page, query)
    # material appends ?h=<query> (search.highlight) to each result's link
    expect(page.locator(f'.md-search-result__item a[href*="/{QUESTION}"]').first).to_be_attached()


def all_results(page) -> list[str]:
    """Every result's link: material renders ten at a time and more as the list scrolls."""
    items = page.locator(".md-search-result__item")
    seen = -1
    while items.count() != seen:
        seen = items.count()
        page.locator(".md-search__scrollwrap").evaluate("e => e.scrollTo(0, e.scrollHeight)")
        page.wait_for_timeout(200)
    return page.locator(".md-search-result__item a").evaluate_all("els => els.map(e => e.href)")


def test_search_finds_a_glossary_term_and_the_pages_using_it_by_its_chinese_name(site):
    """批归一化 finds the glossary's batch normalization entry first, and the BatchNorm page among the rest."""
    page = site("index.html")
    search(page, "批归一化")
    first = page.locator(".md-search-result__item a").first
    expect(first).to_have_attribute("href", re.compile(r"glossary\.html"))
    hrefs = all_results(page)
    assert any("glossary.html" in h and "#batch-normalization" in h for h in hrefs), hrefs[:5]
    assert any("/normalization/batch-norm.html" in h for h in hrefs), hrefs


# The text a reader sees in the article, minus code (where `$` is Python) and what KaTeX produced.
VISIBLE_PROSE = """() => {
  const article = document.querySelector("article").cloneNode(true)
  article.querySelectorAll("pre, code, .katex, script, style, .highlight, .jp-OutputArea").forEach(e => e.remove())
  return article.innerText
}"""


@pytest.mark.parametrize("path", [QUESTION, OTHER_QUESTION, PROOF, "wrong-answers.html", "answers/normalization/batch_norm.html"])
def test_math_is_rendered_by_katex(site, path):
    """Every formula becomes KaTeX markup: no raw $...$ or \\( \\) is left in the prose."""
    page = site(path)
    page.wait_for_selector(".katex", state="attached", timeout=10_000)
    assert page.locator(".katex").count() > 0
    prose = page.evaluate(VISIBLE_PROSE)
    leftovers = re.findall(r".{0,30}(?:\$|\\\(|\\\[).{0,30}", prose)
    assert leftovers == [], leftovers[:5]


def test_every_question_page_renders_its_math(site):
    """No question page keeps raw TeX delimiters in its visible prose."""
    failures = {}
    for question in load_pages(ROOT / "docs"):
        page = site(question.src_uri.replace(".md", ".html"))
        page.wait_for_function("() => window.renderMathInElement !== undefined")
        page.wait_for_timeout(50)
        leftovers = re.findall(r".{0,30}(?:\$|\\\(|\\\[).{0,30}", page.evaluate(VISIBLE_PROSE))
        if leftovers:
            failures[question.src_uri] = leftovers[:2]
    assert failures == {}


def test_proof_page_shows_its_plot(site):
    """The executed proof carries its figure, and the browser decodes it."""
    page = site(PROOF)
    image = page.locator(".jp-OutputArea-output img").first
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=image.element_handle())
    expect(page.locator(".qed-backlink")).to_contain_text("Proof for the question")
    screenshot(page, "proof-plot")


def test_claims_link_to_their_def_in_the_executed_proof(site):
    """A question page lists its claims as held, with torch's version; each link lands on the claim's def."""
    page = site(QUESTION)
    note = page.locator(".qed-held-note").first
    expect(note).to_contain_text("held when this site was built")
    expect(note).to_contain_text("torch 2.13.0")
    link = page.locator("article li a[href*='#test_']").first
    name = link.get_attribute("href").split("#")[1]
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"{PROOF}#{name}")
    expect(page.locator(f"[id='{name}']")).to_be_attached()
    assert page.locator(f"[id='{name}']").evaluate("e => e.parentElement.closest('pre').textContent.includes('def ' + e.id)")


def test_quiz_mode_hides_answers_until_clicked_and_is_remembered(site):
    page = site(QUESTION)
    answer, reveal = page.locator(".qed-answer"), page.locator(".qed-reveal")
    expect(answer).to_be_visible()
    expect(reveal).to_be_hidden()

    page.locator(".qed-quiz-toggle").click()  # on
    expect(page.locator(".qed-quiz-toggle")).to_have_attribute("aria-pressed", "true")
    expect(answer).to_be_hidden()
    expect(page.locator("article h1")).to_be_visible()  # the question stays
    screenshot(page, "quiz-mode")
    reveal.click()
    expect(answer).to_be_visible()
    expect(page.locator("#short-answer")).to_be_visible()

    site(OTHER_QUESTION)  # another page: still on, answer hidden again
    expect(page.locator(".qed-answer")).to_be_hidden()
    page.reload()
    expect(page.locator(".qed-answer")).to_be_hidden()
    page.locator(".qed-quiz-toggle").click()  # off
    expect(page.locator(".qed-answer")).to_be_visible()
    site(QUESTION)
    expect(page.locator(".qed-answer")).to_be_visible()


def test_a_link_into_a_hidden_answer_reveals_it(site):
    """With quiz mode on, an address that targets something inside the answer shows the answer."""
    page = site(QUESTION)
    page.locator(".qed-quiz-toggle").click()
    expect(page.locator(".qed-answer")).to_be_hidden()
    site(OTHER_QUESTION)  # a real navigation: goto with only a new #fragment stays on the document
    site(QUESTION + "#common-wrong-answers")
    expect(page.locator("#common-wrong-answers")).to_be_visible()
    site(QUESTION)
    expect(page.locator(".qed-answer")).to_be_hidden()
    page.locator(".md-sidebar--secondary a[href='#proof']").click()  # the table of contents
    expect(page.locator("#proof")).to_be_in_viewport()
    page.locator(".qed-quiz-toggle").click()


def test_random_question_within_a_section_and_a_tag(site):
    page = site("random.html?section=convolution")
    page.wait_for_url(re.compile(r"/convolution/[a-z0-9-]+\.html$"))
    assert not page.url.endswith("/convolution/index.html")
    page = site("random.html?tag=batch-norm")
    page.wait_for_url(re.compile(r"\.html$"))
    expect(page.locator(".md-tag", has_text="batch-norm").first).to_be_attached()
    page.locator(".qed-random-button").click()  # the header's dice: any question
    page.wait_for_url(re.compile(r"/[a-z]+/[a-z0-9-]+\.html$"))
    expect(page.locator(".qed-answer")).to_be_attached()


@pytest.mark.parametrize(
    "path", ["index.html", QUESTION, PROOF, "claims.html", "wrong-answers.html", "glossary.html", "random.html", "sources.html"]
)
def test_pages_load_nothing_from_other_hosts_and_log_no_errors(site, path):
    """The watch fixture fails the test on any request off localhost or any console error."""
    page = site(path)
    page.wait_for_load_state("networkidle")
