"""Find a Python interpreter of a given version on this machine, at run time.

Looked for, in order: the pyenv versions folder (its root from ``PYENV_ROOT`` or ``pyenv
root``), then ``pythonX.Y`` on ``PATH``, then the running interpreter. Every candidate is run once to confirm its version,
because pyenv shims on ``PATH`` exist for versions that are not active.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from agentless.errors import EnvironmentBuildError

_VERSION = re.compile(r"^\d+\.\d+$")


@functools.cache
def pyenv_root() -> Path | None:
    """pyenv's root folder, when pyenv is set up here."""
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    exe = shutil.which("pyenv")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "root"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def _patch_level(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", folder.name))


def candidates(version: str) -> list[Path]:
    """Executables that may be Python ``version`` (``"3.9"``), best first, unverified."""
    found: list[Path] = []
    root = pyenv_root()
    if root is not None and (root / "versions").is_dir():
        pattern = re.compile(rf"^{re.escape(version)}\.\d+$")
        folders = [p for p in (root / "versions").iterdir() if pattern.match(p.name)]
        for folder in sorted(folders, key=_patch_level, reverse=True):
            exe = folder / "bin" / f"python{version}"
            if exe.is_file():
                found.append(exe)
    on_path = shutil.which(f"python{version}")
    if on_path is not None:
        found.append(Path(on_path))
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        found.append(Path(sys.executable))  # the interpreter running us is surely here
    return found


def _reports_version(exe: Path, version: str) -> bool:
    try:
        proc = subprocess.run(
            [str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == version


@functools.cache
def find_python(version: str) -> Path:
    """A working interpreter for ``version`` (``"3.9"``); raises when there is none."""
    if not _VERSION.match(version):
        raise EnvironmentBuildError(f"bad Python version {version!r}: expected X.Y, e.g. 3.9")
    for exe in candidates(version):
        if _reports_version(exe, version):
            return exe
    raise EnvironmentBuildError(
        f"no Python {version} interpreter found: install it (e.g. `pyenv install {version}`) "
        f"or put python{version} on PATH, then retry"
    )


def available_versions() -> list[str]:
    """``X.Y`` versions found (pyenv folders and ``python3.N`` on PATH), newest first."""
    versions: set[str] = set()
    root = pyenv_root()
    if root is not None and (root / "versions").is_dir():
        for folder in (root / "versions").iterdir():
            match = re.match(r"^(\d+\.\d+)\.\d+$", folder.name)
            if match:
                versions.add(match.group(1))
    for minor in range(6, 20):
        if shutil.which(f"python3.{minor}"):
            versions.add(f"3.{minor}")
    return sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True)
