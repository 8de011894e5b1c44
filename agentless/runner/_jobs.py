"""The per-task work the scheduler runs: repairing a task (``run``, ``batch``), grading a
prediction (``eval``) and solving an exercise (``exercises``). Each is a value with ``name``,
``config``, ``fingerprint``, ``check_store``, ``halts``, ``is_done``, ``run``, ``export`` and
``summarize`` (see ``agentless.runner.Job``).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

from agentless.config import Config
from agentless.errors import ConfigError, ModelError, StoreError, ValidationError
from agentless.model import Usage
from agentless.pipeline import Services, TaskResult, run_task
from agentless.runner._context import JobOutput, TaskContext
from agentless.runner._rundir import (
    safe_name,
    trajectory,
    upsert_prediction,
    write_json,
    write_text,
)
from agentless.store import Store, TaskRun
from agentless.tasks import Task
from agentless.validate import (
    Evaluator,
    InstanceResult,
    Predictions,
    earlier_result,
    patch_digest,
    read_result,
    run_summary,
)


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def gradable(task: Task) -> bool:
    """A task whose row carries the tests that decide 'resolved' (SWE-bench's kind)."""
    return task.kind == "swebench" and bool(task.fail_to_pass or task.pass_to_pass)


class Evaluation(TypedDict):
    """A patch graded with the row's tests, as data that crosses to the driver and is kept."""

    outcome: str
    resolved: bool | None
    detail: str
    result: dict[str, Any]  # the ``InstanceResult`` as JSON
    files: dict[str, str]  # the files the evaluation wrote (``report.json``, the log, ...)


class _RepairBase(JobOutput):
    result: dict[str, Any]  # the ``TaskResult`` as JSON
    patch: bool


class RepairOutput(_RepairBase, total=False):
    """``RepairJob``'s output; ``evaluation`` where the chosen patch was graded."""

    evaluation: Evaluation


class EvalOutput(Evaluation, JobOutput):
    """``EvalJob``'s output: the evaluation with its headline."""


class ExerciseOutput(JobOutput):
    """``ExerciseJob``'s output."""

    result: dict[str, Any]  # the ``ExerciseResult`` as JSON


def evaluate_in_scratch(
    task: Task, patch: str | None, services: Services, config: Config
) -> Evaluation:
    """Grade ``patch`` on ``task`` in a scratch folder; the files the evaluation writes come
    back as data, so the driver can put them in the run directory (whatever machine ran it)."""
    with tempfile.TemporaryDirectory(prefix="agentless-eval-") as scratch:
        evaluator = Evaluator(
            out_dir=Path(scratch),
            workspace=services.workspace,
            envs=services.environments,
            sandbox=services.sandbox,
            timeout=config.validate_.timeout,
            recipes=services.recipes,
        )
        result = evaluator.evaluate(task, patch)
        folder = Path(scratch) / task.instance_id
        files = {
            path.name: path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(folder.iterdir())
            if path.is_file()
        }
    return Evaluation(
        outcome=result.outcome,
        resolved=result.resolved,
        detail=result.detail,
        result=asdict(result),
        files=files,
    )


@dataclass(frozen=True)
class RepairJob:
    """Localize, repair, validate and select for each task; grade the chosen patch with the
    row's own tests where it has them (``evaluate``)."""

    config: Config
    evaluate: bool = True
    name: str = "repair"

    def fingerprint(self) -> str:
        # Where results go and how work is scheduled does not change them; the endpoint's
        # address does not either (the store's cache ignores it too).
        settings = self.config.model_dump(
            mode="json", exclude={"run": True, "model": {"api_key", "base_url"}}
        )
        return _digest([settings, self.evaluate])

    def check_store(self, store: Store) -> None:
        """Any run directory of repairs can be continued (changed settings re-run tasks)."""

    def halts(self, error: BaseException) -> bool:
        return False  # one task's failure (an unreachable repo, a model error) is its own

    def is_done(self, task: Task, earlier: Mapping[str, Any] | None, run_dir: Path) -> bool:
        return earlier is not None

    def run(self, task: Task, ctx: TaskContext) -> RepairOutput:
        model = ctx.model()
        try:
            result = run_task(task, model, self.config, services=ctx.services, journal=ctx)
        finally:
            close = getattr(model, "close", None)
            if close is not None:
                close()
        output = RepairOutput(
            result=result.to_dict(),
            patch=bool(result.patch),
            resolved=None,
            headline=_headline(result),
        )
        if self.evaluate and gradable(task):
            evaluation = self._evaluate(task, result.patch, ctx)
            output["evaluation"] = evaluation
            output["resolved"] = evaluation["resolved"]
            output["headline"] += f"; {evaluation['outcome']}"
        return output

    def _evaluate(self, task: Task, patch: str, ctx: TaskContext) -> Evaluation:
        ctx.stage("evaluate", "grading the chosen patch with the row's tests")
        key = _digest([patch_digest(patch), self.config.validate_.timeout])
        saved = ctx.recall("evaluate", key)
        if saved is not None:
            return cast(Evaluation, saved)  # what an earlier attempt kept, read back as JSON
        evaluation = evaluate_in_scratch(task, patch, ctx.services, self.config)
        if evaluation["outcome"] != "infrastructure_failure":
            ctx.keep("evaluate", key, evaluation)
        return evaluation

    def export(
        self, task: Task, output: RepairOutput, run_dir: Path, store: Store
    ) -> tuple[str, dict[str, Any]]:
        result = output["result"]
        task_dir = run_dir / safe_name(task.instance_id)
        write_json(task_dir / "result.json", result)
        write_text(task_dir / "patch.diff", result["model_patch"])
        write_json(task_dir / "trajectory.json", trajectory(store, task.instance_id, result))
        evaluation = output.get("evaluation")
        for name, text in (evaluation["files"] if evaluation else {}).items():
            write_text(task_dir / "eval" / name, text)
        upsert_prediction(run_dir, TaskResult.from_dict(result).prediction())
        return result["model_patch"], result

    def summarize(self, tasks: Sequence[Task], run_dir: Path, store: Store) -> dict[str, Any]:
        runs = store.task_runs(self.name)
        usage = store.usage_by_instance()
        rows: dict[str, dict[str, Any]] = {}
        for task in tasks:
            run = runs.get(task.instance_id)
            output = run.output if run is not None and run.status == "done" else {}
            evaluation = output.get("evaluation") or {}
            spent = usage.get(task.instance_id, Usage())
            rows[task.instance_id] = {
                "status": run.status if run is not None else "pending",
                "stage": run.stage if run is not None else "",
                "attempts": run.attempts if run is not None else 0,
                "error": run.error if run is not None else "",
                "patch": bool(output.get("patch")),
                "evaluation": evaluation.get("outcome"),
                "resolved": output.get("resolved"),
                "tokens": spent.total_tokens,
                "cost": spent.cost,
                "seconds": _seconds(run),
            }
        return _counts(self.name, rows, sum(usage.values(), Usage()))


def _seconds(run: Any) -> float | None:
    if run is None or run.started_at is None or run.finished_at is None:
        return None
    return round(run.finished_at - run.started_at, 2)


def _headline(result: TaskResult) -> str:
    chosen = "a patch" if result.patch else "no patch"
    return f"{chosen} from {len(result.candidates)} candidate(s)"


def _counts(job: str, rows: Mapping[str, Mapping[str, Any]], usage: Usage) -> dict[str, Any]:
    def ids(predicate: Any) -> list[str]:
        return sorted(iid for iid, row in rows.items() if predicate(row))

    graded = ids(lambda r: r["resolved"] is not None)
    resolved = ids(lambda r: r["resolved"])
    return {
        "job": job,
        "total_tasks": len(rows),
        "done_tasks": len(ids(lambda r: r["status"] == "done")),
        "failed_tasks": len(ids(lambda r: r["status"] == "failed")),
        "unfinished_tasks": len(ids(lambda r: r["status"] not in ("done", "failed"))),
        "with_patch": len(ids(lambda r: r["patch"])),
        "graded": len(graded),
        "resolved": len(resolved),
        "resolved_ids": resolved,
        "failed_ids": ids(lambda r: r["status"] == "failed"),
        "unfinished_ids": ids(lambda r: r["status"] not in ("done", "failed")),
        "errors": {iid: row["error"] for iid, row in rows.items() if row["error"]},
        "usage": usage.to_dict(),
        "tasks": dict(rows),
    }


@dataclass(frozen=True)
class EvalJob:
    """Grade given predictions with each row's own tests, as SWE-bench does."""

    config: Config
    predictions: Predictions = field(default_factory=lambda: Predictions({}))
    dataset_ids: tuple[str, ...] = ()
    name: str = "eval"

    def fingerprint(self) -> str:
        return _digest(self.config.validate_.model_dump(mode="json"))

    def check_store(self, store: Store) -> None:
        """Any evaluation folder can be continued."""

    def halts(self, error: BaseException) -> bool:
        return False

    def is_done(self, task: Task, earlier: Mapping[str, Any] | None, run_dir: Path) -> bool:
        # As before the scheduler: the same patch graded before (not an infrastructure
        # failure) is kept; anything else is graded again.
        folder = run_dir / task.instance_id
        return earlier_result(folder, self.predictions.patches.get(task.instance_id)) is not None

    def run(self, task: Task, ctx: TaskContext) -> EvalOutput:
        ctx.stage("evaluate")
        evaluation = evaluate_in_scratch(
            task, self.predictions.patches.get(task.instance_id), ctx.services, self.config
        )
        return EvalOutput(**evaluation, headline=evaluation["outcome"])

    def export(self, task: Task, output: EvalOutput, run_dir: Path, store: Store) -> None:
        # result.json last: its presence marks the instance as graded.
        files = dict(output["files"])
        last = files.pop("result.json", None)
        for name, text in files.items():
            write_text(run_dir / task.instance_id / name, text)
        if last is not None:
            write_text(run_dir / task.instance_id / "result.json", last)

    def summarize(self, tasks: Sequence[Task], run_dir: Path, store: Store) -> dict[str, Any]:
        results: list[InstanceResult] = []
        for task in tasks:
            found = read_result(run_dir / task.instance_id)
            if found is not None:
                results.append(found)
        summary = run_summary(results, self._dataset(tasks), self.predictions, run_dir)
        # Instances whose evaluation raised (not an outcome of the patch): kept apart.
        runs = store.task_runs(self.name)
        summary["failed_ids"] = sorted(
            t.instance_id for t in tasks if (r := runs.get(t.instance_id)) and r.status == "failed"
        )
        summary["errors"] = {iid: runs[iid].error for iid in summary["failed_ids"]}
        return summary

    def _dataset(self, tasks: Sequence[Task]) -> list[str]:
        """Every instance id of the dataset (swebench's ``total_instances``), not only the
        ones with a prediction."""
        return list(self.dataset_ids) or [task.instance_id for task in tasks]


# Model settings that change how a reply is fetched, not what it says.
_TRANSPORT = {
    "base_url",
    "api_key",
    "api_key_env",
    "timeout",
    "connect_timeout",
    "max_attempts",
    "retry_budget",
    "backoff_base",
    "backoff_max",
    "concurrency",
    "prices",
}


@dataclass(frozen=True)
class ExerciseJob:
    """Solve each exercise as Aider's benchmark does (``agentless.exercises.run_exercise``),
    with work copies under ``work_root``; ``RUN_DIR/metrics.json`` is rewritten after every
    exercise, over ``instance_ids`` (the benchmark's exercises, in order)."""

    config: Config
    work_root: Path
    instance_ids: tuple[str, ...] = ()
    name: str = "exercises"

    def fingerprint(self) -> str:
        return _digest(
            {
                "model": self.config.model.model_dump(mode="json", exclude=_TRANSPORT),
                "exercises": self.config.exercises.model_dump(mode="json", exclude={"languages"}),
                "python": str(self.config.validate_.python or ""),
            }
        )

    def check_store(self, store: Store) -> None:
        """A run directory holds one benchmark setting: continuing it with another is refused
        (its metrics would mix them)."""
        wanted = self._settings()
        found = store.get_meta("exercises")
        if found is not None and found != wanted:
            changed = ", ".join(
                f"{k} {found.get(k)!r} -> {v!r}" for k, v in wanted.items() if found.get(k) != v
            )
            raise ConfigError(
                f"{store.path.parent} holds a run with other settings ({changed}); "
                "use another --out folder for these settings"
            )
        store.set_meta("exercises", wanted)

    def halts(self, error: BaseException) -> bool:
        # What fails one exercise this way fails them all: the model endpoint down after its
        # retries or refusing the requests, no sandbox, the store unwritable.
        return isinstance(error, (ModelError, ValidationError, StoreError))

    def is_done(self, task: Task, earlier: Mapping[str, Any] | None, run_dir: Path) -> bool:
        # Exercises that could not run here are looked at again: a toolchain may be installed.
        return earlier is not None and (earlier.get("result") or {}).get("status") == "done"

    def run(self, task: Task, ctx: TaskContext) -> ExerciseOutput:
        from agentless.exercises import ExerciseServices, describe, run_exercise

        services = ExerciseServices.from_config(
            self.config, self.work_root, sandbox=ctx.services.sandbox
        )
        model = ctx.model()
        try:
            result = run_exercise(task, model, self.config, services=services, progress=ctx)
        finally:
            close = getattr(model, "close", None)
            if close is not None:
                close()
        return ExerciseOutput(
            result=result.to_dict(),
            resolved=result.passed if result.status == "done" else None,
            headline=describe(result),
        )

    def export(
        self, task: Task, output: ExerciseOutput, run_dir: Path, store: Store
    ) -> tuple[str, dict[str, Any]]:
        result = dict(output["result"])
        task_dir = run_dir / safe_name(task.instance_id)
        write_json(task_dir / "result.json", result)
        write_json(task_dir / "trajectory.json", trajectory(store, task.instance_id, {}))
        order = self.instance_ids or tuple(sorted(store.task_runs(self.name)))
        self.write_metrics(run_dir, store, order, {task.instance_id: result})
        return "", result

    def summarize(self, tasks: Sequence[Task], run_dir: Path, store: Store) -> dict[str, Any]:
        """The benchmark's metrics (also written to ``metrics.json``)."""
        return self.write_metrics(run_dir, store, [t.instance_id for t in tasks])

    def write_metrics(
        self,
        run_dir: Path,
        store: Store,
        order: Sequence[str],
        latest: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Write ``RUN_DIR/metrics.json`` for the exercises in ``order`` (``latest``: results
        not in the store yet); returns the metrics."""
        metrics = exercise_metrics(store, order, self.config, latest)
        write_json(run_dir / EXERCISE_METRICS, metrics)
        return metrics

    def _settings(self) -> dict[str, Any]:
        settings = self.config.exercises
        return {
            "model": self.config.model.name,
            "edit_format": settings.edit_format,
            "tries": settings.tries,
            "reflections": settings.reflections,
        }


EXERCISE_METRICS = "metrics.json"


def exercise_metrics(
    store: Store,
    order: Sequence[str],
    config: Config | None = None,
    latest: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Aider's metrics over the exercises ``order`` names, from the store: each one's latest
    result; one whose run failed counts as an ``error`` with the failure; those not finished
    yet are listed under ``unfinished``. Without ``config``, the settings the store recorded."""
    from agentless.exercises import ExerciseResult, summarize

    settings = store.get_meta("exercises") or {}
    if config is not None:
        settings = {
            "model": config.model.name,
            "edit_format": config.exercises.edit_format,
            "tries": config.exercises.tries,
        }
    runs = store.task_runs(ExerciseJob.name)
    results, unfinished = [], []
    for iid in order:
        data = (latest or {}).get(iid) or _exercise_outcome(runs.get(iid), iid, settings)
        if data is None:
            unfinished.append(iid.replace("__", "/", 1))
        else:
            results.append(ExerciseResult.from_dict(data))
    metrics = summarize(
        results,
        tries=int(settings.get("tries", 2)),
        edit_format=str(settings.get("edit_format", "")),
        model=str(settings.get("model", "")),
    )
    metrics["unfinished"] = unfinished
    return metrics


def _exercise_outcome(
    run: TaskRun | None, instance_id: str, settings: Mapping[str, Any]
) -> dict[str, Any] | None:
    """A task row's latest exercise result; a failed run as an ``error`` result."""
    if run is None:
        return None
    if run.status == "failed":
        language = instance_id.split("__", 1)[0]
        return {
            "exercise": instance_id.replace("__", "/", 1),
            "instance_id": instance_id,
            "language": language,
            "edit_format": settings.get("edit_format", ""),
            "model": settings.get("model", ""),
            "status": "error",
            "reason": (run.error.splitlines() or ["failed"])[0],
        }
    result = (run.output or {}).get("result")
    return dict(result) if result else None
