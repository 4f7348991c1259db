"""Run proof modules through pytest (in a child process: the CLI never imports torch) and read
back each claim's outcome from pytest's JUnit XML report."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from qed.claims import Claim, read_claims

PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"


@dataclass(frozen=True)
class Outcome:
    module: Path
    claim: Claim
    status: str
    message: str = ""  # first line of the failure

    @property
    def ok(self) -> bool:
        return self.status in (PASSED, SKIPPED)


def run_proofs(root: Path, modules: list[Path], timeout: float | None = None) -> tuple[list[Outcome], str]:
    """Run the claims of ``modules`` with one pytest process; return each claim's outcome and pytest's output.

    A claim absent from the report (its module failed to import, pytest was stopped) is "not run",
    which counts as a failure.
    """
    with tempfile.TemporaryDirectory(prefix="qed-verify-") as folder:
        report = Path(folder) / "report.xml"
        command = [
            sys.executable, "-m", "pytest", *map(str, modules),
            "-q", "-p", "no:cacheprovider", "--rootdir", str(root), f"--junitxml={report}", "-o", "junit_family=xunit2",
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        try:
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
            output = done.stdout + done.stderr
        except subprocess.TimeoutExpired:
            output = f"pytest stopped after {timeout:g} s"
        results = _read_report(report) if report.exists() else {}
    outcomes = []
    for module in modules:
        for claim in read_claims(module):
            status, message = results.get((module.stem, claim.name), (NOT_RUN, ""))
            outcomes.append(Outcome(module, claim, status, message))
    return outcomes, output


def _read_report(report: Path) -> dict[tuple[str, str], tuple[str, str]]:
    results = {}
    for case in ElementTree.parse(report).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        name = case.get("name", "")
        status, message = PASSED, ""
        for child in case:
            if child.tag in ("failure", "error"):
                status = FAILED
                lines = (child.get("message") or child.text or "").strip().splitlines()
                message = lines[0] if lines else ""
            elif child.tag == "skipped":
                status = SKIPPED
        results[(module, name)] = (status, message)
    return results
