"""Evaluate predictions on SWE-bench-style tasks: install, apply, test in the sandbox, grade.

Per instance, in ``<out>/<instance_id>/``: ``patch.diff``, ``test_output.txt`` (the marked
log), ``report.json`` (swebench's schema; none for an empty patch or an instance whose tests
could not run, as swebench writes none), ``run_instance.log`` (what happened, step by step)
and ``result.json`` (outcome, timings, environment; lets a re-run skip the instance).
``<out>/summary.json`` holds swebench's run-report fields plus ours.

Outcomes: *resolved*, *unresolved* (graded, or a log that cannot be graded, e.g. a timeout:
swebench counts both as completed), *empty_patch*, *error* (the patch or the test patch did
not apply: no report), *infrastructure_failure* (the environment could not be built or the
repository checked out: no report, not a verdict on the patch, retried by a re-run).

``Evaluator.evaluate`` takes one instance and returns one ``InstanceResult``, testing and
grading the patch through ``validate.check`` (the function ``run`` validates candidates with);
the runner's scheduler maps it over a dataset (``agentless eval``), with resume and progress.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from agentless._jsonform import JSONMapping, JSONObject, JSONValue
from agentless.errors import RepoError, TaskError, ValidationError
from agentless.repo import Workspace
from agentless.tasks import Task
from agentless.validate._candidates import GradedRun, Grading, ValidationPlan, check
from agentless.validate._environments import (
    Environment,
    EnvironmentManager,
    EnvSpec,
    InstalledTree,
)
from agentless.validate._evalscript import parse_eval_script
from agentless.validate._grading import ENVIRONMENT as ENVIRONMENT_TIER
from agentless.validate._grading import Grade, classify_failure, instance_report
from agentless.validate._recipes import Recipe, auto_recipe, registered_recipe, repo_name
from agentless.validate._sandbox import SandboxProtocol
from agentless.validate._testrun import TestCommand, TestRun, command_for_task, files_before_patch

log = logging.getLogger(__name__)

Outcome = Literal["resolved", "unresolved", "empty_patch", "error", "infrastructure_failure"]
OUTCOMES: tuple[Outcome, ...] = (
    "resolved",
    "unresolved",
    "empty_patch",
    "error",
    "infrastructure_failure",
)
REPORTED: tuple[Outcome, ...] = ("resolved", "unresolved")


@dataclass
class InstanceResult:
    """What happened to one instance (also written as ``result.json``).

    ``env_seconds`` is the shared environment's build (or lookup), ``install_seconds`` the
    task's own install at its commit (0 when its layer was reused), ``reinstall_seconds``
    the install after a patch that needed one.
    """

    instance_id: str
    outcome: Outcome
    detail: str = ""
    patch_sha: str = ""
    apply_method: str = ""
    graded: bool = False
    env_name: str = ""
    env_reused: bool = True
    env_seconds: float = 0.0
    install_reused: bool = True
    install_seconds: float = 0.0
    reinstall_seconds: float = 0.0
    test_seconds: float = 0.0
    total_seconds: float = 0.0
    exit_code: int | None = None
    isolation: str = ""
    fail_to_pass: dict[str, list[str]] = field(default_factory=dict)
    pass_to_pass: dict[str, list[str]] = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        return self.outcome == "resolved"


@dataclass(frozen=True)
class TaskSetup:
    """How one task is built and tested: its recipe (registry, then the row's own facts),
    environment, test command, the files reset before the test patch, and the parser."""

    spec: EnvSpec
    env_commit: str
    command: TestCommand
    reset_files: tuple[str, ...]
    parser: str

    def grading(self, task: Task) -> Grading:
        """SWE-bench's check of a patch on ``task`` with this setup."""
        return Grading(
            command=self.command,
            parser=self.parser,
            fail_to_pass=tuple(task.fail_to_pass),
            pass_to_pass=tuple(task.pass_to_pass),
            test_patch=task.test_patch,
            reset_files=self.reset_files,
        )


def task_setup(
    task: Task, workspace: Workspace, recipes: Mapping[str, Recipe] | None = None
) -> TaskSetup:
    """Read a task's setup: the registry's recipe (by ``owner/name``, also for rows whose code
    comes from a path), overridden by what a v5 row's ``eval_script`` says."""
    name = repo_name(task.repo, task.instance_id)
    env_commit = task.environment_setup_commit or task.base_commit
    recipe = (recipes or {}).get(name) or registered_recipe(name, task.version)
    if recipe is None:
        with workspace.checkout(task.repo, env_commit) as source:
            recipe = auto_recipe(source)
        log.warning(
            "%s: no recipe for %s %s; %s", task.instance_id, name, task.version, recipe.notes
        )
    facts = parse_eval_script(task.eval_script) if task.eval_script else None
    if facts is not None:
        if facts.install and not recipe.keep_install:
            recipe = replace(recipe, install="\n".join(facts.install))
        recipe = replace(recipe, test_env={**recipe.test_env, **facts.exports})
    resets = facts.reset_files if facts else tuple(files_before_patch(task.test_patch))
    spec = EnvSpec(name, task.environment_setup_commit or task.version or env_commit, recipe)
    return TaskSetup(
        spec=spec,
        env_commit=env_commit,
        command=command_for_task(recipe, task.test_patch, task.eval_script),
        reset_files=resets,
        parser=task.log_parser or recipe.log_parser,
    )


@dataclass
class Evaluator:
    """Everything an evaluation needs; ``evaluate`` handles one instance."""

    out_dir: Path
    workspace: Workspace
    envs: EnvironmentManager
    sandbox: SandboxProtocol
    timeout: float | None = None
    recipes: Mapping[str, Recipe] = field(default_factory=dict)

    def evaluate(self, task: Task, patch: str | None) -> InstanceResult:
        """Install ``task`` at its commit, apply ``patch``, run its tests, grade, write the
        files. Raises only ``procs.Stopped`` (agentless is stopping)."""
        folder = self.out_dir / task.instance_id
        folder.mkdir(parents=True, exist_ok=True)
        for stale in ("report.json", "test_output.txt", "result.json"):
            (folder / stale).unlink(missing_ok=True)
        start = time.monotonic()
        result = InstanceResult(task.instance_id, "error", patch_sha=patch_digest(patch))
        (folder / "patch.diff").write_text(patch or "", encoding="utf-8")
        notes = _Notes(folder / "run_instance.log")
        grade: Grade | None = None
        if patch is None or not patch.strip():
            result.outcome, result.detail = "empty_patch", "the prediction has no patch"
        else:
            try:
                grade = self._run(task, patch, folder, result, notes)
            except (ValidationError, RepoError) as exc:
                result.outcome, result.detail = "infrastructure_failure", str(exc)
                log.warning("%s: infrastructure failure: %s", task.instance_id, exc)
        notes.add(f"outcome: {result.outcome}" + (f" ({result.detail})" if result.detail else ""))
        result.total_seconds = round(time.monotonic() - start, 2)
        if result.outcome in REPORTED:
            report = instance_report(task.instance_id, patch=patch, grade=grade)
            _write_json(folder / "report.json", report)
        _write_json(folder / "result.json", asdict(result))
        return result

    def _run(
        self, task: Task, patch: str, folder: Path, result: InstanceResult, notes: _Notes
    ) -> Grade | None:
        setup = task_setup(task, self.workspace, self.recipes)
        shared = self._shared_environment(task, setup, result, notes)
        mirror = self.workspace.mirror(task.repo)
        commit = self.workspace.resolve(task.repo, task.base_commit)
        missing = self.workspace.missing_files(task.repo, commit)
        if missing:
            # A partial mirror (large blobs left out): tests that read them cannot pass here.
            notes.add(f"files missing from the mirror: {', '.join(missing)}")
        with self.envs.installed(setup.spec, shared, mirror, commit) as layer:
            result.install_reused, result.install_seconds = layer.reused, layer.seconds
            notes.add(
                f"installed at {commit[:12]} in {layer.seconds:.1f}s (reused: {layer.reused})"
            )
            graded = self._check(task, patch, setup, layer, notes)
        result.apply_method = graded.apply_method
        result.reinstall_seconds = graded.reinstall_seconds or 0.0
        if graded.run is None or graded.grade is None:
            result.detail = graded.problem
            return None
        result.isolation = self.sandbox.isolation
        (folder / "test_output.txt").write_text(graded.run.log, encoding="utf-8")
        self._grade(graded.run, graded.grade, result)
        if missing and not graded.grade.resolved:
            result.detail += f" (the mirror lacks {len(missing)} file(s): {', '.join(missing[:3])})"
        return graded.grade

    def _check(
        self, task: Task, patch: str, setup: TaskSetup, layer: InstalledTree, notes: _Notes
    ) -> GradedRun:
        """``patch`` through ``validate.check`` with SWE-bench's grading, as ``run`` checks
        its candidates (the layer comes clean: it is reset after every use)."""
        plan = ValidationPlan(
            tree=layer.tree,
            env=layer.env,
            sandbox=self.sandbox,
            grading=setup.grading(task),
            timeout=self.timeout,
            restore=functools.partial(self.workspace.restore, layer.tree),
            layer=layer,
            record=notes.add,
        )
        graded = check(plan, {task.instance_id: patch})[task.instance_id].graded
        assert graded is not None  # the plan grades
        return graded

    def _grade(self, run: TestRun, grade: Grade, result: InstanceResult) -> None:
        result.test_seconds = round(run.duration, 2)
        result.exit_code = run.exit_code
        result.outcome = "resolved" if grade.resolved else "unresolved"
        result.graded = grade.graded
        if not grade.graded:
            result.detail = f"not graded: {grade.problem}"
            return
        assert grade.tests_status is not None
        result.fail_to_pass = grade.tests_status["FAIL_TO_PASS"]
        result.pass_to_pass = grade.tests_status["PASS_TO_PASS"]
        failing = len(result.fail_to_pass["failure"]) + len(result.pass_to_pass["failure"])
        result.detail = f"{failing} required test(s) failing" if failing else ""

    def _shared_environment(
        self, task: Task, setup: TaskSetup, result: InstanceResult, notes: _Notes
    ) -> Environment:
        start = time.monotonic()
        result.env_name = setup.spec.name
        try:
            commit = self.workspace.resolve(task.repo, setup.env_commit)
            found = self.envs.lookup(setup.spec)
            result.env_reused = found is not None
            env = found or self.envs.get(setup.spec, self.workspace.mirror(task.repo), commit)
        finally:
            result.env_seconds = round(time.monotonic() - start, 2)
        notes.add(f"environment {setup.spec.name} ({result.env_seconds:.1f}s)")
        return env


class _Notes:
    """``run_instance.log``: one line (or block) per step, written as it happens."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("", encoding="utf-8")

    def add(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n")


def environment_for_task(
    task: Task,
    workspace: Workspace,
    envs: EnvironmentManager,
    recipes: Mapping[str, Recipe] | None = None,
) -> Environment:
    """The (cached) shared environment for a SWE-bench task, built at the environment
    setup commit. Raises ``EnvironmentBuildError`` when it cannot be built."""
    setup = task_setup(task, workspace, recipes)
    commit = workspace.resolve(task.repo, setup.env_commit)
    return envs.get(setup.spec, workspace.mirror(task.repo), commit)


@contextlib.contextmanager
def installed_task(
    task: Task,
    workspace: Workspace,
    envs: EnvironmentManager,
    recipes: Mapping[str, Recipe] | None = None,
) -> Iterator[InstalledTree]:
    """A SWE-bench task's tree at its base commit, installed over its shared environment
    (as ``eval`` tests it), held for the block. Raises ``EnvironmentBuildError``."""
    setup = task_setup(task, workspace, recipes)
    env_commit = workspace.resolve(task.repo, setup.env_commit)
    shared = envs.get(setup.spec, workspace.mirror(task.repo), env_commit)
    commit = workspace.resolve(task.repo, task.base_commit)
    with envs.installed(setup.spec, shared, workspace.mirror(task.repo), commit) as layer:
        yield layer


def patch_digest(patch: str | None) -> str:
    """A short hash of a patch (``none`` for a missing one): resume compares it."""
    if patch is None:
        return "none"
    return hashlib.sha256(patch.encode("utf-8")).hexdigest()[:16]


# --- predictions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictions:
    """Predictions by instance id, with what did not match the dataset."""

    patches: dict[str, str | None]
    unknown_ids: tuple[str, ...] = ()
    missing_ids: tuple[str, ...] = ()


def load_predictions(
    source: str | Path, tasks: Sequence[Task], *, last_wins: bool = False
) -> Predictions:
    """``gold`` (the tasks' own patches) or a SWE-bench predictions file (JSONL, or a JSON
    list / mapping). A repeated id is an error unless ``last_wins``; ids not in the dataset
    and tasks without a prediction are listed."""
    if str(source) == "gold":
        return Predictions({task.instance_id: task.patch for task in tasks})
    path = Path(source)
    if not path.is_file():
        raise TaskError(f"predictions file not found: {path} (give a file or the word gold)")
    rows = _prediction_rows(path)
    patches: dict[str, str | None] = {}
    for where, row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("instance_id"), str):
            raise TaskError(f"{path}:{where}: a prediction needs instance_id and model_patch")
        iid = row["instance_id"]
        if iid in patches and not last_wins:
            raise TaskError(
                f"{path}:{where}: instance {iid} has a second prediction; keep one, or pass "
                "--last-wins to use the last"
            )
        patches[iid] = row.get("model_patch")
    known = {task.instance_id for task in tasks}
    return Predictions(
        patches,
        unknown_ids=tuple(sorted(set(patches) - known)),
        missing_ids=tuple(sorted(known - set(patches))),
    )


def _prediction_rows(path: Path) -> list[tuple[str, JSONValue]]:
    """``(where, row)`` pairs; ``where`` is a line number for JSONL."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in text.strip()):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, dict):
            data = [data] if "instance_id" in data else list(data.values())
        return [(f"item {n}", row) for n, row in enumerate(data, 1)]
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path}:line {number}: not valid JSON ({exc.msg})") from None
    return rows


# --- many instances ----------------------------------------------------------------------------


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
    results: Iterable[InstanceResult],
    dataset_ids: Sequence[str],
    predictions: Predictions,
    out_dir: Path | None = None,
) -> JSONObject:
    """swebench's run-report fields (same names and meanings), then ours: which instances
    could not be set up, predictions for unknown ids, and seconds per instance."""
    results = list(results)
    by_outcome = {o: sorted(r.instance_id for r in results if r.outcome == o) for o in OUTCOMES}
    completed = sorted(by_outcome["resolved"] + by_outcome["unresolved"])
    errors = sorted(by_outcome["error"] + by_outcome["infrastructure_failure"])
    reasons, infra, ambiguous = _classified(by_outcome["unresolved"] + errors, out_dir)
    return {
        "total_instances": len(dataset_ids),
        "submitted_instances": len(predictions.patches),
        "completed_instances": len(completed),
        "resolved_instances": len(by_outcome["resolved"]),
        "unresolved_instances": len(by_outcome["unresolved"]),
        "infra_failure_instances": len(infra),
        "ambiguous_failure_instances": len(ambiguous),
        "empty_patch_instances": len(by_outcome["empty_patch"]),
        "error_instances": len(errors),
        "completed_ids": completed,
        "incomplete_ids": sorted(set(dataset_ids) - set(predictions.patches)),
        "empty_patch_ids": by_outcome["empty_patch"],
        "submitted_ids": sorted(predictions.patches),
        "resolved_ids": by_outcome["resolved"],
        "unresolved_ids": by_outcome["unresolved"],
        "infra_failure_ids": infra,
        "ambiguous_failure_ids": ambiguous,
        "failure_reasons": reasons,
        "error_ids": errors,
        "schema_version": 2,
        # ours
        "environment_failure_ids": by_outcome["infrastructure_failure"],
        "patch_error_ids": by_outcome["error"],
        "ungraded_ids": sorted(
            r.instance_id for r in results if r.outcome in REPORTED and not r.graded
        ),
        "unknown_ids": list(predictions.unknown_ids),
        "seconds": {
            r.instance_id: {
                "env": r.env_seconds,
                "env_reused": r.env_reused,
                "install": r.install_seconds,
                "install_reused": r.install_reused,
                "reinstall": r.reinstall_seconds,
                "test": r.test_seconds,
                "total": r.total_seconds,
            }
            for r in results
        },
    }


def _classified(
    ids: Iterable[str], out_dir: Path | None
) -> tuple[dict[str, str], list[str], list[str]]:
    """swebench's advisory classification of unresolved and errored instances, from the
    same two logs it reads (the test output and the instance's own log)."""
    reasons: dict[str, str] = {}
    infra: list[str] = []
    ambiguous: list[str] = []
    for iid in sorted(set(ids)):
        if out_dir is None:
            continue
        text = "\n".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in (out_dir / iid / "test_output.txt", out_dir / iid / "run_instance.log")
            if path.is_file()
        )
        found = classify_failure(text)
        if found:
            reasons[iid] = found[0]
            (infra if found[1] == ENVIRONMENT_TIER else ambiguous).append(iid)
    return reasons, infra, ambiguous


def verdict_complete(summary: JSONMapping) -> bool:
    """Every submitted prediction got a verdict: no errors, no unknown ids."""
    return not summary["error_ids"] and not summary.get("unknown_ids")


def _write_json(path: Path, data: JSONValue) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def warn_unmatched(chosen: Predictions) -> None:
    """Log predictions for ids the dataset lacks and instances without a prediction."""
    if chosen.unknown_ids:
        shown = ", ".join(chosen.unknown_ids[:10]) + (
            " ..." if len(chosen.unknown_ids) > 10 else ""
        )
        log.warning(
            "%d prediction(s) for ids not in the dataset: %s", len(chosen.unknown_ids), shown
        )
    if chosen.missing_ids:
        shown = ", ".join(chosen.missing_ids[:10]) + (
            " ..." if len(chosen.missing_ids) > 10 else ""
        )
        log.warning("%d instance(s) without a prediction: %s", len(chosen.missing_ids), shown)
