"""Convert every proof module to a notebook with jupytext, for nbval: ``python -m qed.notebooks OUT_DIR``.

One process for all modules (launching the jupytext command once per file costs ~0.4 s each).
``answers/<section>/<module>.py`` becomes ``OUT_DIR/answers/<section>/<module>.ipynb``, so nbval's
test ids name the module.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import jupytext

from qed.claims import proof_module_paths


def convert_all(answers_dir: Path, out_dir: Path) -> list[Path]:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    written = []
    for module in proof_module_paths(answers_dir):
        target = out_dir / module.relative_to(answers_dir.parent).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = jupytext.read(module, fmt="py:percent")
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        jupytext.write(notebook, target, fmt="ipynb")
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m qed.notebooks OUT_DIR [ANSWERS_DIR]", file=sys.stderr)
        return 2
    answers = Path(argv[1]) if len(argv) == 2 else Path("answers")
    written = convert_all(answers, Path(argv[0]))
    print(f"converted {len(written)} proof modules to notebooks in {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
