"""Git for the repository layer, with failures translated into ``RepoError`` at this boundary.

Repository state (mirrors, fetches, worktrees, snapshot commits and refs, dirty state, resets,
diffs) goes through GitPython: ``open_repo`` gives a ``git.Repo`` whose errors leave as
``RepoError``, and ``translated`` names the step that failed. The index's two hot paths stay
raw argv pipes (``run_git`` for ``ls-tree`` / ``rev-parse`` / ``cat-file``, and
``filetree.BlobReader``): they are faster and they keep ``load_index`` from importing
GitPython at all (DESIGN.md, "Repository layer", has the figures).

GitPython is imported on first use, never at import time: its import runs ``git version``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from agentless.errors import RepoError

if TYPE_CHECKING:
    import git

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
# Never prompt for credentials (a mistyped owner/name would hang on a login prompt).
NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}


# Settings of a user's own config that our commands must not follow: hooks (a global
# ``core.hooksPath`` runs their post-checkout and post-commit hooks, which may write files, in
# our mirrors and worktrees), commit signing (our commits are ours: signing asks for a key
# or fails), a file-system monitor daemon started per worktree, prefix-less diffs and line
# ending conversion.
_OVERRIDES = (
    ("core.hooksPath", os.devnull),
    ("commit.gpgSign", "false"),
    ("core.fsmonitor", "false"),
    ("diff.noprefix", "false"),  # the a/ and b/ of every diff SWE-bench reads
    ("core.autocrlf", "false"),  # the task's bytes, in checkouts and in folder snapshots
)


def our_git_vars() -> dict[str, str]:
    """Variables every git command of ours runs with: no prompt, and ``_OVERRIDES`` as
    ``git -c`` would set them; the caller's own ``GIT_CONFIG_*`` values are kept."""
    count = os.environ.get("GIT_CONFIG_COUNT", "0")
    first = int(count) if count.isdigit() else 0
    env = {**NO_PROMPT, "GIT_CONFIG_COUNT": str(first + len(_OVERRIDES))}
    for n, (key, value) in enumerate(_OVERRIDES, start=first):
        env[f"GIT_CONFIG_KEY_{n}"] = key
        env[f"GIT_CONFIG_VALUE_{n}"] = value
    return env


# A caller's values of these would silently redirect every command to another repository.
_REDIRECTS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")


def git_executable() -> str:
    """The git binary on PATH; a clear error when there is none."""
    exe = shutil.which("git")
    if exe is None:
        raise RepoError("git was not found on PATH: install git (2.25 or newer) and retry")
    return exe


def gitpython() -> ModuleType:
    """The ``git`` package (GitPython), imported on first use; ``RepoError`` without git."""
    git_executable()  # our message, not GitPython's ImportError, when git is missing
    import git

    return git


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for raw git: never prompt for credentials, stable C-locale messages."""
    env = dict(os.environ)
    env.update({**our_git_vars(), "LC_ALL": "C"})
    for name in _REDIRECTS:
        env.pop(name, None)
    if extra:
        env.update(extra)
    return env


def pinned_env(git_dir: Path, work_tree: Path | None = None) -> dict[str, str]:
    """Variables to give GitPython's commands for ``git_dir``.

    GitPython starts every command from ``os.environ`` and cannot unset a variable, so a
    caller's ``GIT_DIR`` and friends are overridden with this repository's own values instead.
    """
    env = our_git_vars()
    if any(name in os.environ for name in _REDIRECTS):
        env["GIT_DIR"] = str(git_dir)
        common = git_dir / "commondir"
        shared = git_dir / common.read_text().strip() if common.is_file() else git_dir
        env["GIT_OBJECT_DIRECTORY"] = str(shared.resolve() / "objects")
        env["GIT_INDEX_FILE"] = str(git_dir / "index")
        if work_tree is not None:
            env["GIT_WORK_TREE"] = str(work_tree)
    return env


def git_message(exc: Exception) -> str:
    """What git said on stderr (GitPython wraps it in ``stderr: '...'``), else the status."""
    stderr = getattr(exc, "stderr", "") or ""
    text = stderr.removeprefix("\n  stderr: '").removesuffix("'").strip()
    if text:
        return text
    status = getattr(exc, "status", None)
    return f"exit {status}" if isinstance(status, int) else str(status or exc)


def _failed(what: str) -> Callable[[str], Exception]:
    return lambda message: RepoError(f"{what} failed: {message}")


@contextlib.contextmanager
def translated(what: str, raise_as: Callable[[str], Exception] | None = None) -> Iterator[None]:
    """Turn GitPython's failures inside the block into ``RepoError("<what> failed: ...")``,
    or into what ``raise_as`` makes of git's message."""
    git = gitpython()
    try:
        yield
    except (git.GitError, git.exc.ODBError) as exc:
        raise (raise_as or _failed(what))(git_message(exc)) from None


@contextlib.contextmanager
def open_repo(
    path: Path, *, what: str = "", raise_as: Callable[[str], Exception] | None = None
) -> Iterator[git.Repo]:
    """The repository at ``path`` (a bare mirror or a work tree), closed on exit.

    Its own git processes (GitPython keeps ``cat-file`` helpers alive) end with the block;
    any GitPython error escaping the block becomes ``RepoError`` naming ``what`` (or what
    ``raise_as`` makes of git's message).
    """
    git = gitpython()
    label = what or f"git in {path}"
    try:
        # Only a repository at ``path`` itself, never one found in a parent folder: a folder
        # that lost its ``.git`` inside someone's repository would have that repository reset
        # and cleaned (its untracked and ignored files deleted) by our callers.
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        message = f"fatal: not a git repository (at its top folder): {path}"
        raise (raise_as or _failed(label))(message) from None
    if not repo.bare and Path(repo.git_dir).resolve() == Path(path).resolve():
        # The folder is a repository itself, so bare: GitPython missed its core.bare.
        repo.close()
        keep_bare_visible(Path(path))
        repo = git.Repo(path)
    work_tree = Path(repo.working_tree_dir) if not repo.bare and repo.working_tree_dir else None
    repo.git.update_environment(**pinned_env(Path(repo.git_dir), work_tree))
    try:
        with translated(label, raise_as):
            yield repo
    finally:
        repo.close()


def clone(
    location: str,
    target: Path,
    option: str,
    *,
    what: str,
    raise_as: Callable[[str], Exception] | None = None,
) -> None:
    """``git clone <option> location target`` (``option``: ``--mirror``, ``--no-checkout``)
    through GitPython's ``Repo.clone_from``.

    With a caller's ``GIT_DIR`` and friends set, git itself runs it with them removed: clone
    checks a local source against the caller's ``GIT_OBJECT_DIRECTORY``, no value for which
    exists before the clone, and GitPython cannot unset a variable.
    """
    if any(name in os.environ for name in _REDIRECTS):
        try:
            run_git(["clone", option, "--quiet", location, str(target)], what=what)
        except RepoError as exc:
            if raise_as is None:
                raise
            raise raise_as(str(exc).removeprefix(f"{what} failed: ")) from None
        return
    flag = option.removeprefix("--").replace("-", "_")
    with translated(what, raise_as):
        gitpython().Repo.clone_from(location, target, env=our_git_vars(), **{flag: True}).close()


def keep_bare_visible(git_dir: Path) -> None:
    """Copy a bare repository's ``core.bare`` back into its shared ``config``.

    A sparse checkout in a linked worktree turns on ``extensions.worktreeConfig``, and git then
    moves the main repository's ``core.bare`` into its ``config.worktree``, which GitPython does
    not read: it takes the mirror for a work tree and runs git in the folder above it. Linked
    worktrees override the shared value in their own ``config.worktree`` (``mark_not_bare``).
    """
    moved, shared = git_dir / "config.worktree", git_dir / "config"
    if not moved.is_file():
        return
    cmd = gitpython().Git(git_dir)
    said = cmd.config("--file", str(moved), "--get", "core.bare", with_exceptions=False)
    kept = cmd.config("--file", str(shared), "--get", "core.bare", with_exceptions=False)
    if said.strip() == "true" and not kept.strip():
        cmd.config("--file", str(shared), "core.bare", "true")


def mark_not_bare(work_tree: Path) -> None:
    """Say in a linked worktree's own ``config.worktree`` that it is not bare: read once
    ``extensions.worktreeConfig`` is on, it keeps the worktree a work tree when the shared
    config says ``core.bare = true`` (see ``keep_bare_visible``); ignored until then."""
    dot_git = work_tree / ".git"
    if not dot_git.is_file():
        return
    git_dir = Path(dot_git.read_text().partition("gitdir:")[2].strip())
    git_dir = git_dir if git_dir.is_absolute() else (work_tree / git_dir).resolve()
    gitpython().Git(git_dir).config(
        "--file", str(git_dir / "config.worktree"), "core.bare", "false"
    )


def git_in(path: Path) -> git.Git:
    """GitPython's command object for a repository that is not ours, run from ``path`` as git
    itself would be.

    ``git.Repo`` takes a bare repository without a ``config`` file (the mirrors folders we
    are given have none) for a work tree's ``.git`` and runs git in its parent folder.
    """
    cmd = gitpython().Git(path)
    dot_git = path / ".git"
    if dot_git.is_file():  # a linked worktree: ``gitdir: <its folder in the main repository>``
        git_dir = (path / dot_git.read_text().partition(":")[2].strip()).resolve()
    else:
        git_dir = dot_git if dot_git.is_dir() else path
    cmd.update_environment(**pinned_env(git_dir, path if dot_git.exists() else None))
    return cmd


def commit_id(cmd: git.Git, name: str) -> str | None:
    """The full id of the commit ``name`` (an id, branch or tag) names in the repository of
    ``cmd`` (a ``git.Repo``'s ``.git``, or ``git_in``); None when none does."""
    git = gitpython()
    if name.startswith("-"):  # never let a name become an option of git's
        return None
    try:
        return str(cmd.rev_parse("--verify", "--quiet", f"{name}^{{commit}}"))
    except git.GitCommandError:
        return None


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
    """Run raw ``git <args>`` (the index's hot paths); on failure raise ``RepoError`` naming
    ``what`` and git's message."""
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
    """The full id of the commit ``name`` names, by a raw ``rev-parse`` (the index's path,
    which stays free of GitPython's import); None when none does."""
    if name.startswith("-"):
        return None
    proc = run_git(
        ["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"],
        git_dir=git_dir,
        cwd=cwd,
        check=False,
    )
    return proc.stdout.decode().strip() if proc.returncode == 0 else None
