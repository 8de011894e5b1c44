"""The work copy of one exercise: a fresh folder per run, with its read-only files guarded.

The copy leaves out the reference solution and the track's notes (``.meta``, ``.approaches``,
``.articles``) and earlier build outputs. Every file of the copy except the solution files is
*protected*: the model may not change it, and before every test run it is put back as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from agentless.tasks import HIDDEN_FOLDERS, Exercise

# Never copied: earlier builds and installs, caches, version control.
_NOT_COPIED = frozenset(
    {*HIDDEN_FOLDERS, ".git", "node_modules", "target", "build", "__pycache__", ".pytest_cache"}
)


class WorkCopy:
    """An exercise copied to ``path``; solution files are read and written through it."""

    def __init__(self, exercise: Exercise, path: Path) -> None:
        self.exercise = exercise
        self.path = path
        self._protected: dict[str, bytes] = {}

    @classmethod
    def create(cls, exercise: Exercise, path: Path) -> WorkCopy:
        """Copy ``exercise`` into ``path`` (emptied first)."""
        if path.exists():
            shutil.rmtree(path)
        shutil.copytree(exercise.folder, path, ignore=_ignore_for(exercise.folder), symlinks=False)
        return cls(exercise, path)

    def link(self, links: Mapping[str, Path]) -> None:
        """Symlink shared, read-only folders (installed dependencies) into the copy."""
        for name, target in links.items():
            link = self.path / name
            if link.is_symlink() or link.exists():
                _remove(link)
            link.symlink_to(target, target_is_directory=True)

    def protect(self) -> None:
        """Record every file except the solution files as it is now (after ``prepare``)."""
        solution = set(self.exercise.solution)
        self._protected = {
            rel: (self.path / rel).read_bytes() for rel in _files(self.path) if rel not in solution
        }

    @property
    def protected(self) -> frozenset[str]:
        return frozenset(self._protected)

    def restore(self) -> list[str]:
        """Put every protected file back as recorded; returns the ones that had changed."""
        changed = []
        for rel, data in self._protected.items():
            path = self.path / rel
            if path.is_symlink() or not path.is_file() or path.read_bytes() != data:
                changed.append(rel)
                if path.is_symlink() or path.is_dir():
                    _remove(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return changed

    def read(self, paths: Iterable[str]) -> dict[str, str]:
        """Texts of the given files that exist (undecodable bytes kept as surrogates)."""
        out = {}
        for rel in paths:
            path = self.path / rel
            if path.is_file() and not path.is_symlink():
                out[rel] = path.read_text(encoding="utf-8", errors="surrogateescape")
        return out

    def write(self, files: Mapping[str, str | None]) -> None:
        """Write (or, for ``None``, delete) files; protected ones are never written."""
        for rel, text in files.items():
            if rel in self._protected:
                continue
            path = self.path / rel
            if text is None:
                if path.is_file() or path.is_symlink():
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")

    def remove_build_outputs(self, names: Iterable[str]) -> None:
        """Delete what builds left behind (compiled targets, linked installs)."""
        for name in names:
            path = self.path / name
            if path.is_symlink() or path.exists():
                _remove(path)


def _ignore_for(root: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in _NOT_COPIED}
        return skipped | {n for n in names if os.path.islink(os.path.join(folder, n))}

    return ignore


def _files(root: Path) -> list[str]:
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = Path(folder) / name
            if not path.is_symlink():
                out.append(path.relative_to(root).as_posix())
    return sorted(out)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    else:
        shutil.rmtree(path)
