"""Fixtures the test modules share: the SWE-bench dev rows and a configuration that talks to
a scripted model server.

The folders mirror the package (``tests/validate/`` tests ``agentless.validate``; the top
level holds the top-level modules' tests). They have no ``__init__.py`` and pytest imports a
test module by its file name, so file names are unique across folders (``test_validate_*``,
``test_model_*``, ...). ``gitrepos`` (small real git repositories) sits here beside this file,
and data sit in ``fixtures/`` and ``edit_corpus/``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from swebench_rows import DEV_DIR

from agentless.config import Config, load_config
from agentless.testing import ScriptedServer

DEV_SETS = ("lite_dev", "full_dev", "verified_dev")

# Every `git init` and clone copies git's template (18 sample hooks and files) into the new
# repository, and a run of the suite makes several hundred: half of the ~24,000 files it left
# in the temporary folders, which have to be deleted again (pytest does it at exit two runs
# later, 20 s or more on a disk mounted with online discard; `make test` in the background).
# An empty template dir copies nothing; nothing here uses hooks.
os.environ["GIT_TEMPLATE_DIR"] = ""


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


#: The slowest test files (15-60 s each on 2 cores), started first. xdist hands out single tests,
#: and the tests of a module whose fixture is made once (`pytest.mark.xdist_group`) together
#: (``--dist loadgroup``), in collection order when told to keep it (``--no-loadscope-reorder``;
#: by default it starts with the groups of most tests); a slow test handed out last runs on
#: alone while the other workers have finished. Heaviest first; the rest keep pytest's order.
SLOWEST_FIRST = (
    "model/test_local_server.py",
    "exercises/test_exercises_runs.py",
    "test_pipeline.py",
    "runner/test_batch_processes.py",
    "runner/test_batch.py",
    "validate/test_validate_check.py",
    "exercises/test_exercises.py",
    "validate/test_validate_layers.py",
    "validate/test_validate_validators.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    missing = [name for name in SLOWEST_FIRST if not (here / name).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py SLOWEST_FIRST names no file: {missing}")
    rank = {here / name: place for place, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))
