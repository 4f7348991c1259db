"""Proof modules as notebooks.

- For nbval: ``python -m qed.notebooks OUT_DIR`` converts every proof module with jupytext, in one
  process (launching the jupytext command once per file costs ~0.4 s each).
  ``answers/<section>/<module>.py`` becomes ``OUT_DIR/answers/<section>/<module>.ipynb``, so nbval's
  test ids name the module.
- For the site: :func:`prerender` executes the proofs that mkdocs-jupyter's cache lacks, several at
  a time, and writes them into that cache in its own format; mkdocs-jupyter then renders each page
  from the cache. It executes one notebook at a time otherwise, which dominates a cold build.
  Each cache entry also keeps the record of the claims that execution ran (``qed.claims``), which
  :func:`prerender` returns for the pages.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import jupytext

from qed.claims import RECORD_ENV, proof_module_paths


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


def _render(job: tuple[str, dict, int, str]) -> tuple[str | None, dict | None]:
    """Execute and render one notebook into the cache file; return (an error line, None) or (None, its claims record)."""
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens

    path, options, toc_depth, cache_path = job
    patch_cell_timeout()
    with tempfile.TemporaryDirectory(prefix="qed-claims-") as scratch:
        record_path = Path(scratch) / "record.json"
        previous = os.environ.get(RECORD_ENV)
        os.environ[RECORD_ENV] = str(record_path)  # the kernel inherits it; run_claims writes there
        try:
            body = convert.nb2html(path, execute=True, **options)
        except Exception as error:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
            return error_summary(error), None
        finally:
            if previous is None:
                os.environ.pop(RECORD_ENV, None)
            else:
                os.environ[RECORD_ENV] = previous
        if not record_path.exists():
            return "its last cell did not run the claims (run_claims(globals()) under if __name__ == '__main__')", None
        record = json.loads(record_path.read_text(encoding="utf-8"))
    toc_tokens, title = _get_nb_toc_tokens(path, toc_depth)
    target = Path(cache_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    entry = {"content": body, "toc_tokens": toc_tokens, "title": title, "qed_claims": record}
    partial.write_text(json.dumps(entry), encoding="utf-8")
    partial.replace(target)  # never a half-written cache entry
    return None, record


def _cache_path(module: Path, plugin_config) -> Path:
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    return _get_cache_path(plugin_config["cache_dir"], _compute_cache_key(str(module), plugin_config, True))


def _record(cache_path: Path) -> dict | None:
    """The claims record kept in a cache entry; None for a missing or foreign entry."""
    try:
        return json.loads(cache_path.read_text(encoding="utf-8"))["qed_claims"]
    except (OSError, ValueError, KeyError):
        return None


def prerender(modules: list[Path], plugin_config, jobs: int | None = None) -> tuple[dict[Path, str], dict[Path, dict]]:
    """Fill mkdocs-jupyter's cache for ``modules``, ``jobs`` at a time.

    Returns ({module: error line} for the failures, {module: claims record} for the others). An entry
    without a claims record (written by mkdocs-jupyter itself) is executed again.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    options = {name: plugin_config[name] for name in NB2HTML_OPTIONS}
    records, todo = {}, []
    for module in modules:
        cache_path = _cache_path(module, plugin_config)
        record = _record(cache_path)
        if record is None:
            todo.append((module, (str(module), options, plugin_config["toc_depth"], str(cache_path))))
        else:
            records[module] = record
    jobs = jobs or int(os.environ.get("QED_JOBS", os.cpu_count() or 1))
    if jobs <= 1 or len(todo) <= 1:
        results = [_render(job) for _, job in todo]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_render, [job for _, job in todo]))
    failures = {}
    for (module, _), (error, record) in zip(todo, results):
        if error:
            failures[module] = error
        else:
            records[module] = record
    return failures, records


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
