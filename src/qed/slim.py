"""Slimmer proof pages: what nbconvert writes into an executed notebook's HTML that no reader sees or uses.

``slim_proof_page(html, image_url)`` works on the page's ``<article>`` (the whole input when there is
none) and changes four things there, nothing outside it:

- every ``<img src="data:image/...;base64,...">`` (the notebook's plots) becomes a file: the bytes
  are returned under ``<sha256[:16]>.<ext>`` and ``src`` becomes ``image_url(name)``; the tag gains
  ``loading="lazy"`` and, unless it had a width or height already, the size the browser showed
  before: the pixel size from the PNG/JPEG/GIF header (an ``<img>`` without a width shows at its
  pixel size, whatever dpi matplotlib wrote in the PNG's pHYs chunk: 100 on every sample page);
- Pygments spans whose class the notebook CSS does not style are unwrapped, their text kept as is;
- each code cell's copy button (``<clipboard-copy>``, an inline SVG) and its hidden duplicate of the
  source (``<div class="clipboard-copy-txt">``) go, with the two scripts that served them;
- the Mermaid stylesheet of nbconvert's template goes when no element of the page is a Mermaid diagram
  (its loader is already removed by the hooks, so there is nothing it could style).

Stdlib only and regex-based: nbconvert's output is regular (BeautifulSoup re-serialized by
mkdocs-jupyter); the 72 proof pages take about 0.1 s together.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html as html_lib
import re
import struct
from collections.abc import Callable

# Pygments' short classes (pygments.token.STANDARD_TYPES) that no stylesheet of a proof page styles.
# Derived as STANDARD_TYPES minus the classes of the ``.highlight-ipynb .<class>`` rules that nbconvert
# writes for mkdocs-jupyter (jupyterlab_pygments' JupyterStyle; assets/jupyter/73c7e2ce9d87.css of
# the sample site), after checking that no other stylesheet the page loads names them outside
# material's ``.highlight .n``-like rules, which need an ancestor of class ``highlight`` that notebook
# code lacks (its wrapper is ``highlight-ipynb``). tests/test_slim.py derives the set again.
UNSTYLED_CLASSES = frozenset(
    "bp esc fm g gd ge ges gh gi go gp gr gs gt gu l ld n na nb nc nd ne nf ni nl nn no nt nv nx py vc vg vi vm x"
    .split()
)
# Text.Whitespace has a rule, but a colour only, and a colour does not show on whitespace: such a span is
# unwrapped when it holds nothing but whitespace.
WHITESPACE_CLASS = "w"

# What an image's MIME subtype is saved as; other image types stay inline.
IMAGE_EXTENSIONS = {"png": "png", "jpeg": "jpg", "jpg": "jpg", "gif": "gif", "webp": "webp", "svg+xml": "svg"}

_ARTICLE = re.compile(r"<article\b[^>]*>.*</article>", re.DOTALL)
_ATTRIBUTE_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+)"""
_IMG = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""")
_ATTRIBUTE = re.compile(rf"""([^\s"'>/=]+)(?:\s*=\s*({_ATTRIBUTE_VALUE}))?""")
_DATA_URI = re.compile(r"data:image/([\w.+-]+)(?:;[\w.+-]+=[^;,]*)*;base64,(.*)", re.DOTALL | re.IGNORECASE)
_CODE_BLOCK = re.compile(r'(<div class="highlight-ipynb[^"]*">\s*<pre\b[^>]*>)([^<]*(?:<(?!/pre>)[^<]*)*)(</pre>)')
_UNSTYLED_SPAN = re.compile(
    r'<span class="(?:%s)">([^<]*)</span>' % "|".join(sorted(UNSTYLED_CLASSES, key=len, reverse=True))
)
_WHITESPACE_SPAN = re.compile(r'<span class="%s">([ \t\r\n\f]*)</span>' % WHITESPACE_CLASS)
# The copy button of a code cell (a <clipboard-copy> web component with an SVG icon and a "Copied!"
# notice) and the hidden copy of the cell's source that it copies from; the source is escaped HTML,
# so the copy holds no "<".
_COPY_BUTTON = re.compile(
    r'<div class="zeroclipboard-container">\s*'
    r"<clipboard-copy\b[^<]*(?:<(?!/clipboard-copy>)[^<]*)*</clipboard-copy>\s*</div>\n?"
)
_COPY_SOURCE = re.compile(r'<div class="clipboard-copy-txt"[^>]*>[^<]*</div>\n?')
_SCRIPT = re.compile(r"<script>(.*?)</script>\n?", re.DOTALL)
_COPY_SCRIPT_MARKERS = ("ClipboardCopyElement", "'clipboard-copy'")
_MERMAID_STYLE = re.compile(
    r"<style>\s*\.jp-Mermaid.*?</style>\n?(?:<!-- End of mermaid configuration -->)?", re.DOTALL
)


def slim_proof_page(html: str, image_url: Callable[[str], str]) -> tuple[str, dict[str, bytes]]:
    """The page without what a reader neither sees nor uses, and the images taken out of it.

    ``image_url`` maps an image's file name (``<sha256[:16]>.<ext>``) to the URL to write in its
    ``src``, relative to the page; the caller writes the returned bytes where that URL points.
    Slimming a slimmed page changes nothing and returns no images.
    """
    article = _ARTICLE.search(html)
    start, end = (article.start(), article.end()) if article else (0, len(html))
    images: dict[str, bytes] = {}
    body = html[start:end]
    body = _IMG.sub(lambda match: _extract_image(match.group(0), images, image_url), body)
    body = _CODE_BLOCK.sub(_unwrap_unstyled_spans, body)
    body = _COPY_BUTTON.sub("", body)
    body = _COPY_SOURCE.sub("", body)
    body = _SCRIPT.sub(lambda match: "" if _is_copy_script(match.group(1)) else match.group(0), body)
    without_style = _MERMAID_STYLE.sub("", body)
    if "Mermaid" not in without_style:  # no diagram on the page for the style to lay out
        body = without_style
    return html[:start] + body + html[end:], images


def image_size(data: bytes, subtype: str) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG, JPEG or GIF header; None for other types or an unknown layout."""
    subtype = subtype.lower()
    if subtype == "png" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if subtype == "gif" and data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    if subtype in ("jpeg", "jpg"):
        return _jpeg_size(data)
    return None


def _extract_image(tag: str, images: dict[str, bytes], image_url: Callable[[str], str]) -> str:
    attributes = [(m.group(1), m.group(2), m.span()) for m in _ATTRIBUTE.finditer(tag, 4)]
    names = {name.lower(): (value, span) for name, value, span in attributes}
    if "src" not in names or names["src"][0] is None:
        return tag
    value, (src_start, src_end) = names["src"]
    uri = html_lib.unescape(value.strip("\"'"))
    match = _DATA_URI.fullmatch(uri)
    if not match or match.group(1).lower() not in IMAGE_EXTENSIONS:
        return tag
    subtype = match.group(1).lower()
    try:
        data = base64.b64decode(match.group(2))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"<img> with a data:image/{subtype} URI whose base64 does not decode: {error}") from None
    _check_signature(data, subtype)
    name = f"{hashlib.sha256(data).hexdigest()[:16]}.{IMAGE_EXTENSIONS[subtype]}"
    images[name] = data
    added = "" if "loading" in names else ' loading="lazy"'
    size = image_size(data, subtype)
    if size and "width" not in names and "height" not in names:
        added += f' width="{size[0]}" height="{size[1]}"'
    closing = "/>" if tag.endswith("/>") else ">"
    head = tag[:src_start] + f'src="{html_lib.escape(image_url(name))}"' + tag[src_end : -len(closing)]
    return head.rstrip() + added + closing


def _check_signature(data: bytes, subtype: str) -> None:
    signatures = {"png": (b"\x89PNG\r\n\x1a\n",), "jpeg": (b"\xff\xd8",), "jpg": (b"\xff\xd8",), "gif": (b"GIF8",)}
    if subtype in signatures and not data.startswith(signatures[subtype]):
        raise ValueError(
            f"<img> with a data:image/{subtype} URI whose bytes are not a {subtype.upper()} ({data[:8]!r})"
        )


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The frame size of a JPEG's SOF segment; None when an Exif segment may rotate it on display."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xDA)):  # standalone markers
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segment = data[position + 4 : position + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif"):
            return None  # browsers apply its orientation, which may swap width and height
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", segment[1:5])
            return width, height
        position += 2 + length
    return None


def _unwrap_unstyled_spans(match: re.Match) -> str:
    code = _UNSTYLED_SPAN.sub(r"\1", match.group(2))
    code = _WHITESPACE_SPAN.sub(r"\1", code)
    return match.group(1) + code + match.group(3)


def _is_copy_script(script: str) -> bool:
    return any(marker in script for marker in _COPY_SCRIPT_MARKERS)
