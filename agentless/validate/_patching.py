"""Apply a unified diff to a worktree: strictly first, then with bounded fallbacks.

Order: ``git apply``; ``git apply --recount`` (hunk headers with wrong line counts, common in
model output); GNU ``patch --fuzz`` checked with ``--dry-run`` first so that it applies all
hunks or none. The method that worked is recorded; a patch that no method applies is data
(``applied=False`` with the tools' messages), not an exception.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agentless.errors import RepoError
from agentless.repo import gitpython, our_git_vars

GIT_APPLY = ("git", "apply", "--verbose", "--whitespace=nowarn")
GIT_APPLY_RECOUNT = (*GIT_APPLY, "--recount")


@dataclass(frozen=True)
class ApplyResult:
    """Whether a patch applied, how, and what the tools said."""

    applied: bool
    method: str
    message: str


@contextlib.contextmanager
def _patch_file(patch: str) -> Iterator[str]:
    text = patch if patch.endswith("\n") else patch + "\n"
    fd, name = tempfile.mkstemp(prefix="agentless-", suffix=".diff")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        yield name
    finally:
        os.unlink(name)


def _git_apply(argv: tuple[str, ...], path: str, cwd: Path) -> tuple[bool, str]:
    """``argv`` (``git apply ...``) on the patch file ``path``, through GitPython."""
    try:
        git = gitpython()
    except RepoError as exc:
        return False, str(exc)
    status, out, err = git.Git(cwd).execute(
        [*argv, path],
        with_extended_output=True,
        with_exceptions=False,
        stdout_as_string=False,
        kill_after_timeout=120,
        # A plain folder inside some repository: git would apply the patch relative to that
        # repository's top and skip, successfully, every file outside the folder. The user's
        # core.autocrlf would write the patched files with CRLF.
        env={**our_git_vars(), "GIT_CEILING_DIRECTORIES": str(cwd.resolve().parent)},
    )
    text = out.decode("utf-8", "replace") + (err or "")
    return status == 0, text.strip()


def _run(argv: list[str], cwd: Path) -> tuple[bool, str]:
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def _gnu_patch(fuzz: int) -> list[str]:
    return [
        "patch", "--batch", "--forward", f"--fuzz={fuzz}", "-p1",
        "--no-backup-if-mismatch", "--reject-file=-",
    ]  # fmt: skip


def apply_patch(
    worktree: Path, patch: str, *, fallbacks: bool = True, fuzz: int = 5
) -> ApplyResult:
    """Apply ``patch`` in ``worktree``; try the fallbacks only when ``fallbacks``."""
    if not patch.strip():
        return ApplyResult(False, "", "empty patch")
    messages: list[str] = []
    with _patch_file(patch) as path:
        attempts = [GIT_APPLY, GIT_APPLY_RECOUNT] if fallbacks else [GIT_APPLY]
        for argv in attempts:
            ok, out = _git_apply(argv, path, worktree)
            if ok:
                return ApplyResult(True, " ".join(argv[:2] + argv[4:]), out)
            messages.append(f"{' '.join(argv)}: {out}")
        if fallbacks and shutil.which("patch"):
            command = _gnu_patch(fuzz)
            ok, out = _run([*command, "--dry-run", "-i", path], worktree)
            if ok:
                ok, out = _run([*command, "-i", path], worktree)
                if ok:
                    return ApplyResult(True, f"patch --fuzz={fuzz}", out)
            messages.append(f"patch --fuzz={fuzz}: {out}")
    return ApplyResult(False, "", "\n".join(messages)[-4000:])
