"""Batch runs through the runner's scheduler: real git repositories with a real bug and real
tests, the scripted model server on loopback, the real CLI in subprocesses where a process has
to be killed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentless.config import Config, load_config
from agentless.runner import build_services, run_batch
from agentless.store import Store
from agentless.tasks import load_tasks
from agentless.testing import ScriptedServer
from agentless.testing.tasks import make_dataset, script_server, unittest_recipe


def config_for(srv: ScriptedServer, tmp_path: Path, **run: object) -> Config:
    return load_config(
        Path("/dev/null"),
        env={},
        overrides={
            "model": {"name": "scripted", "base_url": srv.url, "backoff_base": 0.01},
            "localize": {"window_samples": 1},
            "repair": {"samples": 2},
            "run": {"cache_dir": tmp_path / "cache", **run},
        },
    )


# The model calls of one generated task: three localization stages, the greedy repair, the
# sampled repair, the reproduction script.
CALL_STAGES = [
    "localize.files",
    "localize.elements",
    "localize.windows",
    "repair",
    "repair",
    "reproduce",
]


def body_key(body: object) -> str:
    return json.dumps(body, sort_keys=True)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        script_server(srv)
        yield srv


def test_a_batch_repairs_every_task_and_exports_what_happened(
    tmp_path: Path, server: ScriptedServer
) -> None:
    dataset, _ = make_dataset(tmp_path / "tasks", 3)
    config = config_for(server, tmp_path, workers=3)
    report = run_batch(load_tasks(dataset), config, tmp_path / "run", progress="none")

    summary = report.summary
    assert summary["done_tasks"] == summary["with_patch"] == 3
    assert summary["failed_tasks"] == 0
    run = tmp_path / "run"
    predictions = [
        json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()
    ]
    assert sorted(p["instance_id"] for p in predictions) == ["project0", "project1", "project2"]
    assert all("+        return high" in p["model_patch"] for p in predictions)
    assert json.loads((run / "summary.json").read_text())["done_tasks"] == 3
    trajectory = json.loads((run / "project1" / "trajectory.json").read_text())
    stages = [s["stage"] for s in trajectory["stages"]]
    assert stages[:4] == ["start", "index", "localize", "repair"] and "select" in stages
    assert any("candidate 1/1" in s["detail"] for s in trajectory["stages"])
    # Every prompt and reply of this task, and no other task's.
    assert [c["stage"] for c in trajectory["model_calls"]] == CALL_STAGES
    assert all("Project 1:" in json.dumps(c["messages"]) for c in trajectory["model_calls"])
    # Every test command with its output: before and after the patch, and the script.
    outputs = [t["output"] for t in trajectory["test_runs"]]
    assert len(outputs) == 4 and "test_above" not in outputs[0]
    assert any("Issue reproduced" in o for o in outputs)
    assert any("Issue resolved" in o for o in outputs)
    with Store.for_run(run) as store:
        assert store.integrity_check() == "ok"
        assert {row.status for row in store.task_runs("repair").values()} == {"done"}


def test_a_rerun_skips_finished_tasks_and_calls_no_model(
    tmp_path: Path, server: ScriptedServer
) -> None:
    dataset, _ = make_dataset(tmp_path / "tasks", 2)
    config = config_for(server, tmp_path, workers=2)
    run_batch(load_tasks(dataset), config, tmp_path / "run", progress="none")
    calls = len(server.chat_requests)
    again = run_batch(load_tasks(dataset), config, tmp_path / "run", progress="none")
    assert len(server.chat_requests) == calls
    assert sorted(again.skipped) == ["project0", "project1"]
    assert again.summary["done_tasks"] == 2


def test_a_task_that_cannot_be_cloned_or_paid_for_fails_alone(tmp_path: Path) -> None:
    dataset, rows = make_dataset(tmp_path / "tasks", 3)
    rows[0]["repo"] = str(tmp_path / "no-such-repository")
    rows[1]["problem_statement"] += " " + "padding " * 8000  # over the context window
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with ScriptedServer(context_limit=6000) as srv:
        script_server(srv)
        config = config_for(srv, tmp_path, workers=3)
        report = run_batch(load_tasks(dataset), config, tmp_path / "run", progress="none")
    summary = report.summary
    assert summary["failed_ids"] == ["project0", "project1"]
    assert "RepoError" in summary["errors"]["project0"]
    assert "ContextLengthError" in summary["errors"]["project1"]
    assert summary["tasks"]["project2"]["status"] == "done"
    assert summary["tasks"]["project2"]["patch"]


def test_rows_with_their_own_tests_are_graded(tmp_path: Path, server: ScriptedServer) -> None:
    dataset, rows = make_dataset(tmp_path / "tasks", 2, kind="swebench")
    config = config_for(server, tmp_path, workers=2)
    services = build_services(config)
    services.recipes = {row["repo"]: unittest_recipe() for row in rows}
    services.environments.root = tmp_path / "envs"
    report = run_batch(
        load_tasks(dataset), config, tmp_path / "run", progress="none", services=services
    )
    summary = report.summary
    assert summary["resolved_ids"] == ["project0", "project1"], summary["errors"]
    graded = json.loads((tmp_path / "run" / "project0" / "eval" / "report.json").read_text())
    assert graded["project0"]["resolved"] is True


# --- processes: the CLI killed, stopped, and run twice at once -------------------------


def batch_argv(srv: ScriptedServer, tmp_path: Path, dataset: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "agentless",
        "batch",
        str(dataset),
        "--out",
        str(tmp_path / "run"),
        "--model",
        "scripted",
        "--base-url",
        srv.url,
        "--locations",
        "1",
        "--samples",
        "2",
        "--cache-dir",
        str(tmp_path / "cache"),
        *extra,
    ]


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "AGENTLESS_MODEL")}
    return env


def task_states(run_dir: Path) -> dict[str, str]:
    path = run_dir / "store.db"
    if not path.is_file():
        return {}
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return dict(conn.execute("SELECT instance_id, status FROM task_runs").fetchall())
    except sqlite3.OperationalError:
        return {}  # not migrated yet


def wait_until(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_sigkill_in_the_middle_then_rerun_finishes_every_task_once(tmp_path: Path) -> None:
    dataset, rows = make_dataset(tmp_path / "tasks", 6)
    with ScriptedServer(latency=0.3) as srv:
        script_server(srv)
        argv = batch_argv(srv, tmp_path, dataset, "--workers", "3")
        first = subprocess.Popen(
            argv, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        wait_until(lambda: list(task_states(tmp_path / "run").values()).count("done") >= 2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.time()
        before = srv.answered
        received_before = len(srv.chat_requests)
        with Store.for_run(tmp_path / "run") as store:
            assert store.integrity_check() == "ok"
        left = list((tmp_path / "cache" / "worktrees").glob("*/*-*"))
        second = subprocess.run(argv, env=cli_env(), capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        later = srv.chat_requests[received_before:]
    states = task_states(tmp_path / "run")
    assert states == {row["instance_id"]: "done" for row in rows}
    # Worktrees the killed process held are removed by the next run.
    assert not [path for path in left if path.exists()]
    assert list((tmp_path / "cache" / "worktrees").glob("*/*")) == []
    with Store.for_run(tmp_path / "run") as store:
        assert store.integrity_check() == "ok"
        assert all(store.result_count(row["instance_id"]) == 1 for row in rows)
    predictions = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    assert sorted(json.loads(p)["instance_id"] for p in predictions) == sorted(states)
    # No request the server had answered (and the client had time to record) is sent again;
    # only those in flight at the kill may be.
    settled = {body_key(r.body) for at, r in before if at < killed_at - 0.25}
    repeated = [r for r in later if body_key(r.body) in settled]
    assert settled and later and repeated == []
    in_flight = received_before - len(before)
    assert len([r for r in later if body_key(r.body) in {body_key(x.body) for _, x in before}]) <= 3
    assert in_flight <= 3


def test_a_second_process_into_the_same_run_directory_refuses(tmp_path: Path) -> None:
    dataset, _ = make_dataset(tmp_path / "tasks", 3)
    with ScriptedServer(latency=0.3) as srv:
        script_server(srv)
        argv = batch_argv(srv, tmp_path, dataset)
        first = subprocess.Popen(
            argv, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        wait_until(lambda: "running" in task_states(tmp_path / "run").values())
        second = subprocess.run(argv, env=cli_env(), capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert "in use by another agentless process" in second.stderr
        assert f"pid {first.pid}" in second.stderr and "--wait" in second.stderr
        waiting = subprocess.Popen(
            [*argv, "--wait"], env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert first.wait(timeout=120) == 0
        assert waiting.wait(timeout=120) == 0
        bodies = [body_key(r.body) for r in srv.chat_requests]
    assert len(bodies) == len(set(bodies)), "a model request was paid twice"
    assert len(bodies) == 3 * len(CALL_STAGES)


def slow_test_command(marker: Path) -> str:
    """A test command that hangs for two minutes while ``marker`` exists."""
    return f'python -c "import os, time; time.sleep(120 if os.path.exists({str(marker)!r}) else 0)"'


def test_sigterm_stops_tests_and_releases_worktrees(tmp_path: Path) -> None:
    marker = tmp_path / "slow"
    marker.write_text("")
    dataset, _ = make_dataset(tmp_path / "tasks", 2, test_cmd=slow_test_command(marker))
    with ScriptedServer() as srv:
        script_server(srv)
        argv = batch_argv(srv, tmp_path, dataset, "--workers", "2")
        first = subprocess.Popen(
            argv, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        store_path = tmp_path / "run" / "store.db"

        def validating() -> bool:
            if not store_path.is_file():
                return False
            with sqlite3.connect(store_path, timeout=5) as conn:
                try:
                    stages = [r[0] for r in conn.execute("SELECT stage FROM task_runs")]
                except sqlite3.OperationalError:
                    return False
            return stages.count("validate") == 2

        wait_until(validating)
        time.sleep(0.5)
        started = time.monotonic()
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
        assert time.monotonic() - started < 20, "stopping waited for the tests"
        assert first.returncode == 128 + signal.SIGTERM, err.decode()
        assert b"stopping" in err
        leftovers = [p for p in (tmp_path / "cache" / "worktrees").glob("*/*")]
        assert leftovers == []
        sleeping = subprocess.run(
            ["pgrep", "-f", str(marker)], capture_output=True, text=True
        ).stdout.split()
        assert sleeping == []
        assert set(task_states(tmp_path / "run").values()) == {"interrupted"}
        marker.unlink()
        second = subprocess.run(argv, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert set(task_states(tmp_path / "run").values()) == {"done"}


def test_the_progress_board_counts_and_describes_running_tasks() -> None:
    from agentless.model import Usage
    from agentless.runner.progress import Board

    board = Board("batch", total=4)
    board.earlier({"resolved": True})
    board.started("a")
    board.started("b")
    board.stage("a", "validate", "2 distinct patch(es)")
    board.activity("a", "regression tests: candidate 1/2")
    board.model_call(Usage(prompt_tokens=1200, completion_tokens=34, calls=1, cost=0.5))
    board.finished("b", "failed", {}, "RepoError: gone")
    headline = board.headline()
    assert "2/4 done" in headline and "1 running" in headline and "1 failed" in headline
    assert "1/1 resolved" in headline and "1,234 fresh tokens" in headline and "$0.5000" in headline
    assert "ETA" in headline
    [(iid, stage, doing, _)] = board.rows()
    assert (iid, stage, doing) == (
        "a",
        "validate",
        "2 distinct patch(es) · regression tests: candidate 1/2",
    )
    board.model_call(Usage(prompt_tokens=1, calls=1, cost=None))
    assert "cost unknown" in board.headline()


def test_worktrees_of_a_killed_process_are_swept_and_busy_ones_kept(tmp_path: Path) -> None:
    from agentless.repo import Workspace
    from agentless.testing.tasks import make_repo

    repo = make_repo(tmp_path, 0)["repo"]
    cache = tmp_path / "cache"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from agentless.repo import Workspace\n"
            f"with Workspace(Path({str(cache)!r})).checkout({repo!r}) as tree:\n"
            "    print(tree, flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    abandoned = Path(holder.stdout.readline().strip())
    workspace = Workspace(cache)
    with workspace.checkout(repo) as busy:
        assert workspace.sweep_abandoned() == 0  # the other process still holds its tree
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert abandoned.is_dir()
        assert workspace.sweep_abandoned() == 1
        assert not abandoned.exists() and busy.is_dir()
    assert list((cache / "worktrees").glob("*/*")) == []
