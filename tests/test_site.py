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
