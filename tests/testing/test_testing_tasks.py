"""The test kit's example repositories, made on a machine whose git config is not ours."""

from __future__ import annotations

from pathlib import Path

import pytest
import unidiff

from agentless.testing import make_repo
from agentless.validate import apply_patch


def test_example_rows_under_a_users_signing_prefixless_git_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signing every commit (with no key here), diffs without a/ and b/, global hooks: the
    # kit's rows must still be the SWE-bench kind of row, their patches applying.
    ran = tmp_path / "hook-ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "post-commit").write_text(f"#!/bin/sh\ntouch {ran}\n")
    (hooks / "post-commit").chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text(
        "[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = false\n"
        f"[diff]\n\tnoprefix = true\n[core]\n\thooksPath = {hooks}\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    row = make_repo(tmp_path, 1)
    assert not ran.exists()
    for patch in (row["patch"], row["test_patch"]):
        assert patch.startswith("diff --git a/"), patch[:40]
        assert [f.source_file[:2] for f in unidiff.PatchSet(patch)] == ["a/"]
    assert apply_patch(Path(row["repo"]), row["patch"] + row["test_patch"]).applied
