"""The built site: nothing loaded from other hosts, Chinese search, generated pages, light proof pages.

Built once per session without executing the proofs (``QED_EXECUTE=false``); ``make test`` then builds
the real, executed site as its last step, where the same external-load check runs in the hooks.
"""

from __future__ import annotations

import html as html_text
import json
import re

from qed.inventory import load_inventory
from qed.site_check import external_loads, scan_site
from tests._support import ROOT


def test_the_external_load_check_sees_what_a_page_would_fetch():
    html = """
    <script src="https://cdn.example.com/x.js"></script><img src="//img.example.com/a.png">
    <link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
    <style>@import "https://example.com/a.css"; .a{background:url(https://example.com/b.png)}</style>
    <script type="module">const m = await import("https://cdnjs.example.com/m.mjs")</script>
    <a href="https://arxiv.org/abs/1502.03167">a paper</a><link rel="canonical" href="https://qed.example/">
    <script src="assets/local.js"></script><img src="../img.png">
    """
    assert external_loads(html) == [
        "https://cdn.example.com/x.js",
        "//img.example.com/a.png",
        "https://fonts.googleapis.com/css?family=Roboto",
        "https://example.com/a.css",
        "https://example.com/b.png",
        "https://cdnjs.example.com/m.mjs",
    ]


def test_the_built_site_loads_nothing_from_other_hosts(quick_site):
    assert scan_site(quick_site) == {}


def _index(site):
    return json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))


def test_search_index_holds_each_chinese_title_segmented(quick_site, pages):
    index = _index(quick_site)
    assert index["config"]["separator"].startswith("[\\s\\u200b")
    texts = {}
    for doc in index["docs"]:
        texts.setdefault(doc["location"].split("#")[0], []).append(doc["text"])
    for page in pages:
        location = page.src_uri.replace(".md", ".html")
        text = " ".join(texts[location])
        for title in page.zh:
            # jieba puts a zero-width space between words; without it a long title would be one token.
            found = re.search("\u200b?".join(map(re.escape, title)), text)
            assert found, f"{location}: {title!r} is not in the search index"
            words = len(title) > 4 and re.search("[\u4e00-\u9fff]", title)  # one Latin word ("Softmax") has none
            assert not words or "\u200b" in found.group(), f"{location}: {title!r} is indexed unsegmented"


def test_domain_terms_stay_whole_words_in_the_search_index(quick_site):
    text = " ".join(doc["text"] for doc in _index(quick_site)["docs"])
    assert "\u200b感受野\u200b" in text or "感受野\u200b" in text
    assert "感受\u200b野" not in text


def test_sources_page_lists_every_source_question(quick_site, pages):
    html = (quick_site / "sources.html").read_text(encoding="utf-8")
    for source_id in load_inventory():
        assert f'id="{source_id.lower().replace(".", "")}"' in html, source_id
    answered = {s for page in pages for s in page.sources}
    assert html.count("<em>not yet</em>") == len(load_inventory()) - len(answered)


def test_home_page_shows_live_counts(quick_site, pages):
    html = (quick_site / "index.html").read_text(encoding="utf-8")
    answered = len({s for page in pages for s in page.sources})
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells[0] == str(len(pages)) and cells[3] == f"{answered} of 149"


def test_question_pages_show_their_claims_and_chinese_titles(quick_site, pages):
    for page in pages:
        html = (quick_site / page.src_uri.replace(".md", ".html")).read_text(encoding="utf-8")
        for title in page.zh:
            assert html_text.escape(title) in html  # the hooks escape the notes' raw text
        assert "each a test function" in html


def test_proof_pages_keep_the_notebook_css_in_one_shared_file(quick_site, pages):
    """nbconvert inlines ~575 KB of JupyterLab CSS into every notebook page; the hooks move it out."""
    shared = sorted((quick_site / "assets" / "jupyter").glob("*.css"))
    assert sum(path.stat().st_size for path in shared) > 500_000
    for page in pages:
        for module in page.proof_modules:
            html = (quick_site / module.replace(".py", ".html")).read_text(encoding="utf-8")
            styles = re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL)
            assert max(map(len, styles), default=0) < 20_000, f"{module}: a large inline <style> is left"
            assert "assets/jupyter/" in html and "Proof for the question" in html


def test_jieba_user_dictionary_keeps_domain_terms_whole():
    """The default dictionary splits these terms (感受/野); ours keeps them whole, as search needs."""
    import jieba

    sentence = "感受野和批归一化，深度可分离卷积与空洞卷积"
    terms = ["感受野", "批归一化", "深度可分离卷积", "空洞卷积"]
    default = jieba.Tokenizer()
    assert not set(terms) <= set(default.cut(sentence))  # without the user dictionary some are split
    ours = jieba.Tokenizer()
    ours.load_userdict(str(ROOT / "src" / "qed" / "data" / "jieba_user.txt"))
    assert set(terms) <= set(ours.cut(sentence))


# ------------------------------------------------------------------ generated pages (issue 9)


def test_wrong_answers_page_holds_every_entry_once_linking_its_page_and_claims(quick_site, pages):
    html = (quick_site / "wrong-answers.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<details class="failure">(.*?)</details>', html, re.DOTALL)
    assert len(blocks) == sum(len(page.wrong_answers) for page in pages)
    for page in pages:
        if page.wrong_answers:
            assert f'href="{page.src_uri.replace(".md", ".html")}#common-wrong-answers"' in html, page.src_uri
    titles = [html_text.unescape(re.sub(r"<[^>]+>", "", re.search(r"<summary>(.*?)</summary>", b, re.DOTALL).group(1)))
              for b in blocks]
    def words(text):  # the rendered title against its Markdown: only the word characters
        return re.sub(r"\W", "", text)

    assert [words(t) for t in titles] == [words(w.title) for page in _in_nav_order(pages) for w in page.wrong_answers]
    for block, wrong in zip(blocks, (w for page in _in_nav_order(pages) for w in page.wrong_answers)):
        cited = re.findall(r'href="answers/[^"#]+\.html#(test_\w+)"', block)
        assert cited and cited == wrong.claims, wrong.title


def _in_nav_order(pages):
    from qed.pages import load_sections

    order = {section["key"]: i for i, section in enumerate(load_sections())}
    return sorted(pages, key=lambda p: (order[p.section], p.level, p.title))


def test_a_build_without_execution_lists_no_claim_as_held(quick_site, pages):
    ledger = (quick_site / "claims.html").read_text(encoding="utf-8")
    assert "did not run the proofs" in ledger and "qed-held" not in ledger
    question = (quick_site / pages[0].src_uri.replace(".md", ".html")).read_text(encoding="utf-8")
    assert "not listed, because this build did not run the proofs" in question and "qed-held" not in question


def test_glossary_page_has_an_anchor_per_term_and_links_the_pages_using_it(quick_site, pages):
    from qed.glossary import load_glossary, pages_using

    terms = load_glossary()
    html = (quick_site / "glossary.html").read_text(encoding="utf-8")
    using = pages_using(terms, pages)
    for term in terms:
        section = re.search(rf'<h3 id="{term.key}">(.*?)(?=<h3 |</article>)', html, re.DOTALL)
        assert section, term.key
        assert html_text.escape(term.zh[0]) in section.group(1)
        linked = set(re.findall(r'href="([a-z]+/[a-z0-9-]+\.html)"', section.group(1)))
        assert linked == {p.src_uri.replace(".md", ".html") for p in using[term.key]}, term.key


def test_question_pages_end_with_their_glossary_terms_and_wrap_the_answer_for_quiz_mode(quick_site, pages):
    from qed.glossary import load_glossary, terms_on

    terms = load_glossary()
    for page in pages:
        html = (quick_site / page.src_uri.replace(".md", ".html")).read_text(encoding="utf-8")
        assert html.count('class="qed-answer"') == 1 and html.count('class="qed-quiz-bar"') == 1
        assert html.index('class="qed-quiz-bar"') < html.index('id="short-answer"') < html.index("qed-terms")
        keys = re.findall(r'glossary\.html#([a-z0-9-]+)"', html[html.index('class="qed-terms"'):])
        assert keys == [term.key for term in terms_on(page, terms)], page.src_uri


def test_the_question_list_for_random_questions_covers_every_page(quick_site, pages):
    script = (quick_site / "assets" / "javascripts" / "qed-questions.js").read_text(encoding="utf-8")
    data = json.loads(script.removeprefix("window.QED_QUESTIONS = ").rstrip().removesuffix(";"))
    assert sorted(q["url"] for q in data["questions"]) == sorted(p.src_uri.replace(".md", ".html") for p in pages)
    for question in data["questions"]:
        assert (quick_site / question["url"]).is_file()
    random_page = (quick_site / "random.html").read_text(encoding="utf-8")
    for section in {p.section for p in pages}:
        assert f'href="random.html?section={section}"' in random_page
        index = (quick_site / section / "index.html").read_text(encoding="utf-8")
        assert f'href="../random.html?section={section}"' in index
    for tag in {t for p in pages for t in p.tags}:
        assert f'href="random.html?tag={tag}"' in random_page
