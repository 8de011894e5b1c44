"""Batch runs as processes: the real CLI killed with SIGKILL and re-run, stopped with SIGTERM,
and started twice into one run directory, against the scripted model server on loopback."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from agentless.store import Store
from agentless.testing import ScriptedServer, make_dataset, script_server

# Model calls of one generated task: three localization stages, two repair requests (the
# greedy sample and the sampled one), the reproduction script.
CALLS_PER_TASK = 6


def body_key(body: object) -> str:
    return json.dumps(body, sort_keys=True)


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


def wait_until(predicate: object, timeout: float = 180.0) -> None:
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
        wait_until(lambda: list(task_states(tmp_path / "run").values()).count("done") >= 2, 120)
        first.send_signal(signal.SIGKILL)
        first.wait()
        received = [body_key(r.body) for r in srv.chat_requests]
        with Store.for_run(tmp_path / "run") as store:
            assert store.integrity_check() == "ok"
            # The calls the killed run paid for and kept: the request bodies, as sent.
            kept = {body_key(call.request) for call in store.calls()}
        left = list((tmp_path / "cache" / "worktrees").glob("*/*-*"))
        second = subprocess.run(argv, env=cli_env(), capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        later = [body_key(r.body) for r in srv.chat_requests[len(received) :]]
    states = task_states(tmp_path / "run")
    assert states == {row["instance_id"]: "done" for row in rows}
    with Store.for_run(tmp_path / "run") as store:
        assert store.integrity_check() == "ok"
        assert all(store.result_count(row["instance_id"]) == 1 for row in rows)
    predictions = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    assert sorted(json.loads(p)["instance_id"] for p in predictions) == sorted(states)
    # No request whose reply the store had kept is sent again; the only requests the server
    # sees twice are those in flight when the process died (at most one per worker).
    assert kept and later
    assert [key for key in later if key in kept] == []
    in_flight = [key for key in later if key in set(received)]
    assert len(in_flight) <= 3 and all(key not in kept for key in in_flight)
    assert len(later) == len(set(later))
    # Worktrees the killed process held are removed by the next run.
    assert not [path for path in left if path.exists()]
    assert list((tmp_path / "cache" / "worktrees").glob("*/*")) == []


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
    assert len(bodies) == 3 * CALLS_PER_TASK


def slow_test_program(folder: Path) -> tuple[Path, Path]:
    """A test program that hangs for two minutes while its marker exists, and the marker. The
    sandbox shows the program's installation (``folder``) read-only; a marker anywhere else
    under /tmp would be behind the sandbox's private /tmp, and the tests would never hang."""
    program, marker = folder / "bin" / "slow-tests", folder / "hang"
    program.parent.mkdir(parents=True)
    program.write_text(f"#!/bin/sh\nif [ -e {marker} ]; then sleep 120; fi\n")
    program.chmod(0o755)
    marker.write_text("")
    return program, marker


def test_sigterm_stops_tests_and_releases_worktrees(tmp_path: Path) -> None:
    program, marker = slow_test_program(tmp_path / "slow")
    dataset, _ = make_dataset(tmp_path / "tasks", 2, test_cmd=str(program))
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
        assert first.poll() is None, "the tests did not hang"
        started = time.monotonic()
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
        assert time.monotonic() - started < 20, "stopping waited for the tests"
        assert first.returncode == 128 + signal.SIGTERM, err.decode()
        assert b"stopping" in err
        leftovers = [p for p in (tmp_path / "cache" / "worktrees").glob("*/*")]
        assert leftovers == []
        sleeping = subprocess.run(
            ["pgrep", "-f", str(program)], capture_output=True, text=True
        ).stdout.split()
        assert sleeping == []
        assert set(task_states(tmp_path / "run").values()) == {"interrupted"}
        marker.unlink()
        second = subprocess.run(argv, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert set(task_states(tmp_path / "run").values()) == {"done"}
