"""What a claim is, and the checklist that runs the claims of a proof module outside pytest.

A claim is a module-level function ``test_<name>()`` that takes no arguments and whose docstring
states the claim in one sentence. pytest collects the same functions from ``answers/``; the
notebook paths (nbval, the site build) and ``python answers/<section>/<module>.py`` run them through
:func:`run_claims`, in the last cell of every proof module.

When ``QED_CLAIMS_RECORD`` names a file, :func:`run_claims` also writes there what it ran: each
claim's name, docstring, outcome and time, with the torch and Python versions. The site build sets it
for every proof it executes, so a page lists exactly the claims that build ran (``qed.notebooks``).
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

PASS = "✔"
FAIL = "✘"
RECORD_ENV = "QED_CLAIMS_RECORD"


def claims_in(namespace: Mapping[str, object]) -> list[Callable[[], object]]:
    """The claim functions defined in ``namespace``, in the order they were defined."""
    return [
        obj
        for name, obj in namespace.items()
        if name.startswith("test_") and inspect.isfunction(obj)
    ]


def run_claims(namespace: Mapping[str, object]) -> None:
    """Run every claim in ``namespace``, print a checklist, and raise if any claim failed.

    The raise matters: it is what makes nbval and the site build (``allow_errors: false``) fail.
    """
    failed: list[str] = []
    ran: list[dict] = []
    claims = claims_in(namespace)
    for claim in claims:
        doc = inspect.getdoc(claim) or ""
        start = time.perf_counter()
        try:
            claim()
        except Exception as error:  # any exception, not only AssertionError, refutes the claim
            failed.append(claim.__name__)
            print(f"{FAIL} {claim.__name__}: {doc}")
            last = traceback.format_exception_only(error)[-1].strip()
            print(f"    {last}")
        else:
            print(f"{PASS} {claim.__name__}: {doc}")
        seconds = time.perf_counter() - start
        ran.append({"name": claim.__name__, "doc": " ".join(doc.split()), "passed": claim.__name__ not in failed,
                    "seconds": round(seconds, 4)})
    print(f"{len(claims) - len(failed)} passed, {len(failed)} failed")
    _write_record(ran)
    if failed:
        raise AssertionError(f"{len(failed)} of {len(claims)} claims failed: {', '.join(failed)}")


def _write_record(ran: list[dict]) -> None:
    target = os.environ.get(RECORD_ENV)
    if not target:
        return
    torch = sys.modules.get("torch")
    record = {
        "claims": ran,
        "torch": getattr(torch, "__version__", None),
        "python": platform.python_version(),
        "ran_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(record, handle)


# A child process that runs the claims of a module that is no notebook (a shared helper such as
# answers/_models.py) as run_claims does, and records them.
_RUN_MODULE = "import runpy, sys; from qed.claims import run_claims; run_claims(runpy.run_path(sys.argv[1], run_name='qed_claims'))"


class ClaimsFailed(RuntimeError):
    """A module's claims did not all run and hold; the message is one line."""


def run_module_claims(path: Path | str, cwd: Path | str, timeout: float) -> dict:
    """Run the claims of ``path`` in a child Python (cwd ``cwd``) and return its record (see run_claims)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qed-claims-") as scratch:
        record = Path(scratch) / "record.json"
        env = {**os.environ, RECORD_ENV: str(record)}
        try:
            done = subprocess.run([sys.executable, "-c", _RUN_MODULE, str(path)], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ClaimsFailed(f"{path}: its claims took longer than {timeout:g} s") from None
        if done.returncode != 0 or not record.exists():
            last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1]
            raise ClaimsFailed(f"{path}: its claims failed: {last}")
        return json.loads(record.read_text(encoding="utf-8"))


# --- Reading claims without running them (for the site hooks, the tests and the CLI) ---------------


@dataclass(frozen=True)
class Claim:
    name: str
    doc: str  # the docstring, whitespace collapsed ("" if missing)
    lineno: int
    arguments: int  # a claim takes none


def read_claims(path: Path | str) -> list[Claim]:
    """The claims defined at the top level of a proof module, read from its source (nothing runs)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    claims = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            doc = " ".join((ast.get_docstring(node) or "").split())
            arguments = len(node.args.args) + len(node.args.posonlyargs) + len(node.args.kwonlyargs)
            claims.append(Claim(node.name, doc, node.lineno, arguments))
    return claims


def is_helper(path: Path) -> bool:
    """Helpers (``_*.py``, ``__init__.py``, ``conftest.py``) are imported by proofs, never pages."""
    return path.name.startswith("_") or path.name == "conftest.py"


def proof_module_paths(answers_dir: Path | str) -> list[Path]:
    """Every proof module under ``answers_dir`` (``answers/<section>/<module>.py``), sorted."""
    return sorted(p for p in Path(answers_dir).rglob("*.py") if not is_helper(p))
