"""The glossary: the packaged file loads and every term is on some page; matching; errors; jieba keeps terms whole."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from qed.glossary import GlossaryError, load_glossary, pages_using, terms_on, uses
from tests._support import ROOT


@pytest.fixture(scope="module")
def terms():
    return load_glossary()


@pytest.fixture(scope="module")
def by_key(terms):
    return {term.key: term for term in terms}


def test_the_packaged_glossary_loads(terms, by_key):
    assert 90 <= len(terms) <= 130
    batch_norm = by_key["batch-normalization"]
    assert batch_norm.en == "Batch normalization"
    assert batch_norm.zh[0] == "批归一化"
    assert batch_norm.match[0] == "Batch normalization" and "BN" in batch_norm.match
    assert [term.en.lower() for term in terms] == sorted(term.en.lower() for term in terms)


def test_every_term_is_used_by_some_page(terms, pages):
    used = pages_using(terms, pages)
    unused = [term.en for term in terms if not used[term.key]]
    assert not unused, f"terms no page uses: {unused}"


def test_terms_are_found_on_their_own_pages(by_key, pages):
    used = pages_using(list(by_key.values()), pages)
    assert "convolution/receptive-field.md" in [page.src_uri for page in used["receptive-field"]]
    assert "normalization/batch-norm.md" in [page.src_uri for page in used["batch-normalization"]]
    assert "systems/sync-batch-norm.md" in [page.src_uri for page in used["synchronized-batch-normalization"]]


def test_terms_on_a_page_agree_with_pages_using(terms, pages):
    used = pages_using(terms, pages)
    for page in pages:
        expected = [term.key for term in terms if page in used[term.key]]
        assert [term.key for term in terms_on(page, terms)] == expected, page.src_uri


def test_chinese_forms_match_as_substrings(by_key):
    receptive_field = by_key["receptive-field"]
    assert uses(receptive_field, "一个3×3的卷积核经过两层后，它的感受野是多少？")
    assert uses(by_key["batch-normalization"], "批量归一化的作用")
    assert not uses(receptive_field, "感受一下这个野外的例子")


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("batch-normalization", "a BN layer", True),
        ("batch-normalization", "卷积和BN如何融合", True),  # a Chinese character may touch the acronym
        ("batch-normalization", "two BNs", True),
        ("batch-normalization", "a bn layer", False),  # acronyms are case-sensitive
        ("batch-normalization", "the rbn and RBN and BN2 layers", False),  # and whole words
        ("batch-normalization", "`test_bn_momentum`", False),
        ("batch-normalization", "Batch Norm", True),  # other forms ignore case
        ("batch-normalization", "batch-\nnorm", True),  # a space or hyphen matches any run of them
        ("batch-normalization", "nn.BatchNorm2d", True),
        ("flops", "FLOPs and GFLOPs", True),
        ("flops", "it flops", False),
        ("feature-map", "two feature maps", True),
        ("loss-function", "the losses", True),
        ("learning-rate", "lrs and lr_scheduler", True),
        ("learning-rate", "lr_scheduler", False),
    ],
)
def test_english_forms_match_by_the_rule(by_key, key, text, expected):
    assert uses(by_key[key], text) is expected


def test_link_targets_and_tags_are_not_the_page_text(by_key, pages):
    page = next(page for page in pages if page.src_uri == "algorithms/complete-binary-tree.md")
    batch_norm = by_key["batch-normalization"]
    link = "(../normalization/batch-norm.md)"
    linked = dataclasses.replace(
        page, question="Why?", zh=[], tags=["batch-norm"], sections={"Explanation": f"See [this page]{link}."}
    )
    assert batch_norm not in terms_on(linked, [batch_norm])
    named = dataclasses.replace(linked, sections={"Explanation": f"See [batch norm]{link}."})
    assert batch_norm in terms_on(named, [batch_norm])


GOOD = {
    "en": "Dropout",
    "zh": "[丢弃法, 暂退法]",
    "match": "[drop-out]",
    "definition": "Zeroes activations at random in training.",
}


DROPOUT = ": entry 2 ('Dropout'): "  # how errors name the second entry of two_entries()


def entry_yaml(**fields) -> str:
    return "".join(f"  {name}: {value}\n" for name, value in fields.items()).replace("  ", "- ", 1)


def two_entries(**changes) -> str:
    """A glossary of 'Batch size' then 'Dropout', with ``changes`` applied to the second (None removes a field)."""
    first = entry_yaml(en="Batch size", zh="[批量大小]", definition="Samples per step.")
    second = {**GOOD, **changes}
    return first + entry_yaml(**{name: value for name, value in second.items() if value is not None})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("en: Dropout\n", ": must be a non-empty YAML list of entries"),
        ("- [a, b]\n", ": entry 1: must be a mapping of fields"),
        ("- en: [\n", ": not valid YAML at line 2"),
        (two_entries(zh=None), DROPOUT + "field 'zh' is missing"),
        (two_entries(definition=None), DROPOUT + "field 'definition' is missing"),
        (two_entries(en=None), ": entry 2: field 'en' is missing"),
        (two_entries(see="Weight decay"), DROPOUT + "field 'see' is unknown"),
        (two_entries(en="' Dropout'"), ": entry 2 (' Dropout'): field 'en' must be a non-empty string"),
        (two_entries(zh="[]"), DROPOUT + "field 'zh' must be a non-empty list"),
        (two_entries(zh="丢弃法"), DROPOUT + "field 'zh' must be a list of non-empty strings"),
        (two_entries(zh="[dropout]"), DROPOUT + "field 'zh' has 'dropout', which has no Chinese character"),
        (two_entries(zh="[丢弃 法]"), DROPOUT + "field 'zh' has '丢弃 法', which has a space"),
        (two_entries(zh="[丢弃法, 批量大小]"), DROPOUT + "field 'zh' has '批量大小', already used by entry 1"),
        (two_entries(match="drop-out"), DROPOUT + "field 'match' must be a list"),
        (two_entries(match="[Batch Size]"), DROPOUT + "field 'match' has 'Batch Size', already used by entry 1"),
        (two_entries(en="batch SIZE"), ": entry 2 ('batch SIZE'): field 'en' makes the key 'batch-size', already used"),
        (two_entries(en="Adam"), ": entry 2 ('Adam'): field 'en' is out of order: 'Adam' sorts before 'Batch size'"),
        (two_entries(definition="'" + "word " * 31 + "'"), DROPOUT + "field 'definition' has 31 words"),
        (two_entries(definition="''"), DROPOUT + "field 'definition' must be a non-empty string"),
    ],
)
def test_a_bad_glossary_raises_one_line_naming_file_entry_and_field(tmp_path, text, expected):
    path = tmp_path / "glossary.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GlossaryError) as raised:
        load_glossary(path)
    message = str(raised.value)
    assert message.startswith(f"{path}{expected}"), message
    assert "\n" not in message


def test_a_good_small_glossary_loads(tmp_path):
    path = tmp_path / "glossary.yml"
    path.write_text(two_entries(), encoding="utf-8")
    batch_size, dropout = load_glossary(path)
    assert (batch_size.key, batch_size.match, batch_size.zh) == ("batch-size", ("Batch size",), ("批量大小",))
    assert (dropout.key, dropout.match, dropout.zh) == ("dropout", ("Dropout", "drop-out"), ("丢弃法", "暂退法"))


def test_jieba_with_the_user_dictionary_keeps_every_chinese_form_whole(terms):
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(ROOT / "src" / "qed" / "data" / "jieba_user.txt"))
    forms = [form for term in terms for form in term.zh]
    words = [word for word in tokenizer.cut("、".join(forms)) if word != "、"]
    # Each form is one word, so a split form shows up as a word that is not a form (or a shorter list).
    split = [form for form in forms if form not in words]
    assert words == forms, f"jieba splits {split or 'the sentence differently'}"
