"""``validate.check``, the one validation entry point: typed verdicts per patch on a real
git repository with real sandboxed test runs, and the same verdicts seen through ``run``
(the pipeline's candidate records) and ``eval`` (its result files)."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agentless.config import Config
from agentless.repair._reproduce import extract_script
from agentless.repo import Workspace
from agentless.runner import run_one
from agentless.select import Verdict
from agentless.tasks import Task
from agentless.testing import TEST_CMD, ScriptedServer, make_repo, script_server, unittest_recipe
from agentless.testing._tasks import FIX, REPRO, unittest_id
from agentless.validate import (
    Environment,
    EnvironmentManager,
    Evaluator,
    Grading,
    PatchVerdict,
    Recipe,
    Sandbox,
    ValidationPlan,
    apply_patch,
    check,
    user_test_command,
)
from agentless.validate._testrun import parse_command
from tests.gitrepos import commit_files, git

ABOVE, INSIDE, SPAN = (unittest_id(name) for name in ("test_above", "test_inside", "test_span"))
SCRIPT = extract_script(REPRO)
BREAK_SPAN = """mathx/core.py
```python
<<<<<<< SEARCH
    return high - low
=======
    return high + low
>>>>>>> REPLACE
```
"""


def diff_after(repo: Path, path: str, old: str, new: str) -> str:
    """The git diff of replacing ``old`` by ``new`` in ``path``; the tree is left as it was."""
    target = repo / path
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new))
    patch = git(repo, "diff") + "\n"
    git(repo, "checkout", "--", path)
    return patch


def with_new_test(repo: Path, row: dict[str, str]) -> str:
    """Commit the row's new test (failing before the fix): a user's repository with a
    failing test. Returns the new commit."""
    assert apply_patch(repo, row["test_patch"]).applied
    return commit_files(repo, {})


@pytest.fixture
def row(tmp_path: Path) -> dict[str, str]:
    return make_repo(tmp_path, 7)


@pytest.fixture
def patches(row: dict[str, str]) -> dict[str, str]:
    repo = Path(row["repo"])
    core = "mathx/core.py"
    return {
        "good": row["patch"],
        "breaking": diff_after(repo, core, "return high - low", "return high + low"),
        "noop": diff_after(repo, core, "Width of the interval", "Width of this interval"),
        "stale": diff_after(repo, core, "return high - low", "return 0").replace(
            "-    return high - low", "-    return nothing_like_this"
        ),
    }


ENV = Environment.from_python(Path(sys.executable), unittest_recipe())
UNITTEST = user_test_command("python -m unittest -v")


def test_check_gives_each_patch_a_frozen_verdict_against_the_original_code(
    row: dict[str, str], patches: dict[str, str], tmp_path: Path
) -> None:
    repo = Path(row["repo"])
    # The new test is part of the code here, failing before any patch (a user's repository).
    base = with_new_test(repo, row)
    heard: list[str] = []
    plan = ValidationPlan(
        tree=repo,
        env=ENV,
        sandbox=Sandbox(timeout=120),
        test_command=UNITTEST,
        reproduction_script=SCRIPT,
        timeout=120,
        reset=functools.partial(Workspace(tmp_path / "cache").reset, repo, base),
        progress=heard.append,
    )
    verdicts = check(plan, patches)

    assert list(verdicts) == list(patches)
    assert all(isinstance(v, PatchVerdict) for v in verdicts.values())
    good, breaking, noop, stale = (verdicts[k] for k in patches)
    assert (good.regression_failures, good.broken, good.fixed) == (0, (), 1)
    assert good.fixed_tests == (ABOVE,) and good.still_failing == ()
    assert good.reproduction_passed is True and good.graded is None
    assert (breaking.regression_failures, breaking.broken, breaking.fixed) == (1, (SPAN,), 0)
    assert breaking.still_failing == (ABOVE,) and breaking.reproduction_passed is False
    assert "test_span" in breaking.test_output and "Issue reproduced" in (
        breaking.reproduction_output
    )
    assert (noop.regression_failures, noop.broken, noop.fixed) == (0, (), 0)
    assert noop.still_failing == (ABOVE,) and noop.reproduction_passed is False
    assert stale.regression_failures is None and stale.fixed is None
    assert any("did not apply" in note for note in stale.notes)
    assert "test command: candidate 4/4" in heard and "reproduction script: original code" in heard
    with pytest.raises(dataclasses.FrozenInstanceError):
        good.fixed = 2  # type: ignore[misc]
    assert git(repo, "status", "--porcelain") == ""
    # What the journal keeps reads back as the same verdict.
    assert PatchVerdict.from_dict(json.loads(json.dumps(breaking.to_dict()))) == breaking


def grading_of(row: dict[str, str]) -> Grading:
    return Grading(
        command=parse_command("python -m unittest -v"),
        parser="unittest",
        fail_to_pass=tuple(json.loads(row["FAIL_TO_PASS"])),
        pass_to_pass=tuple(json.loads(row["PASS_TO_PASS"])),
        test_patch=row["test_patch"],
        reset_files=("tests/test_core.py",),
    )


def test_with_grading_check_grades_each_patch_as_swebench_does(
    row: dict[str, str], patches: dict[str, str], tmp_path: Path
) -> None:
    repo = Path(row["repo"])
    workspace = Workspace(tmp_path / "cache")
    # A prediction that also edits the test file: the file goes back to the base commit
    # before the test patch, so the edit neither blocks the test patch nor hides a test.
    patches["good, tests edited"] = row["patch"] + diff_after(
        repo, "tests/test_core.py", "    def test_span(self):", "    def _no_test(self):"
    )
    log: list[str] = []
    plan = ValidationPlan(
        tree=repo,
        env=ENV,
        sandbox=Sandbox(timeout=120),
        test_command=UNITTEST,
        grading=grading_of(row),
        timeout=120,
        reset=functools.partial(workspace.reset, repo),
        restore=functools.partial(workspace.restore, repo),
        record=log.append,
    )
    verdicts = check(plan, patches)
    graded = {key: verdict.graded for key, verdict in verdicts.items()}

    good = graded["good"]
    assert good is not None and good.resolved and good.grade is not None
    assert good.grade.tests_status is not None
    assert good.grade.tests_status["FAIL_TO_PASS"] == {"success": [ABOVE], "failure": []}
    assert good.apply_method == "git apply" and good.reinstall_seconds is None
    assert good.run is not None and ">>>>> Test Exit Code: 0" in good.run.log
    edited = graded["good, tests edited"]
    assert edited is not None and edited.resolved
    breaking, noop = graded["breaking"], graded["noop"]
    assert breaking is not None and noop is not None
    assert not breaking.resolved and breaking.grade is not None
    assert breaking.grade.tests_status is not None
    assert breaking.grade.tests_status["PASS_TO_PASS"]["failure"] == [SPAN]
    assert not noop.resolved and noop.grade is not None and noop.grade.tests_status is not None
    assert noop.grade.tests_status["FAIL_TO_PASS"]["failure"] == [ABOVE]
    stale = graded["stale"]
    assert stale is not None and stale.problem.startswith("the patch did not apply")
    assert stale.run is None and stale.grade is None and not stale.resolved
    # The same call compared each patch with the original code too: one function, grading on.
    assert verdicts["breaking"].broken == (SPAN,) and verdicts["good"].broken == ()
    assert ">>>>> Patch Apply Failed" in "\n".join(log)
    assert sum(line.startswith("ran python -m unittest -v") for line in log) == 4
    assert git(repo, "status", "--porcelain") == ""


def test_grading_with_reset_files_needs_a_way_to_restore_them(row: dict[str, str]) -> None:
    plan = ValidationPlan(
        tree=Path(row["repo"]), env=ENV, sandbox=Sandbox(timeout=120), grading=grading_of(row)
    )
    with pytest.raises(ValueError, match="restore"):
        check(plan, {"good": row["patch"]})


def test_eval_reports_what_check_grades(
    row: dict[str, str], patches: dict[str, str], tmp_path: Path
) -> None:
    repo = Path(row["repo"])
    task = Task.model_validate(row)
    evaluator = Evaluator(
        out_dir=tmp_path / "out",
        workspace=Workspace(tmp_path / "cache"),
        envs=EnvironmentManager(tmp_path / "envs"),
        sandbox=Sandbox(timeout=120),
        timeout=120,
        recipes={row["repo"]: unittest_recipe()},
    )
    workspace = Workspace(tmp_path / "cache-check")
    plan = ValidationPlan(
        tree=repo,
        env=ENV,
        sandbox=Sandbox(timeout=120),
        grading=grading_of(row),
        timeout=120,
        reset=functools.partial(workspace.reset, repo),
        restore=functools.partial(workspace.restore, repo),
    )
    verdicts = check(plan, patches)
    for key, patch in patches.items():
        task = task.model_copy(update={"instance_id": f"project7-{key}"})
        result = evaluator.evaluate(task, patch)
        graded = verdicts[key].graded
        assert graded is not None
        assert result.resolved == graded.resolved, key
        assert result.apply_method == graded.apply_method, key
        folder = tmp_path / "out" / task.instance_id
        steps = (folder / "run_instance.log").read_text()
        if graded.grade is None:
            assert result.outcome == "error" and result.detail == graded.problem
            assert ">>>>> Patch Apply Failed" in steps
            continue
        assert graded.grade.tests_status is not None
        assert result.fail_to_pass == graded.grade.tests_status["FAIL_TO_PASS"], key
        assert result.pass_to_pass == graded.grade.tests_status["PASS_TO_PASS"], key
        assert f"patch applied with {graded.apply_method}" in steps
        report = json.loads((folder / "report.json").read_text())[task.instance_id]
        assert report["tests_status"] == graded.grade.tests_status
    assert [key for key in patches if verdicts[key].graded.resolved] == ["good"]  # type: ignore[union-attr]


def test_run_records_what_check_says_of_each_candidate(
    row: dict[str, str], tmp_path: Path, scripted_config: Callable[..., Config]
) -> None:
    repo = Path(row["repo"])
    base = with_new_test(repo, row)
    task = Task(
        instance_id="project7",
        repo=str(repo),
        base_commit=base,
        problem_statement=row["problem_statement"],
        kind="local",
        test_cmd=TEST_CMD,
    )
    with ScriptedServer() as srv:
        script_server(srv)
        srv.on("# Source code", FIX, BREAK_SPAN)
        config = scripted_config(
            srv, localize={"window_samples": 1}, repair={"samples": 2}, validate={"timeout": 120}
        )
        result = run_one(task, config, tmp_path / "run").result
    records = {c.patch: c for c in result.candidates}
    assert len(records) == 2
    workspace = Workspace(tmp_path / "cache-check")
    with workspace.checkout(str(repo), base) as tree:
        plan = ValidationPlan(
            tree=tree,
            env=Environment.from_python(
                Path(sys.executable), Recipe(python="", log_parser="pytest")
            ),
            sandbox=Sandbox(timeout=120),
            test_command=user_test_command(TEST_CMD),
            reproduction_script=SCRIPT,
            timeout=120,
            reset=functools.partial(workspace.reset, tree, base),
        )
        verdicts = check(plan, {patch: patch for patch in records})
    for patch, record in records.items():
        verdict = verdicts[patch]
        assert (
            record.regression_failures,
            record.broken_tests,
            record.tests_fixed,
            record.still_failing,
            record.reproduction_passed,
        ) == (
            verdict.regression_failures,
            verdict.broken,
            verdict.fixed,
            verdict.still_failing,
            verdict.reproduction_passed,
        )
    chosen = result.chosen
    assert chosen is not None and chosen.verdict is Verdict.CHOSEN
    assert verdicts[chosen.patch].fixed == 1 and verdicts[chosen.patch].broken == ()
    assert [r.broken_tests for r in records.values() if r is not chosen] == [
        ("tests/test_core.py::TestCore::test_span",)
    ]
