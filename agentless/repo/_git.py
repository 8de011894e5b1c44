"""Run git as a subprocess (argv lists only) and translate failures into ``RepoError``.

We call the git binary directly rather than through a wrapper: the index streams blobs through
``git cat-file --batch``, and every call here is one argv list with a bounded environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from agentless.errors import RepoError

# Deterministic identity and dates make snapshot commits content-addressed: the same folder
# content always gives the same commit id.
SNAPSHOT_IDENTITY = {
    "GIT_AUTHOR_NAME": "agentless",
    "GIT_AUTHOR_EMAIL": "agentless@localhost",
    "GIT_AUTHOR_DATE": "1970-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "agentless",
    "GIT_COMMITTER_EMAIL": "agentless@localhost",
    "GIT_COMMITTER_DATE": "1970-01-01T00:00:00+0000",
}


def git_executable() -> str:
    """The git binary on PATH; a clear error when there is none."""
    exe = shutil.which("git")
    if exe is None:
        raise RepoError("git was not found on PATH: install git (2.25 or newer) and retry")
    return exe


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for git: never prompt for credentials, stable C-locale messages."""
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_ASKPASS": "true"})
    # A caller's GIT_DIR / GIT_WORK_TREE would silently redirect every command.
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        env.pop(name, None)
    if extra:
        env.update(extra)
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
    what: str = "",
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git <args>``; on failure raise ``RepoError`` naming ``what`` and git's message."""
    argv = [git_executable()]
    if git_dir is not None:
        argv.append(f"--git-dir={git_dir}")
    argv.extend(args)
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=git_env(env),
        input=input,
        capture_output=True,
        check=False,
    )
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise RepoError(f"{what or 'git ' + ' '.join(args[:2])} failed: {message}")
    return proc


def resolve_commit(
    name: str, *, git_dir: Path | None = None, cwd: Path | None = None
) -> str | None:
    """The full id of the commit ``name`` (an id, branch or tag) names; None when none does."""
    if name.startswith("-"):  # never let a name become an option of git's
        return None
    proc = run_git(
        ["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"],
        git_dir=git_dir,
        cwd=cwd,
        check=False,
    )
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def git_out(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    what: str = "",
) -> str:
    """Stdout of a successful git command, decoded and stripped."""
    proc = run_git(args, cwd=cwd, git_dir=git_dir, env=env, what=what)
    return proc.stdout.decode("utf-8", "replace").strip()
