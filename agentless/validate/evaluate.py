"""Evaluate predictions on SWE-bench-style tasks: apply, test in the sandbox, grade, report.

Per instance, in ``<out>/<instance_id>/``: ``patch.diff``, ``test_output.txt`` (the marked log),
``report.json`` (SWE-bench's schema) and ``result.json`` (our record, written last: its
presence makes a later run with the same patch skip the instance). ``<out>/summary.json``
holds the counts and ids per outcome. ``Evaluator.evaluate`` handles one instance; the
runner's scheduler maps it over a dataset (``agentless eval``).

Outcomes: *resolved*, *unresolved* (graded, not resolved), *empty_patch* (nothing to apply),
*error* (the patch or test patch did not apply, the run timed out, or the log cannot be
trusted), *infrastructure_failure* (an environment could not be built or the repository could
not be checked out: not a verdict on the patch).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from agentless.errors import RepoError, TaskError, ValidationError
from agentless.repo.workspace import Workspace
from agentless.tasks import Task
from agentless.validate.environments import (
    Environment,
    EnvironmentManager,
    EnvSpec,
)
from agentless.validate.grading import Grade, grade_log, instance_report
from agentless.validate.patching import apply_patch
from agentless.validate.recipes import Recipe, auto_recipe, registered_recipe
from agentless.validate.sandbox import Sandbox
from agentless.validate.testrun import TestRun, command_for_task, files_before_patch, run_tests

log = logging.getLogger(__name__)

Outcome = Literal["resolved", "unresolved", "empty_patch", "error", "infrastructure_failure"]
OUTCOMES: tuple[Outcome, ...] = (
    "resolved",
    "unresolved",
    "empty_patch",
    "error",
    "infrastructure_failure",
)


@dataclass
class InstanceResult:
    """What happened to one instance (also written as ``result.json``)."""

    instance_id: str
    outcome: Outcome
    detail: str = ""
    patch_sha: str = ""
    apply_method: str = ""
    env_name: str = ""
    env_reused: bool = True
    env_seconds: float = 0.0
    test_seconds: float = 0.0
    total_seconds: float = 0.0
    exit_code: int | None = None
    fail_to_pass: dict[str, list[str]] = field(default_factory=dict)
    pass_to_pass: dict[str, list[str]] = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        return self.outcome == "resolved"


@dataclass
class Evaluator:
    """Everything an evaluation needs; ``evaluate`` handles one instance."""

    out_dir: Path
    workspace: Workspace
    envs: EnvironmentManager
    sandbox: Sandbox
    timeout: float | None = None
    recipes: Mapping[str, Recipe] = field(default_factory=dict)

    def evaluate(self, task: Task, patch: str | None) -> InstanceResult:
        """Apply ``patch`` to ``task``'s repository, run its tests, grade, write the files."""
        folder = self.out_dir / task.instance_id
        folder.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        result = InstanceResult(task.instance_id, "error", patch_sha=patch_digest(patch))
        (folder / "patch.diff").write_text(patch or "", encoding="utf-8")
        applied = False
        grade: Grade | None = None
        if patch is None or not patch.strip():
            result.outcome, result.detail = "empty_patch", "the prediction has no patch"
        else:
            try:
                applied, grade = self._run(task, patch, folder, result)
            except (ValidationError, RepoError) as exc:
                result.outcome, result.detail = "infrastructure_failure", str(exc)
                log.warning("%s: infrastructure failure: %s", task.instance_id, exc)
        result.total_seconds = round(time.monotonic() - start, 2)
        report = instance_report(task.instance_id, patch=patch, applied=applied, grade=grade)
        _write_json(folder / "report.json", report)
        _write_json(folder / "result.json", asdict(result))
        return result

    def _run(
        self, task: Task, patch: str, folder: Path, result: InstanceResult
    ) -> tuple[bool, Grade | None]:
        env = self._environment(task, result)
        with self.workspace.checkout(task.repo, task.base_commit) as worktree:
            model = apply_patch(worktree, patch)
            result.apply_method = model.method
            if not model.applied:
                result.detail = f"the patch did not apply: {model.message[-500:]}"
                return False, None
            if task.test_patch.strip():
                # As SWE-bench does: the test files go back to the base commit first, so a
                # prediction's own edits to them neither block nor change the test patch.
                self.workspace.restore(worktree, files_before_patch(task.test_patch))
                tests = apply_patch(worktree, task.test_patch, fallbacks=False)
                if not tests.applied:
                    result.detail = f"the test patch did not apply: {tests.message[-500:]}"
                    return False, None
            command = command_for_task(env.recipe, task.test_patch, task.eval_script)
            run = run_tests(self.sandbox, env, worktree, command, timeout=self.timeout)
        (folder / "test_output.txt").write_text(run.log, encoding="utf-8")
        return True, self._grade(task, env.recipe, run, result)

    def _grade(self, task: Task, recipe: Recipe, run: TestRun, result: InstanceResult) -> Grade:
        result.test_seconds = round(run.duration, 2)
        result.exit_code = run.exit_code
        grade = grade_log(
            run.log, task.log_parser or recipe.log_parser, task.fail_to_pass, task.pass_to_pass
        )
        if not grade.graded:
            result.detail = grade.problem or ""
            return grade
        assert grade.tests_status is not None
        result.fail_to_pass = grade.tests_status["FAIL_TO_PASS"]
        result.pass_to_pass = grade.tests_status["PASS_TO_PASS"]
        result.outcome = "resolved" if grade.resolved else "unresolved"
        failing = len(result.fail_to_pass["failure"]) + len(result.pass_to_pass["failure"])
        result.detail = f"{failing} required test(s) failing" if failing else ""
        return grade

    def _environment(self, task: Task, result: InstanceResult) -> Environment:
        start = time.monotonic()
        env = environment_for_task(task, self.workspace, self.envs, self.recipes)
        result.env_name = env.path.name
        result.env_reused = env.reused
        result.env_seconds = round(time.monotonic() - start, 2)
        return env


def environment_for_task(
    task: Task,
    workspace: Workspace,
    envs: EnvironmentManager,
    recipes: Mapping[str, Recipe] | None = None,
) -> Environment:
    """The (cached) environment for a SWE-bench task: its recipe, built at the environment
    setup commit. Raises ``EnvironmentBuildError`` when it cannot be built."""
    commit = task.environment_setup_commit or task.base_commit
    recipe = (recipes or {}).get(task.repo) or registered_recipe(task.repo, task.version)
    if recipe is None:
        with workspace.checkout(task.repo, commit) as source:
            recipe = auto_recipe(source)
    spec = EnvSpec(task.repo, task.environment_setup_commit or task.version or commit, recipe)
    return envs.get(spec, workspace.mirror(task.repo), workspace.resolve(task.repo, commit))


def patch_digest(patch: str | None) -> str:
    """A short hash of a patch (``none`` for a missing one): resume compares it."""
    if patch is None:
        return "none"
    return hashlib.sha256(patch.encode("utf-8")).hexdigest()[:16]


def load_predictions(source: str | Path, tasks: Sequence[Task]) -> dict[str, str | None]:
    """``gold`` (the tasks' own patches) or a SWE-bench predictions file (JSONL or JSON)."""
    if str(source) == "gold":
        return {task.instance_id: task.patch for task in tasks}
    path = Path(source)
    if not path.is_file():
        raise TaskError(f"predictions file not found: {path} (give a file or the word gold)")
    text = path.read_text(encoding="utf-8")
    try:
        rows: list[Any]
        if text.lstrip().startswith("["):
            rows = json.loads(text)
        elif text.lstrip().startswith("{") and "\n{" not in text.strip():
            one = json.loads(text)
            rows = list(one.values()) if "instance_id" not in one else [one]
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise TaskError(f"{path}: not valid JSON / JSONL ({exc})") from None
    predictions: dict[str, str | None] = {}
    for row in rows:
        if not isinstance(row, dict) or "instance_id" not in row:
            raise TaskError(f"{path}: every prediction needs instance_id and model_patch")
        predictions[row["instance_id"]] = row.get("model_patch")
    return predictions


def read_result(folder: Path) -> InstanceResult | None:
    """The ``result.json`` an earlier evaluation left in ``folder``, if readable."""
    path = folder / "result.json"
    if not path.is_file():
        return None
    try:
        return InstanceResult(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def earlier_result(folder: Path, patch: str | None) -> InstanceResult | None:
    """The earlier result for the same patch, unless it was an infrastructure failure
    (resume skips the instance only then)."""
    result = read_result(folder)
    if result is None:
        return None
    if result.patch_sha != patch_digest(patch) or result.outcome == "infrastructure_failure":
        return None
    return result


def run_summary(
    results: Iterable[InstanceResult], submitted: Mapping[str, str | None]
) -> dict[str, Any]:
    """Counts and ids per outcome, with SWE-bench's run-report field names where they exist."""
    results = list(results)
    ids = {
        outcome: [r.instance_id for r in results if r.outcome == outcome] for outcome in OUTCOMES
    }
    completed = ids["resolved"] + ids["unresolved"]
    return {
        "total_instances": len(results),
        "submitted_instances": len(submitted),
        "completed_instances": len(completed),
        "resolved_instances": len(ids["resolved"]),
        "unresolved_instances": len(ids["unresolved"]),
        "empty_patch_instances": len(ids["empty_patch"]),
        "error_instances": len(ids["error"]),
        "infrastructure_failure_instances": len(ids["infrastructure_failure"]),
        "completed_ids": sorted(completed),
        "resolved_ids": sorted(ids["resolved"]),
        "unresolved_ids": sorted(ids["unresolved"]),
        "empty_patch_ids": sorted(ids["empty_patch"]),
        "error_ids": sorted(ids["error"]),
        "infrastructure_failure_ids": sorted(ids["infrastructure_failure"]),
        "seconds": {
            r.instance_id: {
                "env": r.env_seconds,
                "env_reused": r.env_reused,
                "test": r.test_seconds,
                "total": r.total_seconds,
            }
            for r in results
        },
    }


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
