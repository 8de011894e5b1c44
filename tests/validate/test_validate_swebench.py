"""The SWE-bench Lite dev split, evaluated for real (slow: builds environments on first run).

    AGENTLESS_MIRRORS=<folder of owner+name mirrors> .venv/bin/pytest -m slow \
        tests/validate/test_validate_swebench.py

Environments are cached in ``AGENTLESS_ENV_DIR`` (default: the user cache folder), so a second
run is much faster. ``benchmarks/swebench_eval.py`` measures the same with timings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from swebench_rows import DEV_DIR

from agentless.config import Config, load_config
from agentless.runner import run_evaluation
from agentless.tasks import load_tasks

LITE = DEV_DIR / "lite_dev.jsonl"

# Instances that cannot pass here, and why (see README, "Validation and evaluation").
CANNOT_PASS = {
    "pyvista__pyvista-4315": "no local mirror of pyvista (repository over the snapshot size limit)",
    "pvlib__pvlib-python-1854": "test_retrieve_sam_cecmod reads a data file (> 4 MiB) that is "
    "missing from the local pvlib mirror",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(4 * 3600),
    pytest.mark.skipif(not LITE.is_file(), reason="lite_dev.jsonl not found"),
    pytest.mark.skipif(
        not os.environ.get("AGENTLESS_MIRRORS"),
        reason="set AGENTLESS_MIRRORS to a folder of SWE-bench repository mirrors",
    ),
]


def config_for(out: Path, cache: Path) -> Config:
    run = {
        "run_dir": out,
        "workers": 2,
        "mirrors_dir": os.environ["AGENTLESS_MIRRORS"],
        "cache_dir": cache,
    }
    validate = {"env_dir": os.environ.get("AGENTLESS_ENV_DIR")}
    return load_config(overrides={"run": run, "validate": validate})


def test_gold_resolves_everything_that_can_pass(tmp_path: Path) -> None:
    config = config_for(tmp_path / "gold", tmp_path / "cache")
    summary = run_evaluation(LITE, "gold", config, show_progress=False)
    ids = {task.instance_id for task in load_tasks(LITE)}
    assert set(summary["resolved_ids"]) == ids - set(CANNOT_PASS)


def test_empty_and_wrong_patches_resolve_nothing(tmp_path: Path) -> None:
    tasks = load_tasks(LITE)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("".join(json.dumps({"instance_id": t.instance_id, "model_patch": ""}) + "\n"
                             for t in tasks))  # fmt: skip
    config = config_for(tmp_path / "empty", tmp_path / "cache")
    summary = run_evaluation(LITE, str(empty), config, show_progress=False)
    assert summary["resolved_instances"] == 0
    assert summary["empty_patch_instances"] == len(tasks)

    # The gold patch of one instance is a wrong patch for another of the same repository.
    pick = ["sqlfluff__sqlfluff-1625", "sqlfluff__sqlfluff-1733"]
    by_id = {t.instance_id: t for t in tasks}
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(
        json.dumps({"instance_id": pick[0], "model_patch": by_id[pick[1]].patch})
        + "\n"
        + json.dumps({"instance_id": pick[1], "model_patch": by_id[pick[0]].patch})
        + "\n"
    )
    config = config_for(tmp_path / "wrong", tmp_path / "cache")
    summary = run_evaluation(LITE, str(wrong), config, instances=pick, show_progress=False)
    assert summary["resolved_instances"] == 0


VERIFIED = LITE.with_name("verified_dev.jsonl")


@pytest.mark.skipif(not VERIFIED.is_file(), reason="verified_dev.jsonl not found")
def test_verified_pytest_and_requests_rows_resolve_offline(tmp_path: Path) -> None:
    # pytest's generated version file and requests' httpbin / tarpit tests: installed at the
    # task's commit, a local httpbin and black-holed addresses, all inside the sandbox.
    ids = [
        t.instance_id
        for t in load_tasks(VERIFIED)
        if t.repo in ("pytest-dev/pytest", "psf/requests")
    ]
    config = config_for(tmp_path / "gold", tmp_path / "cache")
    summary = run_evaluation(VERIFIED, "gold", config, instances=ids, show_progress=False)
    assert summary["resolved_ids"] == sorted(ids)
