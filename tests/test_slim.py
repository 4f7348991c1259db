"""qed.slim on a handcrafted page and on real proof pages: what a reader sees is kept, the weight goes."""

from __future__ import annotations

import base64
import gzip
import html
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from qed.slim import UNSTYLED_CLASSES, WHITESPACE_CLASS, image_size, slim_proof_page

DATA = Path(__file__).parent / "data"
# A built proof page of the sample site, kept because it is the smallest one with a plot.
REAL_PAGE = DATA / "in_place_operations.html.gz"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def url_of(name: str) -> str:
    return f"../../assets/plots/{name}"


def png(width: int, height: int) -> bytes:
    """An RGB PNG, every pixel grey."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg_header(width: int, height: int, exif: bool = False) -> bytes:
    """The segments of a baseline JPEG up to its frame header: enough for a browser to know the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", 16) + b"Exif\x00\x00MM\x00*\x00\x00\x00\x08" if exif else b""
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + sof0 + b"\xff\xd9"


def data_uri(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def code_cell(number: int, highlighted: str, source: str) -> str:
    return f"""<div class="jp-Cell jp-CodeCell jp-Notebook-cell">
<div class="jp-InputPrompt jp-InputArea-prompt">In [{number}]:</div><div class="CodeMirror cm-s-jupyter">
<div class="zeroclipboard-container">
<clipboard-copy ,="" aria-label="Copy to Clipboard" for="cell-{number}">
<div>
<span class="notice" hidden="">Copied!</span>
<svg aria-hidden="true" class="clipboard-copy-icon" height="20" viewbox="0 0 16 16" width="20">
<path d="M0 6.75C0 5.784.784 5 1.75 5h1.5" fill="currentColor"></path>
</svg>
</div>
</clipboard-copy>
</div>
<div class="highlight-ipynb hl-python"><pre><span></span>{highlighted}
</pre></div>
<div class="clipboard-copy-txt" id="cell-{number}">{html.escape(source)}</div>
</div>
</div>
"""


PLOT = png(7, 3)
PHOTO = jpeg_header(40, 30)
ROTATED = jpeg_header(40, 30, exif=True)
LOGO = png(2, 2)
CELL = code_cell(
    1,
    '<span class="kn">import</span><span class="w"> </span><span class="nn">torch</span>\n'
    '<span class="n">x</span> <span class="o">=</span> <span class="nb">len</span><span class="p">(</span>'
    '<span class="s2">&quot;&lt;/span&gt;&quot;</span><span class="p">)</span>'
    '<span class="w">  </span><span class="c1"># a &amp; b</span>',
    'import torch\nx = len("</span>")  # a & b',
)
HANDCRAFTED = f"""<!doctype html>
<html><head><title>probe</title></head><body>
<header><img alt="logo" src="{data_uri("png", LOGO)}"></header>
<nav class="md-nav"><div class="zeroclipboard-container"><clipboard-copy for="x">chrome</clipboard-copy></div></nav>
<article class="md-content__inner md-typeset">
<script>
  class ClipboardCopyElement extends HTMLElement {{}}
  window.customElements.define('clipboard-copy', ClipboardCopyElement);
</script>
<script>
      document.addEventListener('clipboard-copy', function(event) {{ }})
</script>
<script>var kept = 1</script>
<style>
  .jp-Mermaid:not(.jp-RenderedMermaid) {{ display: none; }}
</style>
<!-- End of mermaid configuration --><div class="jupyter-wrapper">
<div class="jp-MarkdownOutput"><p>With $a=\\sqrt5$ and $1/\\sqrt{{\\text{{fan\\_in}}}}$: a &lt;b&gt; tag.</p></div>
{CELL}
<div class="jp-OutputArea-output"><pre>tensor([1, 2]) &lt;done&gt;
</pre></div>
<div class="jp-RenderedImage jp-OutputArea-output" tabindex="0">
<img alt="No description has been provided for this image" class="" src="{data_uri("png", PLOT)}"/>
</div>
<div class="jp-RenderedImage jp-OutputArea-output"><img src="{data_uri("jpeg", PHOTO)}" width="20"></div>
<div class="jp-RenderedImage jp-OutputArea-output"><img src='{data_uri("jpeg", ROTATED)}' alt="rotated"></div>
<div class="jp-RenderedImage jp-OutputArea-output"><img src="{data_uri("png", PLOT)}" alt="the plot again"></div>
</div>
</article>
<footer><script>var chrome = 1</script></footer>
</body></html>
"""


class _Reader(HTMLParser):
    """The text a reader sees in a piece of HTML, and its <img> tags' attributes, in order."""

    HIDDEN_TAGS = {"script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.skipping = 0  # depth inside an element the reader does not see

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        if tag in VOID:
            return
        attributes = dict(attrs)
        hidden = (
            tag in self.HIDDEN_TAGS or "hidden" in attributes or "clipboard-copy-txt" in (attributes.get("class") or "")
        )
        if self.skipping or hidden:
            self.skipping += 1

    def handle_startendtag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if self.skipping and tag not in VOID:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.text.append(data)


def article(page: str) -> str:
    found = re.search(r"<article\b.*</article>", page, re.DOTALL)
    return found.group(0) if found else page


def read(page: str) -> _Reader:
    reader = _Reader()
    reader.feed(article(page))
    reader.close()
    return reader


def words(page: str) -> list[str]:
    return "".join(read(page).text).split()


def pre_texts(page: str) -> list[str]:
    bodies = re.findall(r"<pre\b[^>]*>(.*?)</pre>", page, re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]*>", "", body)) for body in bodies]


def png_pixels_bytes(data: bytes) -> tuple[int, int, int]:
    """(width, height, length of the decompressed pixel rows) of a PNG whose chunk CRCs all check out."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
        if kind == b"IDAT":
            idat += body
        position += 12 + length
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    row = 1 + (width * channels * depth + 7) // 8
    pixels = zlib.decompress(idat)
    assert len(pixels) == height * row
    return width, height, len(pixels)


def check_page(original: str) -> tuple[str, dict[str, bytes]]:
    """Slim a page and check every promise of slim_proof_page on it; returns what slimming gave."""
    slim, images = slim_proof_page(original, url_of)
    assert pre_texts(slim) == pre_texts(original)
    assert words(slim) == words(original)
    before, after = read(original).images, read(slim).images
    assert len(after) == len(before)
    for old, new in zip(before, after):
        uri = re.fullmatch(r"data:image/([\w+.-]+);base64,(.*)", old["src"], re.DOTALL)
        if not uri:
            assert new == old
            continue
        expected = base64.b64decode(uri.group(2))
        name = new["src"].removeprefix("../../assets/plots/")
        assert new["src"] == url_of(name) and images[name] == expected
        assert name.endswith({"png": ".png", "jpeg": ".jpg"}[uri.group(1)])
        assert new["loading"] == "lazy"
        assert {k: v for k, v in new.items() if k not in {"src", "loading", "width", "height"}} == {
            k: v for k, v in old.items() if k not in {"src", "width", "height"}
        }
        if uri.group(1) == "png":
            width, height, _ = png_pixels_bytes(images[name])
            if "width" not in old:
                assert (new["width"], new["height"]) == (str(width), str(height))
    assert slim_proof_page(slim, url_of) == (slim, {})
    return slim, images


# ------------------------------------------------------------------------------------ handcrafted


def test_handcrafted_page_keeps_what_a_reader_sees():
    """Text, <pre> text, images and their sizes survive; the copy buttons, their scripts and dead CSS go."""
    slim, images = check_page(HANDCRAFTED)
    assert set(images.values()) == {PLOT, PHOTO, ROTATED}  # the plot shown twice is one file
    assert "clipboard-copy" not in article(slim) and "Copied!" not in slim
    assert "ClipboardCopyElement" not in slim and "jp-Mermaid" not in slim and "mermaid configuration" not in slim
    assert "<script>var kept = 1</script>" in slim
    assert "$a=\\sqrt5$ and $1/\\sqrt{\\text{fan\\_in}}$" in slim


def test_only_unstyled_spans_are_unwrapped():
    """Names lose their spans, whitespace its own; keywords, operators, punctuation, strings, comments keep theirs."""
    slim, _ = slim_proof_page(HANDCRAFTED, url_of)
    code = re.search(r'<div class="highlight-ipynb hl-python"><pre>(.*?)</pre>', slim, re.DOTALL).group(1)
    expected = (
        '<span></span><span class="kn">import</span> torch\n'
        'x <span class="o">=</span> len<span class="p">(</span>'
        '<span class="s2">&quot;&lt;/span&gt;&quot;</span><span class="p">)</span>'
        '  <span class="c1"># a &amp; b</span>\n'
    )
    assert code == expected


def test_a_whitespace_span_holding_text_keeps_its_colour():
    fragment = code_cell(2, '<span class="w"> </span><span class="w">x</span>', "x")
    slim, _ = slim_proof_page(fragment, url_of)
    assert '<pre><span></span> <span class="w">x</span>\n</pre>' in slim


def test_image_sizes_are_what_the_browser_showed():
    """Pixel size from the PNG and JPEG headers; a width the notebook set is kept; an Exif JPEG gets none."""
    slim, _ = slim_proof_page(HANDCRAFTED, url_of)
    tags = re.findall(r"<img\b[^>]*>", article(slim))
    plot, photo, rotated, plot_again = tags
    assert re.fullmatch(
        r'<img alt="No description has been provided for this image" class="" '
        r'src="\.\./\.\./assets/plots/[0-9a-f]{16}\.png" loading="lazy" width="7" height="3"/>',
        plot,
    )
    assert 'width="20"' in photo and "height" not in photo and 'loading="lazy"' in photo
    assert "width" not in rotated and "height" not in rotated
    assert 'width="7" height="3"' in plot_again


def test_the_page_outside_the_article_is_untouched():
    slim, images = slim_proof_page(HANDCRAFTED, url_of)
    head, tail = HANDCRAFTED.split("<article")[0], HANDCRAFTED.split("</article>")[1]
    assert slim.startswith(head) and slim.endswith(tail)
    assert LOGO not in images.values()


def test_a_fragment_without_article_is_slimmed_whole():
    fragment = code_cell(3, '<span class="n">y</span>', "y")
    slim, _ = slim_proof_page(fragment, url_of)
    assert '<pre><span></span>y\n</pre>' in slim and "clipboard" not in slim


def test_image_size_reads_headers():
    assert image_size(png(640, 330), "png") == (640, 330)
    assert image_size(jpeg_header(1090, 390), "jpeg") == (1090, 390)
    assert image_size(jpeg_header(5, 7, exif=True), "jpeg") is None
    assert image_size(b"GIF89a" + struct.pack("<HH", 12, 34) + b"\x00" * 8, "gif") == (12, 34)
    assert image_size(b"<svg/>", "svg+xml") is None


def test_an_image_whose_bytes_are_not_its_type_is_an_error():
    page = f'<div class="jupyter-wrapper"><img src="{data_uri("png", PHOTO)}"/></div>'
    with pytest.raises(ValueError, match=r"data:image/png URI whose bytes are not a PNG"):
        slim_proof_page(page, url_of)


def test_unstyled_classes_are_those_the_notebook_css_leaves_alone():
    """Recomputed from the Pygments style that nbconvert writes for mkdocs-jupyter."""
    pytest.importorskip("jupyterlab_pygments")
    from jupyterlab_pygments import JupyterStyle
    from pygments.formatters import HtmlFormatter
    from pygments.token import STANDARD_TYPES

    css = HtmlFormatter(style=JupyterStyle).get_style_defs(".highlight-ipynb")
    styled = set(re.findall(r"\.highlight-ipynb \.([\w-]+)", css))
    assert UNSTYLED_CLASSES == {name for name in STANDARD_TYPES.values() if name} - styled
    whitespace_rule = re.search(r"\.highlight-ipynb \.w \{([^}]*)\}", css).group(1)
    block_rule = re.search(r"\.highlight-ipynb \{([^}]*)\}", css).group(1)
    assert whitespace_rule.strip().startswith("color:") and ";" not in whitespace_rule.strip()
    assert whitespace_rule.strip() in block_rule and WHITESPACE_CLASS == "w"


# ------------------------------------------------------------------------------------- real pages


def test_real_proof_page_keeps_what_a_reader_sees():
    """The smallest sample proof page with a plot: 120 kB, of which the plot, copy buttons and spans go."""
    original = gzip.decompress(REAL_PAGE.read_bytes()).decode()
    slim, images = check_page(original)
    assert len(images) == 1 and len(slim.encode()) < 0.7 * len(original.encode())
    assert '<span class="n">' not in slim and "clipboard-copy" not in article(slim)
    assert len(slim.encode()) <= 150_000
