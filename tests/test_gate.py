"""The gate: a broken or hanging proof fails every path (pytest, the script, nbval, the site build), named.

Each test builds a throwaway project (``tests/_support.py``) with one page and one proof module, so
nothing in the repository changes. A hang is stopped by ``QED_TIMEOUT`` (3 s here).
"""

from __future__ import annotations

import re
import shutil
import sys

import pytest

from tests._support import BIN, FAILING, HANGING, MODULE, PASSING, ROOT, make_probe, run

TIMEOUT = "3"


def probe(tmp_path, cell):
    project = make_probe(tmp_path, cell)
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copy(ROOT / "answers" / "conftest.py", project / "answers" / "conftest.py")
    return project


def pytest_claims(project):
    return run([str(BIN / "pytest"), "answers/", f"--timeout={TIMEOUT}"], cwd=project, QED_TIMEOUT=TIMEOUT)


def nbval(project):
    converted = run([sys.executable, "-m", "qed.notebooks", "build/nb", "answers"], cwd=project)
    assert converted.returncode == 0, converted.stderr
    # as the Makefile runs it: two workers, each notebook whole on one of them
    return run(
        [str(BIN / "pytest"), "-n", "2", "--dist", "loadfile", "--nbval-lax", f"--nbval-cell-timeout={TIMEOUT}", "build/nb"],
        cwd=project,
    )


def site_build(project):
    return run([str(BIN / "mkdocs"), "build", "--strict"], cwd=project, QED_TIMEOUT=TIMEOUT)


def test_a_sound_proof_passes_every_path(tmp_path):
    project = probe(tmp_path, PASSING)
    assert pytest_claims(project).returncode == 0
    script = run([sys.executable, MODULE], cwd=project)
    assert script.returncode == 0 and "✔ test_sum_of_first_n_odd_numbers_is_n_squared" in script.stdout
    assert nbval(project).returncode == 0
    built = site_build(project)
    assert built.returncode == 0, built.stderr[-2000:]
    page = (project / "site" / MODULE.replace(".py", ".html")).read_text(encoding="utf-8")
    assert "1 passed, 0 failed" in page  # the executed checklist is on the page
    assert 'id="test_sum_of_first_n_odd_numbers_is_n_squared"' in page  # the anchor the claim lists link to
    question = (project / "site" / "algorithms" / "gate-probe.html").read_text(encoding="utf-8")
    assert "All 1 held when this site was built (torch not imported, Python " in question  # the probe imports no torch
    assert re.search(r'class="qed-held"[^>]*>✔</span> <a href="[^"]*gate_probe\.html#test_sum_of_first_n_odd', question)


def test_the_site_lists_only_claims_its_build_ran(tmp_path):
    """A claim defined after the cell that runs the claims is a test for pytest but never ran for the site: the build stops."""
    project = probe(tmp_path, PASSING)
    module = project / MODULE
    late = '\n\n# %%\ndef test_defined_too_late():\n    """Defined after run_claims, so the notebook never runs it."""\n    assert True\n'
    module.write_text(module.read_text() + late)
    result = site_build(project)
    assert result.returncode == 1
    assert f"{MODULE}: its execution ran 1 claims, but it defines 2; not run: test_defined_too_late" in result.stderr


def test_a_failing_claim_in_a_shared_helper_fails_the_build_naming_it(tmp_path):
    """Helpers (answers/_*.py) are no pages, but their claims run in the build too, and are listed in the ledger."""
    project = probe(tmp_path, PASSING)
    helper = project / "answers" / "_shared.py"
    helper.write_text('def test_helper_holds():\n    """Holds."""\n    assert True\n')
    (project / "docs" / "claims.md").write_text("# Claims\n\n<!-- qed:claims-ledger -->\n")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("- Sources: sources.md", "- Sources: sources.md\n- Claims: claims.md"))
    built = site_build(project)
    assert built.returncode == 0, built.stderr[-2000:]
    ledger = (project / "site" / "claims.html").read_text(encoding="utf-8")
    assert "<strong>2 claims</strong> in 2 modules" in ledger and "<code>test_helper_holds</code>" in ledger
    helper.write_text('def test_helper_breaks():\n    """Breaks on purpose."""\n    assert 1 == 2\n')
    result = site_build(project)
    assert result.returncode == 1
    assert "shared helper answers/_shared.py: its claims failed: AssertionError: 1 of 1 claims failed: test_helper_breaks" in result.stderr


def test_a_build_that_runs_no_proof_lists_no_claim_as_held(tmp_path):
    project = probe(tmp_path, PASSING)
    config = project / "mkdocs.yml"  # make_probe resolved !ENV QED_EXECUTE when it copied the config
    config.write_text(config.read_text().replace("execute: true", "execute: false"))
    result = run([str(BIN / "mkdocs"), "build", "--strict"], cwd=project)
    assert result.returncode == 0, result.stderr[-2000:]
    question = (project / "site" / "algorithms" / "gate-probe.html").read_text(encoding="utf-8")
    assert "not listed, because this build did not run the proofs" in question
    assert "qed-held" not in question and "test_sum_of_first_n_odd_numbers_is_n_squared</code></a>" not in question


def test_a_broken_claim_fails_every_path_naming_it(tmp_path):
    project = probe(tmp_path, FAILING)
    result = pytest_claims(project)
    assert result.returncode == 1 and "FAILED answers/algorithms/gate_probe.py::test_broken_on_purpose" in result.stdout
    script = run([sys.executable, MODULE], cwd=project)
    assert script.returncode != 0 and "✘ test_broken_on_purpose" in script.stdout
    result = nbval(project)
    assert result.returncode == 1 and "gate_probe.ipynb" in result.stdout and "test_broken_on_purpose" in result.stdout
    result = site_build(project)
    assert result.returncode == 1
    assert f"proof module {MODULE} failed while executing: AssertionError: 1 of 2 claims failed: test_broken_on_purpose" in result.stderr


@pytest.mark.parametrize("path", ["pytest", "nbval", "site"])
def test_a_hanging_proof_is_stopped_and_named(tmp_path, path):
    project = probe(tmp_path, HANGING)
    if path == "pytest":
        result = pytest_claims(project)
        assert result.returncode != 0 and "answers/algorithms/gate_probe.py took longer than 3 s to import" in result.stdout
    elif path == "nbval":
        result = nbval(project)
        assert result.returncode == 1 and "gate_probe.ipynb" in result.stdout and "Timeout" in result.stdout
    else:
        result = site_build(project)
        assert result.returncode == 1 and f"proof module {MODULE} failed while executing: CellTimeoutError" in result.stderr
