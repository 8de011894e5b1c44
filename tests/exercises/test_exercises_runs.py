"""The exercise benchmark as a run: resumed after a crash, stopped by a dead endpoint or
SIGTERM, its settings kept, driven from the CLI (the stories of exercise_stories)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from exercise_stories import (
    STUB,
    block,
    config_for,
    make_tests,
    scripted,
    write_exercise,
    write_stories,
)

from agentless.cli import main
from agentless.errors import ConfigError, ModelError
from agentless.exercises import render_markdown
from agentless.runner import run_exercises
from agentless.store import Store
from agentless.tasks import exercise_tasks
from agentless.testing import RecordedRequest, ScriptedServer


@pytest.fixture
def exercises(tmp_path: Path) -> Path:
    return write_stories(tmp_path / "bench")


def test_an_interrupted_run_reruns_only_unfinished_exercises_from_the_store(
    exercises: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    with ScriptedServer(default=scripted) as srv:
        config = config_for(srv, tmp_path)
        tasks = [
            t
            for t in exercise_tasks(exercises)
            if t.instance_id in ("python__adder", "python__greeter")
        ]
        run_exercises([t for t in tasks if t.instance_id == "python__greeter"], config, out)
        assert len(srv.chat_requests) == 2
        # A crash after greeter's replies, as a killed process leaves the store: the task
        # still running, no result, its model calls kept.
        with Store.for_run(out) as store, store.transaction() as conn:
            conn.execute("DELETE FROM task_results")
            conn.execute("UPDATE task_runs SET status = 'running', output = '{}'")
        metrics = run_exercises(tasks, config, out).summary
        names = [r.messages[1]["content"].splitlines()[0] for r in srv.chat_requests[2:]]
    assert not any("greeter" in n for n in names)  # both replies came from the store
    assert metrics["cases"] == 2 and metrics["cached_replies"] == 2
    assert (metrics["passed_1"], metrics["passed_2"]) == (1, 2)


def test_a_model_endpoint_that_is_down_stops_the_run_which_resumes_later(
    exercises: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    wanted = ("python__adder", "python__doubler", "python__greeter")
    tasks = [t for t in exercise_tasks(exercises) if t.instance_id in wanted]
    with ScriptedServer(default=scripted) as srv:
        config = config_for(srv, tmp_path)
    # The same settings, with the server gone: nothing listens on its port any more.
    down = config.model_copy(update={"model": config.model.model_copy(update={"max_attempts": 1})})
    with pytest.raises(ModelError):
        run_exercises(tasks, down, out)
    with Store.for_run(out) as store:
        runs = store.task_runs("exercises")
    assert not any(run.status == "done" for run in runs.values())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cases"] == 0 and metrics["errors"] == []  # not counted as failures
    assert len(metrics["unfinished"]) + len(runs) >= len(wanted)
    with ScriptedServer(default=scripted) as srv:
        again = run_exercises(tasks, config_for(srv, tmp_path), out).summary
    assert again["cases"] == 3 and again["unfinished"] == []
    assert (again["passed_1"], again["passed_2"]) == (2, 3)


@pytest.mark.ci
def test_the_ray_executor_counts_as_the_local_one(exercises: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the ray extra is not installed (make test-ci installs it)")
    wanted = ("python__adder", "python__doubler", "python__greeter")
    tasks = [t for t in exercise_tasks(exercises) if t.instance_id in wanted]
    outcomes = {}
    with ScriptedServer(default=scripted) as srv:
        for executor in ("local", "ray"):
            config = config_for(srv, tmp_path / executor)
            run = config.run.model_copy(update={"executor": executor, "ray_cpus_per_task": 0.5})
            metrics = run_exercises(
                tasks, config.model_copy(update={"run": run}), tmp_path / f"run-{executor}"
            ).summary
            outcomes[executor] = {
                "rows": [
                    {k: v for k, v in row.items() if k != "seconds"}
                    for row in metrics["per_exercise"]
                ],
                **{k: metrics[k] for k in ("passed_1", "passed_2", "malformed_responses")},
                **{k: metrics[k] for k in ("replies", "test_runs", "prompt_tokens")},
            }
    assert outcomes["ray"] == outcomes["local"]
    assert (outcomes["ray"]["passed_1"], outcomes["ray"]["passed_2"]) == (2, 3)


def test_a_run_directory_keeps_its_settings(exercises: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    tasks = [t for t in exercise_tasks(exercises) if t.instance_id == "python__adder"]
    with ScriptedServer(default=scripted) as srv:
        run_exercises(tasks, config_for(srv, tmp_path), out)
        with pytest.raises(ConfigError, match="edit_format 'diff' -> 'whole'"):
            run_exercises(tasks, config_for(srv, tmp_path, edit_format="whole"), out)


def test_cli_runs_the_benchmark_and_prints_the_table(exercises: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli-run"
    with ScriptedServer(default=scripted) as srv:
        args = ["exercises", str(exercises), "--out", str(out), "--languages", "python"]
        args += ["--instances", "adder,greeter", "--model", "scripted", "--base-url", srv.url]
        args += ["--cache-dir", str(tmp_path / "cache"), "--test-timeout", "20"]
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "| python | 2 | 50.0% | 100.0% | 100.0% |" in result.output
    assert f"metrics: {out / 'metrics.json'}" in result.output


def test_sigterm_stops_the_cli_in_a_hanging_test_and_a_rerun_resumes(
    exercises: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "AGENTLESS_MODEL")}
    with ScriptedServer(default=scripted) as srv:
        argv = [sys.executable, "-m", "agentless", "exercises", str(exercises), "--out", str(out)]
        argv += ["--instances", "adder,sleeper", "--model", "scripted", "--base-url", srv.url]
        argv += ["--cache-dir", str(tmp_path / "cache"), "--test-timeout", "120"]
        first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def detail(iid: str) -> str:
            try:
                with sqlite3.connect(out / "store.db", timeout=5) as conn:
                    row = conn.execute(
                        "SELECT detail FROM task_runs WHERE instance_id = ?", (iid,)
                    ).fetchone()
            except sqlite3.OperationalError:
                return ""  # not created or not migrated yet
            return row[0] if row else ""

        deadline = time.monotonic() + 120
        while detail("python__sleeper") != "running the tests":
            assert time.monotonic() < deadline and first.poll() is None, "never reached the tests"
            time.sleep(0.1)
        time.sleep(1.0)  # inside its endless loop now
        stopping = time.monotonic()
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
        assert time.monotonic() - stopping < 30, "stopping waited for the test time limit"
        assert first.returncode == 128 + signal.SIGTERM, err.decode()
        assert b"run the same command again to resume" in err
        with Store.for_run(out) as store:
            states = {i: r.status for i, r in store.task_runs("exercises").items()}
            assert states["python__sleeper"] == "interrupted"
        asked = len(srv.chat_requests)
        # A shorter time limit this time (adder runs again, its reply from the store).
        argv[-1] = "10"
        second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        assert len(srv.chat_requests) == asked + 1  # only sleeper's try 2 is new
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cases"] == 2 and metrics["unfinished"] == []
    assert (metrics["passed_1"], metrics["passed_2"]) == (1, 2)
    assert metrics["test_timeouts"] == 1  # the rerun's own run of the hanging tests


def test_cli_refuses_an_unknown_language(exercises: Path, tmp_path: Path) -> None:
    args = ["exercises", str(exercises), "--out", str(tmp_path / "o"), "--languages", "cobol"]
    result = CliRunner().invoke(main, [*args, "--model", "m", "--base-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "unknown language(s) cobol" in result.output


def test_markdown_names_languages_that_cannot_run(tmp_path: Path) -> None:
    metrics = {
        "model": "m",
        "edit_format": "diff",
        "tries": 2,
        **_empty_block(),
        "by_language": {},
        "unavailable": {"java": {"exercises": 1, "reasons": {"needs rxjava": ["java/hangman"]}}},
        "errors": [],
    }
    text = render_markdown(metrics)
    assert "- not run: java, 1 exercise(s): needs rxjava" in text
    assert "| **all** | 0 | - | - | - |" in text


def _empty_block() -> dict[str, Any]:
    keys = ["replies", "cached_replies", "malformed_responses", "syntax_errors"]
    keys += ["indentation_errors", "lazy_comments", "test_timeouts", "test_edits"]
    block: dict[str, Any] = dict.fromkeys(keys, 0)
    block.update(cases=0, prompt_tokens=0, completion_tokens=0, cached_tokens=0, cost=None)
    block.update(seconds_per_case=None, percent_cases_well_formed=None)
    return block


def test_an_exercise_that_cannot_run_here_is_listed_apart(exercises: Path, tmp_path: Path) -> None:
    java = tmp_path / "bench" / "java" / "exercises" / "practice" / "hangman"
    (java / ".docs").mkdir(parents=True)
    (java / ".meta").mkdir()
    (java / ".docs" / "instructions.md").write_text("Play hangman.")
    files = {"solution": ["src/main/java/Hangman.java"], "test": ["src/test/java/HangmanTest.java"]}
    (java / ".meta" / "config.json").write_text(json.dumps({"files": files}))
    for rel in (*files["solution"], *files["test"]):
        (java / rel).parent.mkdir(parents=True, exist_ok=True)
        (java / rel).write_text("class X {}\n")
    (java / "build.gradle").write_text(
        'dependencies {\n implementation "io.reactivex.rxjava2:rxjava:2.2.12"\n}\n'
    )
    tasks = [
        t for t in exercise_tasks(exercises) if t.instance_id in ("java__hangman", "python__adder")
    ]
    with ScriptedServer(default=scripted) as srv:
        metrics = run_exercises(tasks, config_for(srv, tmp_path), tmp_path / "run").summary
        assert len(srv.chat_requests) == 1  # adder only
    assert metrics["cases"] == 1 and metrics["pass_rate_1"] == 100.0
    ((reason, ids),) = metrics["unavailable"]["java"]["reasons"].items()
    assert ids == ["java/hangman"] and reason  # rxjava missing, or no Java toolchain at all


def test_python_exercises_run_under_pytest_alone(tmp_path: Path) -> None:
    # This interpreter has third-party pytest plugins (xdist, timeout, hypothesis); an
    # exercise's tests must not depend on what happens to be installed beside pytest.
    body = (
        "    import sys\n"
        "    loaded = sorted(m for m in ('xdist', 'pytest_timeout', 'hypothesis') if m in sys.modules)\n"
        "    assert loaded == [] and answer(1) == 2\n"
    )
    root = tmp_path / "bench"
    write_exercise(root, "plain", STUB, make_tests("plain", body), "Write answer().")
    reply = block("plain.py", "    pass\n", "    return x + 1\n")
    with ScriptedServer(default=lambda request: reply) as srv:
        metrics = run_exercises(exercise_tasks(root), config_for(srv, tmp_path), tmp_path / "o")
    assert (metrics.summary["passed_1"], metrics.summary["cases"]) == (1, 1)


def test_a_fix_of_the_same_size_within_the_same_second_is_what_gets_tested(
    tmp_path: Path,
) -> None:
    # Try 1 and try 2 write files of one size, well within a second: a .pyc of try 1 (its
    # header holds the source's size and mtime in whole seconds) would pass for try 2's.
    body = "    assert answer('Bob') == 'Hello, Bob!'\n"
    root = tmp_path / "bench"
    write_exercise(root, "same", STUB, make_tests("same", body), "Greet x.")
    first = block("same.py", "    pass\n", "    return 'Hello, World'\n")
    second = block("same.py", "    return 'Hello, World'\n", "    return f'Hello, {x}!'\n")
    assert len("    return 'Hello, World'\n") == len("    return f'Hello, {x}!'\n")

    def reply(request: RecordedRequest) -> str:
        return second if request.messages[-1]["content"].startswith("The tests failed") else first

    with ScriptedServer(default=reply) as srv:
        metrics = run_exercises(exercise_tasks(root), config_for(srv, tmp_path), tmp_path / "o")
    assert (metrics.summary["passed_1"], metrics.summary["passed_2"]) == (0, 1)
