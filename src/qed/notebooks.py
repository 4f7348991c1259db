"""Proof modules as notebooks.

- For nbval: ``python -m qed.notebooks OUT_DIR`` converts every proof module with jupytext, in one
  process (launching the jupytext command once per file costs ~0.4 s each).
  ``answers/<section>/<module>.py`` becomes ``OUT_DIR/answers/<section>/<module>.ipynb``, so nbval's
  test ids name the module.
- For the site: :func:`prerender` executes the proofs that mkdocs-jupyter's cache lacks, several at
  a time, and writes them into that cache in its own format; mkdocs-jupyter then renders each page
  from the cache. It executes one notebook at a time otherwise, which dominates a cold build.
"""

from __future__ import annotations

import json
import os
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


TIMEOUT_DEFAULT = 120  # seconds a cell may run (QED_TIMEOUT, as for pytest and nbval)
# mkdocs-jupyter's options that change what nb2html produces (the ones its cache key covers)
NB2HTML_OPTIONS = (
    "kernel_name", "theme", "allow_errors", "show_input", "no_input", "no_prompt", "remove_tag_config",
    "highlight_extra_classes", "include_requirejs", "custom_mathjax_url",
)


def patch_cell_timeout() -> None:
    """Give every cell that mkdocs-jupyter executes the ``QED_TIMEOUT`` limit (idempotent)."""
    from mkdocs_jupyter import nbconvert2

    if getattr(nbconvert2.get_nbconvert_app, "_qed", False):
        return
    original = nbconvert2.get_nbconvert_app

    def get_nbconvert_app(*args, **kwargs):
        from traitlets.config import Config

        app = original(*args, **kwargs)
        timeout = int(os.environ.get("QED_TIMEOUT", TIMEOUT_DEFAULT))
        # mkdocs-jupyter sets this section as a plain dict, which Config.merge would replace whole.
        app.config["ExecutePreprocessor"] = Config({**app.config["ExecutePreprocessor"], "timeout": timeout})
        return app

    get_nbconvert_app._qed = True
    nbconvert2.get_nbconvert_app = get_nbconvert_app


def error_summary(error: Exception) -> str:
    """One line for an execution failure: the kernel's exception, or the error's first line."""
    name = getattr(error, "ename", None)
    if name:  # CellExecutionError carries the kernel's exception name and value
        return f"{name}: {getattr(error, 'evalue', '')}".strip()
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _render(job: tuple[str, dict, int, str]) -> str | None:
    """Execute and render one notebook into the cache file; return an error line or None."""
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens

    path, options, toc_depth, cache_path = job
    patch_cell_timeout()
    try:
        body = convert.nb2html(path, execute=True, **options)
    except Exception as error:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
        return error_summary(error)
    toc_tokens, title = _get_nb_toc_tokens(path, toc_depth)
    target = Path(cache_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps({"content": body, "toc_tokens": toc_tokens, "title": title}), encoding="utf-8")
    partial.replace(target)  # never a half-written cache entry
    return None


def prerender(modules: list[Path], plugin_config, jobs: int | None = None) -> dict[Path, str]:
    """Fill mkdocs-jupyter's cache for ``modules``, ``jobs`` at a time; return {module: error} for failures."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    options = {name: plugin_config[name] for name in NB2HTML_OPTIONS}
    todo = []
    for module in modules:
        cache_path = _get_cache_path(plugin_config["cache_dir"], _compute_cache_key(str(module), plugin_config, True))
        if not cache_path.exists():
            todo.append((module, (str(module), options, plugin_config["toc_depth"], str(cache_path))))
    if not todo:
        return {}
    jobs = jobs or int(os.environ.get("QED_JOBS", os.cpu_count() or 1))
    if jobs <= 1 or len(todo) == 1:
        results = [_render(job) for _, job in todo]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_render, [job for _, job in todo]))
    return {module: error for (module, _), error in zip(todo, results) if error}


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
