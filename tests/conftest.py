"""Shared fixtures of the project's own tests: the repository's pages, proofs, and a quick site build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qed.pages import load_pages

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def pages():
    return load_pages(ROOT / "docs")


def run(command: list[str], cwd: Path = ROOT, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run a command of the venv with ``env`` added; output captured as text."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def quick_site(tmp_path_factory) -> Path:
    """The real site built without executing the proofs (fast); what the tests of site/ read."""
    site = tmp_path_factory.mktemp("site")
    result = run([str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(site)], QED_EXECUTE="false")
    assert result.returncode == 0, result.stderr[-3000:]
    return site
