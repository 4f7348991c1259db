"""The deck: question pages as flashcards, found through the one page parser (``qed.pages``).

Front of a card: the H1 question and the original Chinese title(s). Back: ``## Short answer``.
Nothing here imports torch; claims are read from the proof modules' source (``qed.claims``).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from qed.pages import LEVELS, Page, load_pages, load_sections

LOCAL_SITE = "http://127.0.0.1:8000/"  # where `make serve` serves the site


class UsageError(Exception):
    """Bad input from the command line; the message is one line."""


def default_root() -> Path:
    """The knowledge base: ``QED_ROOT`` if set, else the checkout this package was installed from."""
    if os.environ.get("QED_ROOT"):
        return Path(os.environ["QED_ROOT"]).expanduser()
    return Path(__file__).resolve().parents[2]


def site_url() -> str:
    """The site's address (``QED_SITE_URL``), by default the one ``make serve`` serves."""
    url = os.environ.get("QED_SITE_URL", LOCAL_SITE)
    return url if url.endswith("/") else url + "/"


@dataclass
class Deck:
    root: Path
    pages: list[Page]

    @classmethod
    def load(cls, root: Path | str | None = None) -> Deck:
        root = Path(root) if root is not None else default_root()
        docs = root / "docs"
        if not docs.is_dir():
            raise UsageError(f"{root}: no docs/ folder here; set QED_ROOT to a QED checkout")
        return cls(root, load_pages(docs))

    @property
    def ids(self) -> list[str]:
        return [page.id for page in self.pages]

    def get(self, page_id: str) -> Page:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise UsageError(unknown("id", page_id, self.ids))

    def select(self, tag: str | None = None, section: str | None = None, level: str | None = None) -> list[Page]:
        """The pages matching every filter given; an unknown value is a :class:`UsageError`."""
        pages = self.pages
        if tag is not None:
            tags = sorted({t for page in self.pages for t in page.tags})
            if tag not in tags:
                raise UsageError(unknown("tag", tag, tags))
            pages = [page for page in pages if tag in page.tags]
        if section is not None:
            sections = [entry["key"] for entry in load_sections()]
            if section not in sections:
                raise UsageError(unknown("section", section, sections))
            pages = [page for page in pages if page.section == section]
        if level is not None:
            levels = [str(number) for number in LEVELS]
            if level not in levels:
                raise UsageError(unknown("level", level, levels, [f"{n} ({name})" for n, name in LEVELS.items()]))
            pages = [page for page in pages if page.level == int(level)]
        return pages

    def url(self, page: Page) -> str:
        return f"{site_url()}{page.section}/{page.slug}.html"  # use_directory_urls: false

    def module_paths(self, page: Page) -> list[Path]:
        return [self.root / module for module in page.proof_modules]


def unknown(kind: str, value: str, valid: list[str], labels: list[str] | None = None) -> str:
    """One line: the unknown value and every valid one, the nearest first."""
    labels = labels or valid
    by_value = dict(zip(valid, labels))
    near = difflib.get_close_matches(value, valid, n=len(valid), cutoff=0.4)
    ordered = near + [item for item in valid if item not in near]
    return f"unknown {kind} {value!r}; valid: {', '.join(by_value[item] for item in ordered)}"


def section_titles() -> dict[str, str]:
    return {entry["key"]: entry["title"] for entry in load_sections()}


def page_label(page: Page) -> str:
    """'Convolution · level 2 (onsite)': where a question sits, for card and page headers."""
    return f"{section_titles().get(page.section, page.section)} · level {page.level} ({LEVELS[page.level]})"


_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$")


def terminal_markdown(text: str) -> str:
    """Markdown for the terminal with TeX left readable: math becomes code, so that Markdown's
    emphasis rules leave its ``_`` and ``*`` alone (``$x_i^2$`` shows as ``x_i^2``)."""
    text = _DISPLAY_MATH.sub(lambda m: "\n```tex\n" + m.group(1).strip() + "\n```\n", text)
    return _INLINE_MATH.sub(lambda m: "`" + m.group(1) + "`", text)


def anki_math(text: str) -> tuple[str, list[str]]:
    """Replace math with placeholders before Markdown runs; Anki renders ``\\(..\\)`` and ``\\[..\\]``."""
    found: list[str] = []

    def keep(tex: str) -> str:
        found.append(tex)
        return f"QEDMATH{len(found) - 1}X"

    text = _DISPLAY_MATH.sub(lambda m: keep("\\[" + m.group(1).strip() + "\\]"), text)
    text = _INLINE_MATH.sub(lambda m: keep("\\(" + m.group(1) + "\\)"), text)
    return text, found
