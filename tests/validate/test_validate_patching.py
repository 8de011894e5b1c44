"""``apply_patch`` on real folders and repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepos import make_repo, write_files

from agentless.validate import apply_patch

PATCH = """\
diff --git a/m.py b/m.py
--- a/m.py
+++ b/m.py
@@ -1 +1 @@
-x = 1
+x = 2
"""


def test_a_plain_folder_inside_another_repository_gets_the_patch_itself(tmp_path: Path) -> None:
    # From a subfolder, git reads a patch with git headers relative to the enclosing
    # repository's top and skips ("Skipped patch 'm.py'"), with success, every file outside
    # the subfolder: the patch would count as applied and change nothing.
    outer = tmp_path / "outer"
    make_repo(outer, {"m.py": "x = 1\n"})
    folder = outer / "work" / "plain"
    write_files(folder, {"m.py": "x = 1\n"})
    result = apply_patch(folder, PATCH)
    assert result.applied and result.method == "git apply"
    assert (folder / "m.py").read_text() == "x = 2\n"
    assert (outer / "m.py").read_text() == "x = 1\n"


def test_a_repository_of_its_own_gets_the_patch(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, {"m.py": "x = 1\n"})
    assert apply_patch(repo, PATCH).applied
    assert (repo / "m.py").read_text() == "x = 2\n"


def test_a_users_line_ending_conversion_does_not_reach_the_patched_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, {"m.py": "x = 1\n"})
    config = tmp_path / "gitconfig"
    config.write_text("[core]\n\tautocrlf = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert apply_patch(repo, PATCH).applied
    assert (repo / "m.py").read_bytes() == b"x = 2\n"
