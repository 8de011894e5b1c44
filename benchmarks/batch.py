"""Throughput of `agentless batch` against a model with a fixed reply latency.

50 generated tasks (small git repositories with one real bug each, see
``agentless.testing.make_dataset``), the scripted OpenAI-compatible server in its own process
answering every request after ``--latency`` seconds (0.5 by default), and the batch run at
1, 4 and 16 workers, each into a fresh run directory and a fresh cache (mirrors, indexes).

Per run: wall time, tasks per minute, and per task the time spent waiting for the model
(the recorded latency of its calls), in test commands (the recorded duration of its sandboxed
runs) and the rest: the runner's own overhead (checkout, index, prompts, edits, store writes,
scheduling), and the CPU seconds this process and its children (git, test commands) used per
task, which unlike wall time does not grow when other jobs share the machine. By default the pipeline's validation is off, so the run is model-bound (what the
scheduler's concurrency can overlap); ``--with-tests`` validates every candidate with the
repository's tests and a reproduction script, which on a small machine makes the run CPU-bound.

    python benchmarks/batch.py [--tasks 50] [--workers 1 4 16] [--latency 0.5] [--with-tests]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agentless.config import load_config
from agentless.runner import run_batch
from agentless.store import Store
from agentless.tasks import load_tasks
from agentless.testing import make_dataset


def serve(latency: float) -> None:
    """Run the scripted server until stdin closes; print its URL first."""
    from agentless.testing import ScriptedServer, script_server

    with ScriptedServer(latency=latency) as srv:
        script_server(srv)
        print(srv.url, flush=True)
        sys.stdin.read()
        print(json.dumps({"requests": len(srv.chat_requests)}), flush=True)


def measure(dataset: Path, url: str, workers: int, root: Path, with_tests: bool) -> dict[str, Any]:
    config = load_config(
        Path("/dev/null"),
        env={},
        overrides={
            "model": {"name": "scripted", "base_url": url, "backoff_base": 0.05},
            "localize": {"window_samples": 1},
            "repair": {"samples": 2},
            "validate": {"regression": with_tests, "reproduction": with_tests},
            "run": {
                "cache_dir": root / f"cache-{workers}",
                "workers": workers,
                "model_concurrency": max(8, workers),
            },
        },
    )
    tasks = load_tasks(dataset)
    if not with_tests:
        tasks = [task.model_copy(update={"test_cmd": ""}) for task in tasks]
    started = time.monotonic()
    cpu_before = _cpu_seconds()
    report = run_batch(tasks, config, root / f"run-{workers}", progress="none")
    cpu = _cpu_seconds() - cpu_before
    wall = time.monotonic() - started
    assert report.summary["done_tasks"] == len(tasks), report.summary["errors"]
    with Store.for_run(root / f"run-{workers}") as store:
        runs = store.task_runs("repair")
        per_task = []
        for iid, run in runs.items():
            assert run.started_at is not None and run.finished_at is not None
            model = sum(call.usage.latency for call in store.calls(instance_id=iid))
            tests = sum(test.duration for test in store.test_runs(iid))
            total = run.finished_at - run.started_at
            per_task.append((total, model, tests, total - model - tests))
    return {
        "workers": workers,
        "tasks": len(tasks),
        "wall_s": round(wall, 2),
        "tasks_per_min": round(60 * len(tasks) / wall, 1),
        "task_s": round(statistics.mean(t[0] for t in per_task), 3),
        "model_wait_s": round(statistics.mean(t[1] for t in per_task), 3),
        "tests_s": round(statistics.mean(t[2] for t in per_task), 3),
        "overhead_s": round(statistics.mean(t[3] for t in per_task), 3),
        "cpu_s_per_task": round(cpu / len(tasks), 3),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (git, test commands)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--with-tests", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return
    with tempfile.TemporaryDirectory(prefix="agentless-bench-batch-") as tmp:
        root = Path(tmp)
        dataset, _ = make_dataset(root / "tasks", args.tasks)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--latency", str(args.latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None and server.stdin is not None
        url = server.stdout.readline().strip()
        rows = []
        try:
            for workers in args.workers:
                row = measure(dataset, url, workers, root, args.with_tests)
                row["load_avg_1m"] = round(os.getloadavg()[0], 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            server.stdin.close()
            server.wait(timeout=30)
    base = rows[0]["wall_s"]
    print(
        "\n| workers | wall s | tasks/min | speed-up | per task: s | model wait s | tests s "
        "| runner overhead s | runner CPU s | load avg |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['workers']} | {row['wall_s']} | {row['tasks_per_min']} | "
            f"{base / row['wall_s']:.1f}x | {row['task_s']} | {row['model_wait_s']} | "
            f"{row['tests_s']} | {row['overhead_s']} | {row['cpu_s_per_task']} | "
            f"{row['load_avg_1m']} |"
        )


if __name__ == "__main__":
    main()
