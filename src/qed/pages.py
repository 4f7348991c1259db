"""The one parser of question pages: front matter, the H1 question and the ``##`` sections.

The site hooks, the tests and the flashcard CLI all read pages through :func:`parse_page` and
:func:`load_pages`. It imports neither torch nor mkdocs, so it stays fast.

A question page is ``docs/<section>/<slug>.md`` (any name but ``index.md``). Its anatomy is
described on the Contributing page (``docs/contributing.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath

import yaml

# libyaml's loader parses front matter about ten times faster than the pure-Python one; the CLI
# parses every page before it shows its first card.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The sections of a page body, in the order they must appear; the last one is optional.
SECTIONS = ("Short answer", "Explanation", "Proof", "Common wrong answers", "Follow-ups")
OPTIONAL_SECTIONS = {"Follow-ups"}
REQUIRED_FIELDS = ("id", "title", "tags", "level", "sources", "zh")
LEVELS = {1: "screening", 2: "onsite", 3: "deep dive"}
SHORT_ANSWER_MAX_WORDS = 80

_FRONT_MATTER = re.compile(r"\A---\n(.*?\n)---\n", re.DOTALL)
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_ADMONITION = re.compile(r'^(\?\?\?\+?|!!!) (\w+)(?: "(.*)")?\s*$')
CLAIM_NAME = re.compile(r"`(test_\w+)`")  # a claim cited in Markdown
_SOURCE_ID = re.compile(r"^S\d\.\d+$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class PageError(ValueError):
    """A page that does not follow the anatomy; the message names the file and the field."""

    def __init__(self, path: Path | str, what: str):
        super().__init__(f"{path}: {what}")
        self.path = Path(path)
        self.what = what


@dataclass(frozen=True)
class Admonition:
    kind: str  # failure, question, ...
    title: str
    body: str  # dedented

    @property
    def claims(self) -> list[str]:
        """The claim names (``test_...``) this admonition cites, in order."""
        return cited_claims(self.title + "\n" + self.body)


@dataclass(frozen=True)
class Page:
    path: Path
    section: str  # the folder under docs/
    id: str
    title: str
    tags: list[str]
    level: int
    sources: list[str]
    zh: list[str]
    question: str  # the H1
    sections: dict[str, str] = field(repr=False)  # "## name" -> markdown body, in file order
    meta: dict = field(repr=False, default_factory=dict)

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def module_stem(self) -> str:
        return self.slug.replace("-", "_")

    @property
    def src_uri(self) -> str:
        """The page's path relative to docs/, as mkdocs names it."""
        return f"{self.section}/{self.path.name}"

    @property
    def short_answer(self) -> str:
        return self.sections.get("Short answer", "").strip()

    @property
    def proof_modules(self) -> list[str]:
        """Proof modules linked from ``## Proof``, as paths relative to the repository root."""
        base = PurePosixPath(self.section)
        found = []
        for target in _LINK.findall(self.sections.get("Proof", "")):
            target = target.split("#", 1)[0]
            if target.endswith(".py"):
                found.append(normalize_path(base / target))
        return found

    @property
    def wrong_answers(self) -> list[Admonition]:
        return admonitions(self.sections.get("Common wrong answers", ""))

    @property
    def follow_ups(self) -> list[Admonition]:
        return admonitions(self.sections.get("Follow-ups", ""))


def normalize_path(path: PurePosixPath) -> str:
    """``normalization/../activations/./relu.md`` -> ``activations/relu.md`` (a ``..`` above the top is dropped)."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def cited_claims(markdown: str) -> list[str]:
    """The claim names written in backticks (`` `test_...` ``) in some Markdown, in order."""
    return CLAIM_NAME.findall(markdown)


def word_count(text: str) -> int:
    return len(text.split())


def split_front_matter(text: str, path: Path | str = "<page>") -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise PageError(path, "no front matter (the file must start with a '---' block)")
    try:
        meta = yaml.load(match.group(1), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise PageError(path, f"front matter is not valid YAML{where}") from None
    if not isinstance(meta, dict):
        raise PageError(path, "front matter must be a mapping of fields")
    return meta, text[match.end() :]


def _headings(body: str):
    """Yield (line index, level, text) for ATX headings outside fenced code blocks."""
    fenced = False
    for index, line in enumerate(body.splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and line.startswith("#"):
            hashes, _, text = line.partition(" ")
            if set(hashes) == {"#"}:
                yield index, len(hashes), text.strip()


def split_sections(body: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The H1 lines, and the ``##`` sections as (name, Markdown body) pairs in file order."""
    lines = body.splitlines()
    h1s: list[str] = []
    marks: list[tuple[int, str]] = []
    for index, level, text in _headings(body):
        if level == 1:
            h1s.append(text)
        elif level == 2:
            marks.append((index, text))
    sections = []
    for number, (index, name) in enumerate(marks):
        end = marks[number + 1][0] if number + 1 < len(marks) else len(lines)
        sections.append((name, "\n".join(lines[index + 1 : end]).strip("\n")))
    return h1s, sections


def admonitions(markdown: str) -> list[Admonition]:
    """Admonitions (``!!!``/``???``) at the top level of a section, with their indented bodies."""
    found: list[Admonition] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        match = _ADMONITION.match(lines[index])
        index += 1
        if not match:
            continue
        body: list[str] = []
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith("    ")):
            body.append(lines[index][4:])
            index += 1
        found.append(Admonition(match.group(2), match.group(3) or "", "\n".join(body).strip()))
    return found


@cache
def allowed_tags() -> frozenset[str]:
    text = resources.files("qed").joinpath("data/tags.yml").read_text(encoding="utf-8")
    return frozenset(yaml.safe_load(text))


@cache
def section_keys() -> tuple[str, ...]:
    return tuple(section["key"] for section in load_sections())


@cache
def load_sections() -> list[dict]:
    text = resources.files("qed").joinpath("data/sections.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _string_list(meta: dict, name: str, path: Path) -> list[str]:
    value = meta[name]
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise PageError(path, f"front matter field '{name}' must be a list of non-empty strings")
    return value


def parse_page(path: Path | str, text: str | None = None) -> Page:
    """Parse one question page; raise :class:`PageError` naming the file and field on bad input.

    This checks what a single page can check alone: fields, types, slug, the H1, the order of the
    sections and the length of the short answer. Cross-page and cross-file rules (unique ids,
    sources in the inventory, links to proof modules, claims cited) live in ``tests/``.
    """
    path = Path(path)
    if text is None:
        text = path.read_text(encoding="utf-8")
    meta, body = split_front_matter(text, path)
    missing = [name for name in REQUIRED_FIELDS if name not in meta]
    if missing:
        raise PageError(path, f"front matter is missing field '{missing[0]}'")
    page_id = meta["id"]
    if not isinstance(page_id, str) or not _SLUG.match(page_id):
        raise PageError(path, f"front matter field 'id' must be a kebab-case slug, got {page_id!r}")
    if page_id != path.stem:
        raise PageError(path, f"front matter field 'id' is {page_id!r} but the file is named {path.stem!r}")
    if not isinstance(meta["title"], str) or not meta["title"].strip():
        raise PageError(path, "front matter field 'title' must be a non-empty string")
    tags = _string_list(meta, "tags", path)
    unknown = sorted(set(tags) - allowed_tags())
    if unknown:
        raise PageError(path, f"front matter field 'tags' has {unknown[0]!r}, not in src/qed/data/tags.yml")
    level = meta["level"]
    if level not in LEVELS or isinstance(level, bool):
        raise PageError(path, f"front matter field 'level' must be 1, 2 or 3, got {level!r}")
    sources = meta["sources"] or []
    if not isinstance(sources, list) or not all(isinstance(s, str) and _SOURCE_ID.match(s) for s in sources):
        raise PageError(path, "front matter field 'sources' must be a list of ids like S1.6")
    zh = _string_list(meta, "zh", path) if meta["zh"] else []
    if len(zh) != len(sources):
        raise PageError(path, f"front matter field 'zh' has {len(zh)} titles for {len(sources)} sources")

    h1s, pairs = split_sections(body)
    if not h1s:
        raise PageError(path, "no H1 question ('# ...?')")
    if len(h1s) > 1:
        raise PageError(path, f"more than one H1: {h1s[1]!r}")
    question = h1s[0]
    if not question.endswith("?"):
        raise PageError(path, f"the H1 must be the question and end with '?': {question!r}")
    names = [name for name, _ in pairs]
    sections = dict(pairs)
    expected = [name for name in SECTIONS if name in names or name not in OPTIONAL_SECTIONS]
    if names != expected:
        raise PageError(path, f"sections are {names}, expected {expected} ('## Follow-ups' optional)")
    words = word_count(sections["Short answer"])
    if words == 0:
        raise PageError(path, "section 'Short answer' is empty")
    if words > SHORT_ANSWER_MAX_WORDS:
        raise PageError(path, f"section 'Short answer' has {words} words (at most {SHORT_ANSWER_MAX_WORDS})")
    return Page(
        path=path,
        section=path.parent.name,
        id=page_id,
        title=meta["title"].strip(),
        tags=tags,
        level=level,
        sources=sources,
        zh=zh,
        question=question,
        sections=sections,
        meta=meta,
    )


def is_question_page(path: Path, docs_dir: Path) -> bool:
    relative = path.relative_to(docs_dir)
    return (
        len(relative.parts) == 2
        and relative.parts[0] in section_keys()
        and relative.suffix == ".md"
        and relative.name != "index.md"
    )


def page_paths(docs_dir: Path | str) -> list[Path]:
    docs_dir = Path(docs_dir)
    return sorted(p for p in docs_dir.glob("*/*.md") if is_question_page(p, docs_dir))


def load_pages(docs_dir: Path | str) -> list[Page]:
    """Every question page under ``docs_dir``, parsed; the first bad page raises :class:`PageError`."""
    return [parse_page(path) for path in page_paths(docs_dir)]
