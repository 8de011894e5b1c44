"""A real evaluation on a temporary git repository with a tiny recipe: real venv, real git,
real sandboxed unittest runs, real grading. No package registry is contacted (the recipe
installs nothing)."""

from __future__ import annotations

import contextlib
import json
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.config import Config
from agentless.errors import EnvironmentBuildError, TaskError
from agentless.pipeline import Services
from agentless.repo import Workspace
from agentless.runner import EvalJob, Scheduler
from agentless.runner._context import RunSandbox
from agentless.tasks import Task
from agentless.validate import (
    EnvironmentManager,
    EnvSpec,
    Evaluator,
    Predictions,
    Recipe,
    Sandbox,
    load_predictions,
)

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
TINY = Recipe(
    python=PYTHON,
    install="",
    upgrade_pip=False,
    test_cmd="python -m unittest -v",
    log_parser="unittest",
)

BUGGY = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
FIXED = BUGGY.replace("a - b", "a + b")
TESTS = """import unittest

from calc import add, mul


class TestCalc(unittest.TestCase):
    def test_mul(self):
        self.assertEqual(mul(2, 3), 6)
"""
NEW_TEST = """
    def test_add(self):
        self.assertEqual(add(2, 3), 5)
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def test_id(name: str) -> str:
    # unittest names tests "name (module.Class)" before 3.11, "name (module.Class.name)" after.
    suffix = f".{name}" if sys.version_info >= (3, 11) else ""
    return f"{name} (tests.test_calc.TestCalc{suffix})"


test_id.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    repo = tmp_path_factory.mktemp("calc-repo")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "user.name", "t")
    (repo / "calc").mkdir()
    (repo / "calc" / "__init__.py").write_text(BUGGY)
    (repo / "tests").mkdir()
    (repo / "tests" / "__init__.py").write_text("")
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "calc" / "__init__.py").write_text(FIXED)
    (repo / "tests" / "test_calc.py").write_text(TESTS + NEW_TEST)
    gold = git(repo, "diff", "--", "calc")
    test_patch = git(repo, "diff", "--", "tests")
    git(repo, "checkout", "-q", "--", ".")
    wrong = gold.replace("+    return a + b", "+    return b - a")
    stale = gold.replace("-    return a - b", "-    return a - b  # not there")
    return {
        "repo": str(repo),
        "base": base,
        "gold": gold,
        "test_patch": test_patch,
        "wrong": wrong,
        "stale": stale,
    }


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> EnvironmentManager:
    return EnvironmentManager(tmp_path_factory.mktemp("envs"))


def make_task(project: dict[str, str], instance_id: str) -> Task:
    return Task(
        instance_id=instance_id,
        repo=project["repo"],
        base_commit=project["base"],
        problem_statement="add() subtracts",
        patch=project["gold"],
        test_patch=project["test_patch"],
        FAIL_TO_PASS=json.dumps([test_id("test_add")]),
        PASS_TO_PASS=json.dumps([test_id("test_mul")]),
        version="1.0",
    )


def make_evaluator(tmp_path: Path, envs: EnvironmentManager, repo: str) -> Evaluator:
    return Evaluator(
        out_dir=tmp_path / "out",
        workspace=Workspace(tmp_path / "cache"),
        envs=envs,
        sandbox=Sandbox(timeout=120),
        recipes={repo: TINY},
    )


def evaluate_all(
    evaluator: Evaluator,
    tasks: list[Task],
    predictions: dict[str, str | None],
    workers: int = 1,
) -> tuple[dict[str, object], list[str]]:
    """The tasks through the runner's scheduler, with the evaluator's collaborators."""
    config = Config(validate={"timeout": 120})
    services = Services(
        workspace=evaluator.workspace,
        environments=evaluator.envs,
        sandbox=RunSandbox(timeout=120),
        local_python=Path(sys.executable),
        recipes=evaluator.recipes,
    )
    known = {task.instance_id for task in tasks}
    chosen = Predictions(dict(predictions), missing_ids=tuple(sorted(known - set(predictions))))
    job = EvalJob(config, predictions=chosen, dataset_ids=tuple(sorted(known)))
    scheduler = Scheduler(
        job, evaluator.out_dir, services=services, workers=workers, progress="none"
    )
    report = scheduler.run(tasks)
    return report.summary, report.skipped


def test_gold_empty_wrong_and_stale_patches(
    tmp_path: Path, project: dict[str, str], envs: EnvironmentManager
) -> None:
    names = ["gold", "empty", "wrong", "stale"]
    tasks = [make_task(project, f"calc-{name}") for name in names]
    predictions: dict[str, str | None] = {
        "calc-gold": project["gold"],
        "calc-empty": "",
        "calc-wrong": project["wrong"],
        "calc-stale": project["stale"],
    }
    evaluator = make_evaluator(tmp_path, envs, project["repo"])
    summary, _ = evaluate_all(evaluator, tasks, predictions, workers=2)

    assert summary["resolved_ids"] == ["calc-gold"]
    assert summary["unresolved_ids"] == ["calc-wrong"]
    assert summary["empty_patch_ids"] == ["calc-empty"]
    assert summary["error_ids"] == ["calc-stale"] == summary["patch_error_ids"]
    assert summary["environment_failure_ids"] == []

    out = tmp_path / "out"
    gold = json.loads((out / "calc-gold" / "report.json").read_text())["calc-gold"]
    assert gold["resolved"] and gold["patch_successfully_applied"]
    assert gold["tests_status"]["FAIL_TO_PASS"]["success"] == [test_id("test_add")]
    wrong = json.loads((out / "calc-wrong" / "report.json").read_text())["calc-wrong"]
    assert wrong["tests_status"]["FAIL_TO_PASS"]["failure"] == [test_id("test_add")]
    assert wrong["tests_status"]["PASS_TO_PASS"]["success"] == [test_id("test_mul")]
    log = (out / "calc-wrong" / "test_output.txt").read_text()
    assert ">>>>> Start Test Output" in log and ">>>>> Test Exit Code: 1" in log
    stale = json.loads((out / "calc-stale" / "result.json").read_text())
    assert "did not apply" in stale["detail"]
    # As swebench: no report for an empty patch or a patch that did not apply.
    assert not (out / "calc-stale" / "report.json").exists()
    assert not (out / "calc-empty" / "report.json").exists()
    assert "Patch Apply Failed" in (out / "calc-stale" / "run_instance.log").read_text()
    assert json.loads((out / "summary.json").read_text())["total_instances"] == 4


def test_second_run_reuses_environment_and_results(
    tmp_path: Path, project: dict[str, str], envs: EnvironmentManager
) -> None:
    task = make_task(project, "calc-again")
    evaluator = make_evaluator(tmp_path, envs, project["repo"])
    first = evaluator.evaluate(task, project["gold"])
    assert first.resolved
    spec = EnvSpec(project["repo"], "1.0", TINY)
    ready = envs.path_for(spec) / "ready.json"
    built_at = ready.stat().st_mtime_ns
    summary, skipped = evaluate_all(evaluator, [task], {"calc-again": project["gold"]})
    assert skipped == ["calc-again"] and summary["resolved_instances"] == 1
    assert ready.stat().st_mtime_ns == built_at
    again = evaluator.evaluate(task, project["gold"])
    assert again.env_reused and again.resolved
    assert again.env_seconds < 1.0


def test_failed_build_is_an_infrastructure_failure_with_a_log(
    tmp_path: Path, project: dict[str, str]
) -> None:
    broken = Recipe(
        python=PYTHON,
        install="python -c 'raise SystemExit(3)'",
        upgrade_pip=False,
        test_cmd="python -m unittest -v",
        log_parser="unittest",
    )
    envs = EnvironmentManager(tmp_path / "envs")
    evaluator = make_evaluator(tmp_path, envs, project["repo"])
    evaluator.recipes = {project["repo"]: broken}
    result = evaluator.evaluate(make_task(project, "calc-broken"), project["gold"])
    assert result.outcome == "infrastructure_failure"
    assert "build.log" in result.detail
    spec = EnvSpec(project["repo"], "1.0", broken)
    log = envs.log_path(spec).read_text()
    assert "raise SystemExit(3)" in log and "# exit 3" in log
    assert envs.lookup(spec) is None
    # The next task sharing the environment fails at once, without a second build.
    written = envs.log_path(spec).stat().st_mtime_ns
    again = evaluator.evaluate(make_task(project, "calc-broken-2"), project["gold"])
    assert again.outcome == "infrastructure_failure" and "build.log" in again.detail
    assert envs.log_path(spec).stat().st_mtime_ns == written
    with pytest.raises(EnvironmentBuildError, match=r"no Python 2\.0"):
        EnvironmentManager(tmp_path / "e2").get(
            EnvSpec("x/y", "k", Recipe(python="2.0")), Path(project["repo"]), project["base"]
        )


def test_predictions_file_formats(tmp_path: Path, project: dict[str, str]) -> None:
    tasks = [make_task(project, "calc-1"), make_task(project, "calc-2")]
    assert load_predictions("gold", tasks).patches == {
        "calc-1": project["gold"],
        "calc-2": project["gold"],
    }
    row = {"instance_id": "calc-1", "model_name_or_path": "m", "model_patch": "x"}
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(json.dumps(row) + "\n" + json.dumps({**row, "instance_id": "zzz"}) + "\n")
    loaded = load_predictions(jsonl, tasks)
    assert loaded.patches == {"calc-1": "x", "zzz": "x"}
    assert loaded.unknown_ids == ("zzz",) and loaded.missing_ids == ("calc-2",)
    as_list = tmp_path / "p.json"
    as_list.write_text(json.dumps([{"instance_id": "calc-1", "model_patch": None}]))
    assert load_predictions(as_list, tasks).patches == {"calc-1": None}


def test_bad_predictions_are_errors_with_their_line(
    tmp_path: Path, project: dict[str, str]
) -> None:
    tasks = [make_task(project, "calc-1")]
    row = json.dumps({"instance_id": "calc-1", "model_patch": "x"})
    twice = tmp_path / "twice.jsonl"
    twice.write_text(row + "\n\n" + row.replace('"x"', '"y"') + "\n")
    with pytest.raises(TaskError, match=r"line 3: instance calc-1 has a second prediction"):
        load_predictions(twice, tasks)
    assert load_predictions(twice, tasks, last_wins=True).patches == {"calc-1": "y"}
    broken = tmp_path / "broken.jsonl"
    broken.write_text(row + "\n\n\n{not json\n")
    with pytest.raises(TaskError, match=r"broken.jsonl:line 4: not valid JSON"):
        load_predictions(broken, tasks)


def test_cli_exit_code_says_whether_every_prediction_got_a_verdict(
    tmp_path: Path, project: dict[str, str]
) -> None:
    dataset = tmp_path / "d.jsonl"
    row = make_task(project, "calc-1").model_dump(by_alias=True)
    row["FAIL_TO_PASS"] = json.dumps(row["FAIL_TO_PASS"])
    row["PASS_TO_PASS"] = json.dumps(row["PASS_TO_PASS"])
    dataset.write_text(json.dumps(row) + "\n")
    predictions = tmp_path / "p.jsonl"
    lines = [
        {"instance_id": "calc-1", "model_patch": "", "model_name_or_path": "m"},
        {"instance_id": "not-in-dataset", "model_patch": "x", "model_name_or_path": "m"},
    ]
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["eval", str(dataset), "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")]
    result = CliRunner().invoke(main, [*args, "--predictions", str(predictions)])
    assert result.exit_code == 1, result.output
    assert "unknown ids: 1" in result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["unknown_ids"] == ["not-in-dataset"]
    assert summary["submitted_ids"] == ["calc-1", "not-in-dataset"]
    assert summary["empty_patch_ids"] == ["calc-1"]
    predictions.write_text(json.dumps(lines[0]) + "\n")
    result = CliRunner().invoke(main, [*args, "--predictions", str(predictions)])
    assert result.exit_code == 0, result.output


def test_cli_rejects_unknown_instances(tmp_path: Path, project: dict[str, str]) -> None:
    dataset = tmp_path / "d.jsonl"
    row = make_task(project, "calc-1").model_dump(by_alias=True)
    row["FAIL_TO_PASS"] = json.dumps(row["FAIL_TO_PASS"])
    row["PASS_TO_PASS"] = json.dumps(row["PASS_TO_PASS"])
    dataset.write_text(json.dumps(row) + "\n")
    result = CliRunner().invoke(
        main,
        ["eval", str(dataset), "--predictions", "gold", "--out", str(tmp_path / "o"),
         "--instances", "nope"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "nope" in result.output


def test_model_edits_to_test_files_are_reset_before_the_test_patch(
    tmp_path: Path, project: dict[str, str], envs: EnvironmentManager
) -> None:
    # SWE-bench checks the test patch's files out at the base commit before applying it, so a
    # prediction that also edits those files is graded on its fix alone.
    repo = Path(project["repo"])
    (repo / "calc" / "__init__.py").write_text(FIXED)
    (repo / "tests" / "test_calc.py").write_text(TESTS + "\n# the model's own note\n")
    with_test_edit = git(repo, "diff")
    git(repo, "checkout", "-q", "--", ".")
    evaluator = make_evaluator(tmp_path, envs, project["repo"])
    result = evaluator.evaluate(make_task(project, "calc-edits-tests"), with_test_edit)
    assert result.outcome == "resolved", result.detail
    assert result.fail_to_pass["success"] == [test_id("test_add")]


def test_a_build_step_over_its_time_limit_stops_with_its_children(
    tmp_path: Path, project: dict[str, str]
) -> None:
    # pip runs build backends as child processes; a hung one must not outlive the build.
    # (Builds run in a PID namespace: the child is found by a marker, not by its own pid.)
    token = f"marker{uuid.uuid4().hex}"
    child = f"import time; time.sleep(60)  # {token}"
    parent = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)"
    recipe = Recipe(python=PYTHON, install=shlex.join(["python", "-c", parent]), upgrade_pip=False)
    envs = EnvironmentManager(tmp_path / "envs", install_timeout=2)
    start = time.monotonic()
    with pytest.raises(EnvironmentBuildError, match="took more than 2s"):
        envs.get(EnvSpec("o/r", "k", recipe), Path(project["repo"]), project["base"])
    assert time.monotonic() - start < 30

    def marked() -> list[str]:
        found = []
        for entry in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                if token.encode() in entry.read_bytes():
                    found.append(entry.parent.name)
        return found

    deadline = time.monotonic() + 5
    while marked() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not marked(), "the build step's child outlived it"
