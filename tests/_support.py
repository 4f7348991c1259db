"""Support for the project's tests: running the venv's commands, and a throwaway probe project.

``make_probe`` writes a QED project with one question page and one proof module, for testing the gate.

``make_probe(tmp_path, cell)`` writes it under ``tmp_path``: the real mkdocs.yml with a one-page nav,
the real hooks and assets, and a proof ``answers/algorithms/gate_probe.py`` whose second code cell is
``cell`` (a passing claim, a failing one, or a hang). Nothing in the repository is modified.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from mkdocs.utils import yaml_load

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(command: list[str], cwd: Path = ROOT, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run a command with ``env`` added to the environment; output captured as text."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)

MODULE = "answers/algorithms/gate_probe.py"

PASSING = '''
def test_sum_of_first_n_odd_numbers_is_n_squared():
    """The first n odd numbers add up to n squared, checked by brute force for n up to 50."""
    for n in range(51):
        assert sum(range(1, 2 * n, 2)) == n * n
'''
FAILING = PASSING + '''

def test_broken_on_purpose():
    """Two plus two is five (false on purpose)."""
    assert 2 + 2 == 5
'''
HANGING = PASSING + '''

while True:  # a proof that never finishes
    pass
'''

PAGE = """\
---
id: gate-probe
title: Gate probe
tags: [algorithms]
level: 1
sources: []
zh: []
---

# Does the gate notice a broken proof?

## Short answer

It does.

## Explanation

See the proof.

## Proof

[`{module}`](../{module}).

## Common wrong answers

??? failure "“A failing claim can slip through”"
    **What is true:** it cannot. **Refuted by:** `test_sum_of_first_n_odd_numbers_is_n_squared`.
"""

PROOF = '''\
# %% [markdown]
# # Gate probe
#
# A proof module used to test the gate.

# %%
{cell}

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())
'''


def make_probe(tmp_path: Path, cell: str = PASSING) -> Path:
    project = tmp_path / "probe"
    (project / "docs" / "algorithms").mkdir(parents=True)
    shutil.copytree(ROOT / "docs" / "assets", project / "docs" / "assets")
    (project / "docs" / "index.md").write_text("# Probe\n\n<!-- qed:counts -->\n", encoding="utf-8")
    (project / "docs" / "algorithms" / "index.md").write_text("# Algorithms\n\n<!-- qed:section -->\n", encoding="utf-8")
    (project / "docs" / "sources.md").write_text("# Sources\n\n<!-- qed:sources -->\n", encoding="utf-8")
    (project / "docs" / "algorithms" / "gate-probe.md").write_text(PAGE.format(module=MODULE), encoding="utf-8")
    module = project / MODULE
    module.parent.mkdir(parents=True)
    module.write_text(PROOF.format(cell=textwrap.dedent(cell).strip()), encoding="utf-8")
    with (ROOT / "mkdocs.yml").open(encoding="utf-8") as handle:
        config = yaml_load(handle)
    config["hooks"] = [str(ROOT / hook) for hook in config["hooks"]]
    config["theme"]["custom_dir"] = str(ROOT / config["theme"]["custom_dir"])
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "search" in plugin:
            plugin["search"]["jieba_dict_user"] = str(ROOT / plugin["search"]["jieba_dict_user"])
    config["watch"] = []
    config["nav"] = [
        {"Home": "index.md"},
        {"Algorithms": ["algorithms/index.md", "algorithms/gate-probe.md"]},
        {"Sources": "sources.md"},
    ]
    config["not_in_nav"] = "/answers/\n"
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return project
