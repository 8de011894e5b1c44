"""The edit engine on a working tree: read files lazily from disk, write results all or nothing.

``agentless.edits`` is pure (text in, text out); this module is the thin layer that gives it a
directory. Files are read only when an edit touches them, decoded as UTF-8 with
``surrogateescape`` so that any bytes are written back unchanged. Symbolic links are neither
read nor written through: a path that leads outside the tree is refused.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from agentless.edits import EditResult, apply_reply
from agentless.errors import RepoError
from agentless.repo import NOT_PROJECT_DIRS, gitpython


class TreeFiles(Mapping[str, str]):
    """The regular files under ``root`` (git-tracked and untracked-but-not-ignored files in a
    git work tree, else every file outside VCS/cache folders), read on first access."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._paths = set(_list_files(self.root))
        self._cache: dict[str, str] = {}

    def __getitem__(self, path: str) -> str:
        if path not in self._paths:
            raise KeyError(path)
        if path not in self._cache:
            data = (self.root / path).read_bytes()
            self._cache[path] = data.decode("utf-8", "surrogateescape")
        return self._cache[path]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._paths))

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._paths


def _list_files(root: Path) -> list[str]:
    listed = _git_files(root)
    paths = listed if listed is not None else _walk(root)
    return [p for p in paths if _regular(root / p)]


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _git_files(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files when ``root`` is in a git work tree, else
    None (no git, or not a work tree: the caller walks the folder)."""
    try:
        git = gitpython()
    except RepoError:
        return None
    try:
        listing = git.Git(root).ls_files(
            "-z", "--cached", "--others", "--exclude-standard", stdout_as_string=False
        )
    except git.GitError:
        return None
    return [p for p in listing.decode("utf-8", "surrogateescape").split("\0") if p]


def _walk(root: Path) -> list[str]:
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_PROJECT_DIRS]
        for name in names:
            out.append((Path(folder) / name).relative_to(root).as_posix())
    return out


def apply_to_tree(
    reply: str, root: Path, fmt: str = "auto", *, dry_run: bool = False
) -> EditResult:
    """Apply ``reply`` to the files under ``root``; write only if every edit applied."""
    result = apply_reply(reply, TreeFiles(root), fmt)
    if result.ok and result.files and not dry_run:
        write_all(root, result.files)
    return result


def write_all(root: Path, files: Mapping[str, str | None]) -> None:
    """Write (``None``: delete) every file, or none of them.

    New contents go to temporary files beside their targets first; then all are moved into
    place. If anything fails, the files already replaced are restored and ``RepoError`` names
    the file that could not be written.
    """
    root = root.resolve()
    targets = {path: _inside(root, path) for path in files}
    staged: dict[str, Path] = {}
    try:
        for path, text in files.items():
            if text is not None:
                staged[path] = _stage(path, targets[path], text)
        _commit(targets, files, staged)
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)


def _inside(root: Path, path: str) -> Path:
    target = root / path
    resolved = target.resolve()
    if target.is_symlink() or (resolved != root and root not in resolved.parents):
        raise RepoError(f"refusing to write {path}: it leads outside {root} (a symbolic link?)")
    return target


def _not_written(path: str, exc: OSError) -> RepoError:
    return RepoError(f"could not write {path}: {exc}; no file was changed")


def _stage(path: str, target: Path, text: str) -> Path:
    temp = target.parent / f".agentless-{secrets.token_hex(8)}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Mode 0o666 lets the kernel apply the umask to a new file (mkstemp would give 0o600).
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", "surrogateescape"))
        if target.exists():
            shutil.copymode(target, temp)
    except OSError as exc:
        with contextlib.suppress(OSError):  # the folder itself may be what failed
            temp.unlink(missing_ok=True)
        raise _not_written(path, exc) from exc
    return temp


def _commit(
    targets: Mapping[str, Path], files: Mapping[str, str | None], staged: Mapping[str, Path]
) -> None:
    backups: dict[Path, bytes | None] = {}
    for path, text in files.items():
        target = targets[path]
        try:
            backups[target] = target.read_bytes() if target.exists() else None
            if text is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(staged[path], target)
        except OSError as exc:
            _restore(backups)
            raise _not_written(path, exc) from exc


def _restore(backups: Mapping[Path, bytes | None]) -> None:
    for target, data in backups.items():
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(data)
