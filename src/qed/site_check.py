"""Checks on the built site that need no browser: what a page would load from another host.

Used by the site build (``mkdocs_hooks.on_post_build`` fails the build) and by ``tests/``.
Links a reader clicks (``<a href>``) are navigation, not loads, and may point anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

# Attributes that make a browser fetch something while showing the page.
_LOADING_TAG = re.compile(
    r"<(script|img|iframe|source|audio|video|embed|object|track|input)\b[^>]*?\s(?:src|data|srcset)\s*=\s*[\"']?([^\"'\s>]+)",
    re.IGNORECASE,
)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\shref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_REL = re.compile(r"\srel\s*=\s*[\"']?([^\"'>]+)", re.IGNORECASE)
_CSS_URL = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])((?:https?:)?//[^\"')\s]+)", re.IGNORECASE)
_SCRIPT_BODY = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_JS_IMPORT = re.compile(r"""\bimport\s*\(\s*["']((?:https?:)?//[^"']+)["']""")
# <link rel=...> values that only name a relation, never fetch (canonical, alternate, ...).
_NON_LOADING_REL = {"canonical", "alternate", "author", "license", "help", "next", "prev", "search", "me"}


def is_external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def external_loads(html: str) -> list[str]:
    """The URLs on other hosts that this HTML (or CSS) would load; empty when it is self-contained."""
    found = [url for _, url in _LOADING_TAG.findall(html) if is_external(url)]
    for tag in _LINK_TAG.findall(html):
        href = _HREF.search(tag)
        rel = _REL.search(tag)
        relations = set(rel.group(1).lower().split()) if rel else set()
        if href and is_external(href.group(1)) and not relations <= _NON_LOADING_REL:
            found.append(href.group(1))
    found += _CSS_URL.findall(html)
    for body in _SCRIPT_BODY.findall(html):
        found += _JS_IMPORT.findall(body)
    return found


def scan_site(site_dir: Path | str) -> dict[str, list[str]]:
    """Every HTML and CSS file of ``site_dir`` that loads something from another host."""
    site_dir = Path(site_dir)
    problems: dict[str, list[str]] = {}
    for path in sorted(site_dir.rglob("*")):
        if path.suffix not in {".html", ".css"}:
            continue
        urls = external_loads(path.read_text(encoding="utf-8", errors="replace"))
        if urls:
            problems[path.relative_to(site_dir).as_posix()] = sorted(set(urls))
    return problems
