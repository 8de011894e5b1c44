"""The hand-written edit corpus (tests/edit_corpus/*.json) as tests.

Each case must give exactly the expected files and failure reasons; every diff the engine
produces must parse with ``unidiff`` and pass ``git apply --check`` on the original tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import unidiff

from agentless.edits import apply_reply
from agentless.edits._data import RESEND

CORPUS = Path(__file__).resolve().parent.parent / "edit_corpus"


def _load() -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    out = []
    for fmt in ("diff", "udiff", "whole"):
        data = json.loads((CORPUS / f"{fmt}.json").read_text(encoding="utf-8"))
        for case in data["cases"]:
            files = {**data["trees"][case["tree"]], **case.get("files", {})}
            out.append((case["id"], files, case))
    return out


CASES = _load()


def test_corpus_size_and_kinds() -> None:
    assert len(CASES) >= 150
    formats = {case["format"] for _, _, case in CASES}
    assert formats == {"diff", "udiff", "whole"}
    assert len({case["id"] for _, _, case in CASES}) == len(CASES)


@pytest.mark.parametrize(("cid", "files", "case"), CASES, ids=[c[0] for c in CASES])
def test_corpus_case(cid: str, files: dict[str, str], case: dict[str, Any]) -> None:
    result = apply_reply(case["reply"], files, case["format"])
    assert sorted(f.reason for f in result.failed) == sorted(case["expect"]["fail"]), (
        result.feedback
    )
    assert result.files == case["expect"]["files"]
    for failure in result.failed:
        assert failure.feedback.strip()
    if result.failed and not all(f.reason == "no_edits" for f in result.failed):
        assert result.feedback.endswith(RESEND)


def _write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_every_corpus_diff_passes_git_apply_check(tmp_path: Path) -> None:
    checked = 0
    for cid, files, case in CASES:
        result = apply_reply(case["reply"], files, case["format"])
        if not result.diff:
            assert not result.files, cid
            continue
        assert len(unidiff.PatchSet(result.diff)) == len(result.files), cid
        # Outside a repository `git apply` checks the patch against the working tree, as it
        # does inside one without --index (a ceiling keeps git from finding a repo above).
        folder = tmp_path / cid
        folder.mkdir()
        _write(folder, files)
        patch = tmp_path / f"{cid}.patch"
        patch.write_bytes(result.diff.encode("utf-8"))
        done = subprocess.run(
            ["git", "apply", "--check", str(patch)],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)},
        )
        assert done.returncode == 0, f"{cid}: {done.stderr}"
        checked += 1
    assert checked > 100
