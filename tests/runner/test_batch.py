"""Batch runs through the runner's scheduler: real git repositories with a real bug and real
tests, the scripted model server on loopback, the real CLI in subprocesses where a process has
to be killed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.config import Config
from agentless.runner import build_services, run_batch
from agentless.store import Store
from agentless.tasks import load_tasks
from agentless.testing import ScriptedServer, make_dataset, script_server, unittest_recipe


def config_for(make: Callable[..., Config], srv: ScriptedServer, **run: object) -> Config:
    return make(srv, localize={"window_samples": 1}, repair={"samples": 2}, run=run)


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
    tmp_path: Path, server: ScriptedServer, scripted_config: Callable[..., Config]
) -> None:
    dataset, _ = make_dataset(tmp_path / "tasks", 3)
    config = config_for(scripted_config, server, workers=3)
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
    tmp_path: Path, server: ScriptedServer, scripted_config: Callable[..., Config]
) -> None:
    dataset, _ = make_dataset(tmp_path / "tasks", 2)
    config = config_for(scripted_config, server, workers=2)
    run_batch(load_tasks(dataset), config, tmp_path / "run", progress="none")
    calls = len(server.chat_requests)
    again = run_batch(load_tasks(dataset), config, tmp_path / "run", progress="none")
    assert len(server.chat_requests) == calls
    assert sorted(again.skipped) == ["project0", "project1"]
    assert again.summary["done_tasks"] == 2


def test_a_task_that_cannot_be_cloned_or_paid_for_fails_alone(
    tmp_path: Path, scripted_config: Callable[..., Config]
) -> None:
    dataset, rows = make_dataset(tmp_path / "tasks", 3)
    rows[0]["repo"] = str(tmp_path / "no-such-repository")
    rows[1]["problem_statement"] += " " + "padding " * 8000  # over the context window
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with ScriptedServer(context_limit=6000) as srv:
        script_server(srv)
        config = config_for(scripted_config, srv, workers=3)
        report = run_batch(load_tasks(dataset), config, tmp_path / "run", progress="none")
    summary = report.summary
    assert summary["failed_ids"] == ["project0", "project1"]
    assert "RepoError" in summary["errors"]["project0"]
    assert "ContextLengthError" in summary["errors"]["project1"]
    assert summary["tasks"]["project2"]["status"] == "done"
    assert summary["tasks"]["project2"]["patch"]


def test_rows_with_their_own_tests_are_graded(
    tmp_path: Path, server: ScriptedServer, scripted_config: Callable[..., Config]
) -> None:
    dataset, rows = make_dataset(tmp_path / "tasks", 2, kind="swebench")
    config = config_for(scripted_config, server, workers=2)
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


def test_the_progress_board_counts_and_describes_running_tasks() -> None:
    from agentless.model import Usage
    from agentless.runner._progress import Board

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
    from agentless.testing import make_repo

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
        assert workspace.sweep_abandoned() == []  # the other process still holds its tree
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert abandoned.is_dir()
        assert len(workspace.sweep_abandoned()) == 1
        assert not abandoned.exists() and busy.is_dir()
    assert list((cache / "worktrees").glob("*/*")) == []


def test_a_broken_dataset_is_said_before_a_missing_model(tmp_path: Path) -> None:
    dataset = tmp_path / "rows.jsonl"
    dataset.write_text('{"instance_id": "x"}\n')
    no_model = {"AGENTLESS_MODEL": "", "OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""}
    args = ["batch", str(dataset), "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(main, args, env=no_model)
    assert result.exit_code == 2
    assert "rows.jsonl: x: missing or invalid field(s): repo, problem_statement" in result.output
    assert "no model configured" not in result.output
    dataset.write_text(
        dataset.read_text().replace('"x"', '"x", "repo": "o/r", "problem_statement": "p"')
    )
    result = CliRunner().invoke(main, args, env=no_model)
    assert result.exit_code == 2 and "no model configured" in result.output
