"""Build small real git repositories for tests (no network, fixed identity)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stripped stdout."""
    env = {**os.environ, **IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def write_files(root: Path, files: Mapping[str, str | bytes | None]) -> None:
    """Write (or delete, for ``None``) files under ``root``."""
    for rel, text in files.items():
        path = root / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def make_repo(root: Path, *commits: Mapping[str, str | bytes | None]) -> list[str]:
    """Create a repository at ``root`` with one commit per mapping; return the commit ids."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    shas = []
    for n, files in enumerate(commits, 1):
        write_files(root, files)
        git(root, "add", "--all")
        git(root, "commit", "--quiet", "--allow-empty", "-m", f"commit {n}")
        shas.append(git(root, "rev-parse", "HEAD"))
    return shas


def commit_files(root: Path, files: Mapping[str, str | bytes | None]) -> str:
    """Add one more commit to an existing repository; return its id."""
    write_files(root, files)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "more")
    return git(root, "rev-parse", "HEAD")
