"""The exercise benchmark end to end: exercises written here, a scripted model, real tests.

Six exercises in the Exercism layout, each scripted to one story — solved on try 1, solved on
try 2 after seeing the test output, fixed by a reflection on a malformed edit, never solved,
hanging tests, a reply that edits the test file — run through the real command path (run
store, edit engine, sandbox, pytest), and every metric checked against what the story means.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.config import Config, load_config
from agentless.errors import ConfigError, ModelError
from agentless.exercises import ExerciseResult, render_markdown
from agentless.runner import run_exercises
from agentless.store import Store
from agentless.tasks import exercise_tasks
from agentless.testing import RecordedRequest, ScriptedServer

GOLD = "GOLD-REFERENCE-7f3a"  # in every reference solution: must never reach a prompt


def write_exercise(root: Path, name: str, stub: str, test: str, instructions: str) -> Path:
    folder = root / "python" / "exercises" / "practice" / name
    module = name.replace("-", "_")
    (folder / ".docs").mkdir(parents=True)
    (folder / ".meta").mkdir()
    (folder / ".docs" / "instructions.md").write_text(instructions)
    config = {
        "files": {
            "solution": [f"{module}.py"],
            "test": [f"{module}_test.py"],
            "example": [".meta/example.py"],
        }
    }
    (folder / ".meta" / "config.json").write_text(json.dumps(config))
    (folder / ".meta" / "example.py").write_text(f"# {GOLD}\n{stub}")
    (folder / f"{module}.py").write_text(stub)
    (folder / f"{module}_test.py").write_text(test)
    return folder


def block(path: str, search: str, replace: str) -> str:
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


STUB = "def answer(x):\n    pass\n"


def make_tests(module: str, body: str) -> str:
    return f"from {module} import answer\n\n\ndef test_answer():\n{body}"


# name -> (test body, {phase: reply}); phases: "initial", "retry", "reflect"
STORIES: dict[str, tuple[str, dict[str, str]]] = {
    "adder": (
        "    assert answer(2) == 3\n",
        {"initial": block("adder.py", "    pass\n", "    return x + 1\n")},
    ),
    "greeter": (
        "    assert answer('Bob') == 'Hello, Bob!'\n",
        {
            "initial": block("greeter.py", "    pass\n", "    return 'Hello, World'\n"),
            "retry": block(
                "greeter.py", "    return 'Hello, World'\n", "    return f'Hello, {x}!'\n"
            ),
        },
    ),
    "doubler": (
        "    assert answer(4) == 8\n",
        {
            "initial": block("doubler.py", "    return None\n", "    return x * 2\n"),
            "reflect": block("doubler.py", "    pass\n", "    return x * 2\n"),
        },
    ),
    "never": (
        "    assert answer(1) == 'one'\n",
        {
            "initial": block("never.py", "    pass\n", "    return (\n"),
            "retry": block(
                "never.py", "    return (\n", "    # ... existing code ...\n    y = 1\n  return y\n"
            ),
        },
    ),
    "sleeper": (
        "    assert answer(0) == 0\n",
        {
            "initial": block("sleeper.py", "    pass\n", "    while True:\n        x += 0\n"),
            "retry": block("sleeper.py", "    while True:\n        x += 0\n", "    return x\n"),
        },
    ),
    "cheater": (
        "    assert answer(3) == 9\n",
        {
            "initial": block("cheater.py", "    pass\n", "    return 0\n")
            + "\n"
            + block("cheater_test.py", "    assert answer(3) == 9\n", "    assert True\n"),
            "retry": block("cheater.py", "    return 0\n", "    return x * x\n"),
        },
    ),
}


TIME_LIMIT = 20.0  # seconds per test run: the hanging exercise waits this long


def write_stories(root: Path) -> Path:
    for name, (body, _) in STORIES.items():
        write_exercise(root, name, STUB, make_tests(name, body), f"Write answer() for {name}.")
    return root


@pytest.fixture
def exercises(tmp_path: Path) -> Path:
    return write_stories(tmp_path / "bench")


@dataclass(frozen=True)
class Run:
    root: Path
    out: Path
    metrics: dict[str, Any]
    requests: list[RecordedRequest]


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The six stories run once (the hanging one costs TIME_LIMIT); tests read the outcome."""
    tmp = tmp_path_factory.mktemp("stories")
    root = write_stories(tmp / "bench")
    out = tmp / "run"
    metrics, requests = run(root, tmp, out)
    return Run(root, out, metrics, requests)


def phase(messages: list[dict[str, Any]]) -> str:
    last = messages[-1]["content"]
    if len(messages) == 2:
        return "initial"
    if last.startswith("Your reply could not be applied"):
        return "reflect"
    if last.startswith("The tests failed"):
        return "retry"
    raise AssertionError(f"unexpected request: {last[:80]!r}")


def scripted(request: RecordedRequest) -> str:
    first = request.messages[1]["content"].splitlines()[0]  # "# Exercise: NAME (Python)"
    name = first.split(": ", 1)[1].split(" (", 1)[0]
    return STORIES[name][1][phase(request.messages)]


def config_for(srv: ScriptedServer, tmp_path: Path, **exercises: Any) -> Config:
    return load_config(
        env={},
        overrides={
            "model": {"name": "scripted", "base_url": srv.url, "backoff_base": 0.01},
            "run": {"cache_dir": tmp_path / "cache", "workers": 2},
            "exercises": {"test_timeout": TIME_LIMIT, **exercises},
        },
    )


def run(
    root: Path, tmp_path: Path, out: Path, reply: Callable[[RecordedRequest], str] = scripted
) -> tuple[dict[str, Any], list[RecordedRequest]]:
    with ScriptedServer(default=reply) as srv:
        report = run_exercises(exercise_tasks(root), config_for(srv, tmp_path), out)
        return report.summary, srv.chat_requests


def result_of(out: Path, name: str) -> ExerciseResult:
    return ExerciseResult.from_dict(
        json.loads((out / f"python__{name}" / "result.json").read_text())
    )


def test_six_stories_each_count_in_every_metric(stories: Run) -> None:
    metrics, requests, out = stories.metrics, stories.requests, stories.out

    outcome = {r["exercise"]: r["passed_on_try"] for r in metrics["per_exercise"]}
    assert outcome == {
        "python/adder": 1,
        "python/cheater": 2,
        "python/doubler": 1,
        "python/greeter": 2,
        "python/never": None,
        "python/sleeper": 2,
    }
    assert metrics["cases"] == 6
    assert (metrics["passed_1"], metrics["passed_2"]) == (2, 5)
    assert (metrics["pass_rate_1"], metrics["pass_rate_2"]) == (33.3, 83.3)
    assert metrics["malformed_responses"] == 1  # doubler's first reply
    assert metrics["cases_with_malformed"] == 1
    assert metrics["percent_cases_well_formed"] == 83.3
    assert metrics["reflections"] == 1
    assert metrics["syntax_errors"] == 1  # never, try 1
    assert metrics["indentation_errors"] == 1  # never, try 2
    assert metrics["lazy_comments"] == 1  # never, try 2
    assert metrics["test_timeouts"] == 1  # sleeper, try 1
    assert metrics["test_edits"] == 1  # cheater, try 1
    # adder 1, greeter 2, doubler 2 (reply + reflection), never 2, sleeper 2, cheater 2
    assert metrics["replies"] == len(requests) == 11
    assert metrics["test_runs"] == 1 + 2 + 1 + 2 + 2 + 2
    assert metrics["prompt_tokens"] > 0 and metrics["completion_tokens"] > 0
    assert metrics["cost"] is None  # no price configured: unknown, never 0
    assert metrics["seconds_per_case"] > 0
    assert metrics["by_language"]["python"]["pass_rate_2"] == 83.3
    assert metrics["plot"] == {
        "tries": [1, 2],
        "series": {"all": [33.3, 83.3], "python": [33.3, 83.3]},
    }
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_each_story_happens_as_scripted(stories: Run) -> None:
    requests, out = stories.requests, stories.out
    by_name = {
        name: [r for r in requests if f"# Exercise: {name} (Python)" in r.messages[1]["content"]]
        for name in STORIES
    }

    # greeter: try 2 carries the failing assertion, without timings or the work folder's path.
    retry = by_name["greeter"][1].messages[-1]["content"]
    assert "Hello, World" in retry and "AssertionError" in retry
    assert "return 'Hello, World'" in retry  # the files as they are now
    assert str(out) not in retry and " in 0." not in retry

    # doubler: the reflection carries the edit engine's feedback about the unmatched SEARCH.
    reflection = by_name["doubler"][1].messages[-1]["content"]
    assert "return None" in reflection and "doubler.py" in reflection

    # sleeper: the timeout is what try 2 is told about.
    sleeper = result_of(out, "sleeper")
    assert sleeper.tries[0].test is not None and sleeper.tries[0].test.timed_out
    assert f"stopped after {TIME_LIMIT:g} seconds" in by_name["sleeper"][1].messages[-1]["content"]

    # cheater: the test file edit was never written; the real test ran and failed.
    cheater = result_of(out, "cheater")
    assert cheater.tries[0].replies[0].test_edits == ("cheater_test.py",)
    assert not cheater.tries[0].passed
    work = out / "python__cheater" / "cheater"
    assert "assert answer(3) == 9" in (work / "cheater_test.py").read_text()
    assert "return x * x" in (work / "cheater.py").read_text()

    # never: a syntax error, then an indentation error with a placeholder comment.
    never = result_of(out, "never")
    assert [t.test.syntax_error for t in never.tries if t.test] == [True, False]
    assert [t.test.indentation_error for t in never.tries if t.test] == [False, True]

    # Prompts start with the same system message (servers' prefix caches serve it).
    systems = {r.messages[0]["content"] for r in requests}
    assert len(systems) == 1 and "SEARCH" in systems.pop()


def test_the_reference_solution_reaches_no_prompt_copy_or_file(stories: Run) -> None:
    requests, out = stories.requests, stories.out
    assert requests and not any(GOLD in json.dumps(r.body) for r in requests)
    assert not any(".meta" in json.dumps(r.body) for r in requests)
    for path in out.rglob("*"):
        assert ".meta" not in path.parts
        if path.is_file() and path.suffix in (".json", ".py"):
            assert GOLD not in path.read_text()
    with Store.for_run(out) as store:
        assert not any(GOLD in json.dumps(call.request) for call in store.calls())


def test_report_shows_the_benchmark_metrics_and_the_pass_rate_plot(
    stories: Run, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    shutil.copytree(stories.out, out)
    result = CliRunner().invoke(main, ["report", str(out), "--html"])
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text()
    assert "6 task(s): 6 done, 0 failed, 0 unfinished" in text
    assert "## Funnel" not in text  # repairs' funnel: nothing to show for exercises
    # language, cases, pass 1, pass 2, well-formed, malformed, syntax, indent, lazy,
    # timeouts, test edits: each story counted once where it belongs.
    row = "| python | 6 | 33.3% | 83.3% | 83.3% | 1 | 1 | 1 | 1 | 1 | 1 |"
    assert row in text and "| **all** | 6 | 33.3% | 83.3% |" in text
    assert "| python__sleeper | done | - | passed on try 2 (2 replies, 1 timed out;" in text
    page = (out / "report.html").read_text()
    assert "Pass rate by try and by language" in page and "Funnel" not in page
    assert page.count("<svg") == 2  # the pass rates, tokens per task
    assert "pass rate by try 33.3% / 83.3%" in page
    assert "<td>python</td><td>6</td><td>33.3%</td><td>83.3%</td>" in page
    assert 'id="task-python__cheater"' in page
    assert "test files edited (not written): cheater_test.py" in page
    assert "(timed out)" in page and "indentation error" in page


def test_a_second_run_resumes_without_calling_the_model(stories: Run, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(stories.out, out)
    again, requests = run(stories.root, tmp_path, out)
    assert requests == []
    assert again == stories.metrics


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
