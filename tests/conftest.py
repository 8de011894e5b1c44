"""Fixtures the test modules share: the SWE-bench dev rows and a configuration that talks to
a scripted model server.

The folders mirror the package (``tests/validate/`` tests ``agentless.validate``; the top
level holds the top-level modules' tests). They have no ``__init__.py`` and pytest imports a
test module by its file name, so file names are unique across folders (``test_validate_*``,
``test_model_*``, ...). ``gitrepos`` (small real git repositories) sits here beside this file,
and data sit in ``fixtures/`` and ``edit_corpus/``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from swebench_rows import DEV_DIR

from agentless.config import Config, load_config
from agentless.testing import ScriptedServer

DEV_SETS = ("lite_dev", "full_dev", "verified_dev")


@pytest.fixture(scope="session")
def swebench_dev() -> Path:
    """The folder of the SWE-bench dev rows: ``$AGENTLESS_SWEBENCH_DEV``, else
    ``../shared/data/swebench`` beside the repository; the test skips when they are absent."""
    folder = DEV_DIR
    missing = [name for name in DEV_SETS if not (folder / f"{name}.jsonl").is_file()]
    if missing:
        pytest.skip(f"the SWE-bench dev rows ({', '.join(missing)}) are not in {folder}")
    return folder


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merged(out[key], value) if isinstance(out.get(key), Mapping) else value
    return out


@pytest.fixture
def scripted_config(tmp_path: Path) -> Callable[..., Config]:
    """``make(srv, **sections)``: a config for the scripted server ``srv`` with fast retries,
    a cache under ``tmp_path``, no config file or environment, and ``sections`` on top."""

    def make(srv: ScriptedServer, **sections: Mapping[str, Any]) -> Config:
        base = {
            "model": {"name": "scripted", "base_url": srv.url, "backoff_base": 0.01},
            "run": {"cache_dir": tmp_path / "cache"},
        }
        return load_config(Path("/dev/null"), env={}, overrides=_merged(base, sections))

    return make
