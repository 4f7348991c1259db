"""Every formula on the site parses with the vendored KaTeX (a TeX error would only show in a browser).

Math is taken from question pages and from the Markdown cells of proof modules, outside code, and
rendered by ``docs/assets/vendor/katex/katex.min.js`` in one Node process with ``throwOnError``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jupytext
import pytest

from qed.claims import proof_module_paths
from qed.pages import page_paths
from tests._support import ROOT

KATEX = ROOT / "docs" / "assets" / "vendor" / "katex" / "katex.min.js"
NODE = shutil.which("node")

_CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.DOTALL)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)")

RENDER = """
const katex = require(process.argv[1]);
const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
const errors = [];
for (const [where, tex, display] of items) {
  try { katex.renderToString(tex, {throwOnError: true, displayMode: display}); }
  catch (e) { errors.push(`${where}: ${JSON.stringify(tex)}: ${e.message}`); }
}
process.stdout.write(JSON.stringify(errors));
"""


def formulas(markdown: str, where: str) -> list[tuple[str, str, bool]]:
    text = _CODE.sub(" ", markdown)
    found = [(where, tex.strip(), True) for tex in _DISPLAY.findall(text)]
    text = _DISPLAY.sub(" ", text)
    return found + [(where, tex, False) for tex in _INLINE.findall(text)]


def markdown_of_module(path: Path) -> str:
    """The Markdown cells of a percent-format module, as jupytext reads them for the notebooks."""
    notebook = jupytext.read(path, fmt="py:percent")
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_the_extractor_finds_inline_and_display_math_outside_code():
    found = formulas("cost $2 \\cdot 9C^2$ and $$\\frac{a}{b}$$, not `$x$` nor $5 or $ 6 $", "p")
    assert found == [("p", "\\frac{a}{b}", True), ("p", "2 \\cdot 9C^2", False)]


@pytest.mark.skipif(NODE is None, reason="node is not installed; the math lint needs it")
def test_every_formula_renders_with_katex():
    items = []
    for path in page_paths(ROOT / "docs"):
        items += formulas(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    for path in proof_module_paths(ROOT / "answers"):
        items += formulas(markdown_of_module(path), str(path.relative_to(ROOT)))
    assert len(items) > 100  # the exemplars alone hold hundreds of formulas
    result = subprocess.run(
        [NODE, "-e", RENDER, str(KATEX)], input=json.dumps(items), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.skipif(NODE is None, reason="node is not installed; the math lint needs it")
def test_the_lint_catches_a_bad_macro():
    result = subprocess.run(
        [NODE, "-e", RENDER, str(KATEX)],
        input=json.dumps([["p", "\\badmacro{x}", False]]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Undefined control sequence" in result.stdout
