"""The page parser: a good page parses into its parts; a bad one gets one line naming file and field."""

from __future__ import annotations

import pytest

from qed.pages import PageError, parse_page

GOOD = """\
---
id: tiny-topic
title: Tiny topic
tags: [convolution]
level: 2
sources: [S2.5]
zh: [一个3×3的卷积核经过两层后，它的感受野是多少？]
---

# What is a tiny topic?

## Short answer

A tiny answer.

## Explanation

```python
# a comment in code is not a heading
## nor is this
```

## Proof

See [the proof](../answers/convolution/tiny_topic.py#claims) and [the other](../answers/convolution/other.py).

## Common wrong answers

??? failure "“Tiny is big”"
    **What is true:** it is tiny.
    **Refuted by:** `test_tiny` and `test_small`.

??? failure "“Second”"
    Refuted by `test_second`.

## Follow-ups

??? question "And then?"
    Then `test_tiny`.
"""


def write(tmp_path, text, name="tiny-topic.md"):
    path = tmp_path / "convolution" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_page_parses_into_its_parts(tmp_path):
    page = parse_page(write(tmp_path, GOOD))
    assert (page.id, page.section, page.level, page.sources) == ("tiny-topic", "convolution", 2, ["S2.5"])
    assert page.question == "What is a tiny topic?"
    assert list(page.sections) == ["Short answer", "Explanation", "Proof", "Common wrong answers", "Follow-ups"]
    assert page.short_answer == "A tiny answer."
    assert page.proof_modules == ["answers/convolution/tiny_topic.py", "answers/convolution/other.py"]
    assert [(a.kind, a.title, a.claims) for a in page.wrong_answers] == [
        ("failure", "“Tiny is big”", ["test_tiny", "test_small"]),
        ("failure", "“Second”", ["test_second"]),
    ]
    assert [a.title for a in page.follow_ups] == ["And then?"]


BAD = [
    ("no front matter", lambda t: t.split("---\n", 2)[2], "no front matter"),
    ("broken yaml", lambda t: t.replace("level: 2", "level: [2"), "not valid YAML"),
    ("missing field", lambda t: t.replace("level: 2\n", ""), "missing field 'level'"),
    ("bad level", lambda t: t.replace("level: 2", "level: 4"), "field 'level'"),
    ("unknown tag", lambda t: t.replace("[convolution]", "[convolution, magic]"), "field 'tags' has 'magic'"),
    ("id is not the file name", lambda t: t.replace("id: tiny-topic", "id: other-topic"), "field 'id'"),
    ("bad source id", lambda t: t.replace("[S2.5]", "[2.5]"), "field 'sources'"),
    ("zh count", lambda t: t.replace("sources: [S2.5]", "sources: [S2.5, S1.6]"), "field 'zh'"),
    ("no question mark", lambda t: t.replace("tiny topic?", "tiny topic"), "end with '?'"),
    ("two H1", lambda t: t.replace("## Explanation", "# Another\n\n## Explanation"), "more than one H1"),
    ("sections out of order", lambda t: t.replace("## Explanation", "## Temp").replace("## Proof", "## Explanation").replace("## Temp", "## Proof"), "sections are"),
    ("missing section", lambda t: t.replace("## Common wrong answers", "### Common wrong answers"), "sections are"),
    ("long short answer", lambda t: t.replace("A tiny answer.", "word " * 81), "81 words"),
]


@pytest.mark.parametrize("mutate, expected", [(m, e) for _, m, e in BAD], ids=[name for name, _, _ in BAD])
def test_a_bad_page_raises_one_line_naming_file_and_field(tmp_path, mutate, expected):
    path = write(tmp_path, mutate(GOOD))
    with pytest.raises(PageError) as raised:
        parse_page(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and expected in message and "\n" not in message


def test_follow_ups_are_optional(tmp_path):
    page = parse_page(write(tmp_path, GOOD.split("## Follow-ups")[0]))
    assert "Follow-ups" not in page.sections and page.follow_ups == []


def test_a_repeated_section_is_named(tmp_path):
    path = write(tmp_path, GOOD.replace("## Follow-ups", "## Proof\n\nagain\n\n## Follow-ups"))
    with pytest.raises(PageError, match=r"sections are .*'Common wrong answers', 'Proof', 'Follow-ups'\]"):
        parse_page(path)
