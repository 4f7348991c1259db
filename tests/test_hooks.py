"""The site hooks' decisions that need no build: which files key the notebook cache."""

from __future__ import annotations

import qed.mkdocs_hooks as hooks
from tests._support import BIN, MODULE, make_probe, run


def test_notebook_cache_key_follows_shared_helpers_not_proofs(tmp_path):
    """mkdocs-jupyter keys its cache on a notebook's own bytes; our key adds the shared helpers."""
    project = make_probe(tmp_path)
    saved = hooks.S.root
    try:
        hooks.S.root = project
        before = hooks._helpers_digest()
        (project / MODULE).write_text((project / MODULE).read_text() + "\n# an edit\n")
        assert hooks._helpers_digest() == before  # the proof's own cache entry handles this one
        (project / "answers" / "conftest.py").write_text("# pytest set-up only\n")
        assert hooks._helpers_digest() == before  # conftest never runs in a notebook
        (project / "answers" / "_shared.py").write_text("SCALE = 2\n")
        with_helper = hooks._helpers_digest()
        assert with_helper != before
        (project / "answers" / "_shared.py").write_text("SCALE = 3\n")
        assert hooks._helpers_digest() not in {before, with_helper}
    finally:
        hooks.S.root = saved


def test_a_tag_outside_the_allowed_list_fails_the_build(tmp_path):
    """Question pages are checked by the parser; material's tags plugin checks every other page, fed our list."""
    project = make_probe(tmp_path)
    index = project / "docs" / "index.md"
    index.write_text("---\ntags: [not-a-tag]\n---\n" + index.read_text())
    result = run([str(BIN / "mkdocs"), "build", "--strict"], cwd=project, QED_EXECUTE="false")
    assert result.returncode == 1 and "Error reading tags of page 'index.md'" in result.stderr
    index.write_text("---\ntags: [convolution]\n---\n# Probe\n")
    assert run([str(BIN / "mkdocs"), "build", "--strict"], cwd=project, QED_EXECUTE="false").returncode == 0
