"""The Ray executor on a local Ray instance gives what the local executor gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentless.config import load_config
from agentless.runner import run_batch
from agentless.store import Store
from agentless.tasks import load_tasks
from agentless.testing import ScriptedServer, make_dataset, script_server

pytestmark = pytest.mark.ci


def comparable(run_dir: Path) -> dict[str, object]:
    """What a run decided, without times and paths."""
    predictions = sorted(
        (json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()),
        key=lambda row: row["instance_id"],
    )
    results = {}
    for row in predictions:
        result = json.loads((run_dir / row["instance_id"] / "result.json").read_text())
        results[row["instance_id"]] = {
            "candidates": [
                {
                    k: c[k]
                    for k in (
                        "patch",
                        "kept",
                        "reason",
                        "votes",
                        "regression_failures",
                        "reproduction_passed",
                    )
                }
                for c in result["candidates"]
            ],
            "usage": {
                k: result["usage"][k] for k in ("prompt_tokens", "completion_tokens", "calls")
            },
            "selection": result["selection_steps"],
        }
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.pop("tasks")
    summary["usage"].pop("latency")
    # The scripted server's prefix cache remembers the first run's prompts.
    summary["usage"].pop("cached_tokens")
    return {"predictions": predictions, "results": results, "summary": summary}


def test_ray_executor_matches_the_local_executor(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed (make test-ci installs it)")
    dataset, rows = make_dataset(tmp_path / "tasks", 3)
    rows[2]["repo"] = str(tmp_path / "missing")  # a failure must come back the same way too
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    runs = {}
    with ScriptedServer() as srv:
        script_server(srv)
        for executor in ("local", "ray"):
            config = load_config(
                Path("/dev/null"),
                env={},
                overrides={
                    "model": {"name": "scripted", "base_url": srv.url, "backoff_base": 0.01},
                    "localize": {"window_samples": 1},
                    "repair": {"samples": 2},
                    "run": {
                        "cache_dir": tmp_path / f"cache-{executor}",
                        "workers": 2,
                        "executor": executor,
                        "ray_cpus_per_task": 0.5,
                    },
                },
            )
            report = run_batch(load_tasks(dataset), config, tmp_path / executor, progress="none")
            runs[executor] = report
        requests = len(srv.chat_requests)
    assert runs["ray"].summary["failed_ids"] == ["project2"]
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")
    with Store.for_run(tmp_path / "ray") as store:
        # Every model call went through the actor into the driver's store, per task.
        assert len(store.calls(instance_id="project0")) == 6
        assert len(store.test_runs("project1")) == 4
        assert store.integrity_check() == "ok"
    assert requests == 2 * 2 * 6  # two tasks, six calls, once per executor
    # Resume is the same too: a second Ray run finds everything done.
    again = run_batch(load_tasks(dataset), config, tmp_path / "ray", progress="none")
    assert sorted(again.skipped) == ["project0", "project1"]
