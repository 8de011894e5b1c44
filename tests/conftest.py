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


#: The slowest test files (15-60 s each on 2 cores), started first: xdist hands out the tests
#: in collection order when told to keep it (``--no-loadscope-reorder``; by default it starts
#: with the groups of most tests), and a slow test handed out last runs on alone while the
#: other workers have finished. Heaviest first; the rest keep pytest's order.
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

#: Tests that share a fixture made once per module (a model server, a run read by several
#: tests, swebench's package: 2 s of importing in each worker that needs it) go to one worker
#: as a group, under ``--dist loadgroup``; every other test is handed out on its own. The
#: end-to-end run on the real model is a group apart from the rest of its module, on a server
#: of its own: it is half of the module's time.
GROUPS = {
    "model/test_local_server.py": "local-server",
    "model/test_local_server.py::test_the_pipeline_runs_end_to_end_on_the_example": "local-run",
    "exercises/test_exercises.py": "exercise-stories",
    "test_report.py": "report-run",
    "validate/test_swebench_parity.py": "swebench-import",
}


def group_of(nodeid: str) -> str:
    """The work unit a test belongs to: its group, else the test itself."""
    relative = nodeid.removeprefix("tests/")
    return GROUPS.get(relative) or GROUPS.get(relative.split("::", 1)[0]) or nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` by `GROUPS`. xdist's own reads ``xdist_group`` marks and renames the
    tests' node ids to say so, which pytest 9 ignores (its ids are no longer a plain attribute),
    so that every test went to any worker and each module fixture was made up to four times."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    named = [*SLOWEST_FIRST, *(key.split("::", 1)[0] for key in GROUPS)]
    missing = sorted({name for name in named if not (here / name).is_file()})
    if missing:
        raise pytest.UsageError(f"tests/conftest.py names no such file: {missing}")
    rank = {here / name: place for place, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))
