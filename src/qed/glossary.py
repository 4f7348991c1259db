"""The English–Chinese glossary: the terms of ``src/qed/data/glossary.yml`` and the pages that use them.

:func:`load_glossary` reads and validates the data file; :func:`uses`, :func:`terms_on` and
:func:`pages_using` find terms in a page's text. The rule for matching English forms is written at
the top of the data file. It imports neither torch nor mkdocs, so it stays fast.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from qed.pages import Page, word_count

DEFAULT_PATH = "src/qed/data/glossary.yml"  # how messages name the packaged file
REQUIRED_FIELDS = ("en", "zh", "definition")
FIELDS = (*REQUIRED_FIELDS, "match")
DEFINITION_MAX_WORDS = 30

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# A form with a capital and no lowercase letter but a final plural "s" (BN, SGD, FLOPs) is an acronym,
# matched case-sensitively so that "BN" is not found in "bn" or "IN" in "in".
_ACRONYM = re.compile(r"^[^a-z]*[A-Z][^a-z]*s?$")
# Whole words: ASCII letters, digits and "_" may not touch a match. Chinese characters may, so
# "BN" is found in "卷积和BN如何融合" (``\b`` would not find it: Python counts CJK as word characters).
_WORD_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_")
_AFTER = r"(?![A-Za-z0-9_])"
_SEPARATOR = re.compile(r"[\s-]+")
_WORD = re.compile(r"[a-z0-9_]+")  # runs of _WORD_CHARACTERS, in lowercase text
_LINK_TARGET = re.compile(r"\]\([^)]*\)")  # "[text](target)": a link to batch-norm.md is no use of the term


class GlossaryError(ValueError):
    """A glossary file that does not follow the format; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Term:
    key: str  # kebab-case slug of `en`, the HTML anchor
    en: str
    zh: tuple[str, ...]  # preferred rendering first
    match: tuple[str, ...]  # English forms, `en` first
    definition: str


def slug(text: str) -> str:
    """``Batch normalization`` -> ``batch-normalization``; ``1×1 convolution`` -> ``1-1-convolution``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_glossary(path: Path | str | None = None) -> list[Term]:
    """The terms of a glossary file (default: the packaged one), validated; bad input raises :class:`GlossaryError`."""
    if path is None:
        name = DEFAULT_PATH
        text = resources.files("qed").joinpath("data/glossary.yml").read_text(encoding="utf-8")
    else:
        name = str(path)
        text = Path(path).read_text(encoding="utf-8")
    return parse_glossary(text, name)


def parse_glossary(text: str, name: str = "<glossary>") -> list[Term]:
    try:
        entries = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise GlossaryError(f"{name}: not valid YAML{where}") from None
    if not isinstance(entries, list) or not entries:
        raise GlossaryError(f"{name}: must be a non-empty YAML list of entries")
    terms: list[Term] = []
    owners: dict[tuple[str, str], str] = {}  # (kind, value) -> the entry that has it
    for number, entry in enumerate(entries, start=1):
        label = f"entry {number}"
        if isinstance(entry, dict) and isinstance(entry.get("en"), str):
            label += f" ({entry['en']!r})"

        def fail(what: str) -> GlossaryError:
            return GlossaryError(f"{name}: {label}: {what}")

        def claim(kind: str, value: str, what: str) -> None:
            other = owners.setdefault((kind, value), label)
            if other != label:
                raise fail(f"{what}, already used by {other}")

        if not isinstance(entry, dict):
            raise fail("must be a mapping of fields")
        term = _term(entry, fail)
        if terms and term.en.lower() < terms[-1].en.lower():
            raise fail(f"field 'en' is out of order: {term.en!r} sorts before {terms[-1].en!r}")
        claim("key", term.key, f"field 'en' makes the key {term.key!r}")
        # An English form belongs to one term, whether it is the term's `en` or one of its `match` forms.
        for index, form in enumerate(term.match):
            claim("en", form.lower(), f"field {'match' if index else 'en'!r} has {form!r}")
        for form in term.zh:
            claim("zh", form, f"field 'zh' has {form!r}")
        terms.append(term)
    return terms


def _term(entry: dict, fail: Callable[[str], GlossaryError]) -> Term:
    for field_name in REQUIRED_FIELDS:
        if field_name not in entry:
            raise fail(f"field {field_name!r} is missing")
    unknown = [field_name for field_name in entry if field_name not in FIELDS]
    if unknown:
        raise fail(f"field {unknown[0]!r} is unknown (expected {', '.join(FIELDS)})")
    en = entry["en"]
    if not isinstance(en, str) or not en.strip() or en != en.strip():
        raise fail("field 'en' must be a non-empty string without surrounding spaces")
    key = slug(en)
    if not key:
        raise fail("field 'en' has no letter or digit to make a key from")
    zh = _strings(entry["zh"], "zh", fail)
    if not zh:
        raise fail("field 'zh' must be a non-empty list")
    for form in zh:
        if not _CJK.search(form):
            raise fail(f"field 'zh' has {form!r}, which has no Chinese character")
        if len(form.split()) > 1:
            raise fail(f"field 'zh' has {form!r}, which has a space")
    match = _strings(entry.get("match", []), "match", fail)
    definition = entry["definition"]
    if not isinstance(definition, str) or not definition.strip():
        raise fail("field 'definition' must be a non-empty string")
    words = word_count(definition)
    if words > DEFINITION_MAX_WORDS:
        raise fail(f"field 'definition' has {words} words (at most {DEFINITION_MAX_WORDS})")
    forms = (en, *(form for form in match if form.lower() != en.lower()))
    return Term(key=key, en=en, zh=tuple(zh), match=forms, definition=" ".join(definition.split()))


def _strings(value: object, field_name: str, fail: Callable[[str], GlossaryError]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() == item != "" for item in value):
        raise fail(f"field {field_name!r} must be a list of non-empty strings without surrounding spaces")
    if len(set(value)) != len(value):
        raise fail(f"field {field_name!r} lists a form twice")
    return value


@dataclass(frozen=True)
class _Matcher:
    """How to look for a term's English forms; see the rule at the top of the glossary file."""

    needles: tuple[str, ...]  # each form's longest word, lowercase: a cheap first test against a text's words
    exact: re.Pattern[str] | None  # the acronyms, searched in the text
    folded: re.Pattern[str] | None  # the other forms, lowercase, searched in the lowercased text


@dataclass(frozen=True)
class _Text:
    """A text made ready to be searched for many terms."""

    text: str
    lowered: str
    words: frozenset[str]
    chinese: str  # the text's whitespace-separated pieces that hold a Chinese character

    @classmethod
    def of(cls, text: str) -> _Text:
        lowered = text.lower()
        pieces = [piece for piece in text.split() if _CJK.search(piece)]
        return cls(text, lowered, frozenset(_WORD.findall(lowered)), "\n".join(pieces))


@cache
def _matcher(match: tuple[str, ...]) -> _Matcher:
    needles, exact, folded = [], [], []
    for form in match:
        needles.append(max(_WORD.findall(form.lower()), key=len, default=""))
        acronym = _ACRONYM.match(form) is not None
        parts = [part for part in _SEPARATOR.split(form if acronym else form.lower()) if part]
        body = r"[\s-]+".join(map(re.escape, parts)) + "(?:e?s)?"  # plurals: "feature maps", "losses"
        (exact if acronym else folded).append(body)
    # Case-insensitive regexes and a lookbehind at the start are each several times slower in `re`
    # than lowercase literals whose preceding character _search checks.
    exact_pattern = re.compile(f"(?:{'|'.join(exact)}){_AFTER}") if exact else None
    folded_pattern = re.compile(f"(?:{'|'.join(folded)}){_AFTER}") if folded else None
    return _Matcher(tuple(needles), exact_pattern, folded_pattern)


def _search(pattern: re.Pattern[str] | None, text: str) -> bool:
    """Whether ``pattern`` matches in ``text`` at a position not preceded by an ASCII word character."""
    position = 0
    while pattern is not None and (found := pattern.search(text, position)):
        start = found.start()
        if start == 0 or text[start - 1] not in _WORD_CHARACTERS:
            return True
        position = start + 1
    return False


def uses(term: Term, text: str) -> bool:
    """Whether ``text`` uses the term: an English form by the match rule, or any Chinese form as a substring."""
    return _uses(term, _Text.of(text))


def _uses(term: Term, text: _Text) -> bool:
    if any(form in text.chinese for form in term.zh):
        return True
    matcher = _matcher(term.match)
    if not any(not needle or {needle, needle + "s", needle + "es"} & text.words for needle in matcher.needles):
        return False
    return _search(matcher.exact, text.text) or _search(matcher.folded, text.lowered)


def page_text(page: Page) -> str:
    """What a page says in prose: question, short answer, explanation, wrong answers and its Chinese titles."""
    parts = [
        page.question,
        page.short_answer,
        page.sections.get("Explanation", ""),
        page.sections.get("Common wrong answers", ""),
        *page.zh,
    ]
    return _LINK_TARGET.sub("]", "\n".join(parts))


def terms_on(page: Page, terms: list[Term]) -> list[Term]:
    """The terms the page uses, in glossary order."""
    text = _Text.of(page_text(page))
    return [term for term in terms if _uses(term, text)]


def pages_using(terms: list[Term], pages: list[Page]) -> dict[str, list[Page]]:
    """Term key -> the pages that use the term, in the order of ``pages`` (every key present)."""
    texts = [(page, _Text.of(page_text(page))) for page in pages]
    return {term.key: [page for page, text in texts if _uses(term, text)] for term in terms}
