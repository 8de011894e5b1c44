"""The runner: the one composition root and the one scheduler behind ``run``, ``batch``,
``eval`` and ``exercises``.

``build_services(config)`` builds the collaborators once (workspace, environments, the
run's sandbox); a job (``RepairJob``, ``EvalJob``, ``ExerciseJob``) says what to do per task;
a ``Scheduler``
maps it over the tasks with resume, progress and an executor (``EXECUTORS``: ``local`` threads
or ``ray``).
A run directory holds ``store.db`` (every model call, the response cache, every result and
the scheduler's state) and the exports written from it; ``write_text`` replaces a file
atomically. The modules behind these names are private.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from agentless.config import Config
from agentless.errors import AgentlessError, ConfigError, Interrupted
from agentless.model import DryRunModel, Model, OpenAICompatibleModel, PromptRecord
from agentless.pipeline import Services, TaskResult, run_task
from agentless.runner._context import Finished, Job, RunSandbox, TaskContext
from agentless.runner._jobs import (
    EvalJob,
    ExerciseJob,
    RepairJob,
    RepairOutput,
    exercise_metrics,
)
from agentless.runner._rundir import safe_name, write_text
from agentless.runner._scheduler import EXECUTORS, RunReport, Scheduler, exit_code
from agentless.store import Store
from agentless.tasks import Task
from agentless.tokens import count_message_tokens

__all__ = [
    "EXECUTORS",
    "EvalJob",
    "ExerciseJob",
    "Finished",
    "Job",
    "RepairJob",
    "RunOutcome",
    "RunReport",
    "Scheduler",
    "TaskContext",
    "build_services",
    "dry_run",
    "exercise_metrics",
    "exit_code",
    "open_model",
    "require_model",
    "run_batch",
    "run_evaluation",
    "run_exercises",
    "run_one",
    "write_text",
]


def require_model(config: Config) -> None:
    """Fail early, saying what to set, when no model is configured."""
    if not config.model.name:
        raise ConfigError(
            "no model configured: set AGENTLESS_MODEL and OPENAI_BASE_URL (and OPENAI_API_KEY "
            "if the server needs one), or pass --model NAME --base-url URL; "
            "`agentless doctor` checks the endpoint"
        )


def open_model(config: Config, store: Store) -> Model:
    """The configured model, recording every call in ``store`` and answering repeats from it."""
    require_model(config)
    return OpenAICompatibleModel.from_config(config.model, store, use_cache=config.run.use_cache)


def build_services(config: Config) -> Services:
    """The collaborators every command shares, built once from ``config``: the workspace,
    the environments, and a sandbox that bounds test runs by CPU and records each one."""
    run = config.run
    sandbox = RunSandbox.from_config(config.validate_)
    assert isinstance(sandbox, RunSandbox)
    slots = run.test_concurrency or os.cpu_count() or 1
    return Services.from_config(config, sandbox=sandbox.configure(slots, sandbox.stop))


def scheduler(
    job: Job[Any],
    run_dir: Path,
    config: Config,
    *,
    services: Services | None = None,
    progress: str = "auto",
    wait: bool = False,
    title: str = "",
) -> Scheduler:
    """A scheduler for ``job`` with the executor and limits the run configuration names."""
    run = config.run
    return Scheduler(
        job,
        run_dir,
        services=services or build_services(config),
        executor=run.executor,
        workers=run.workers,
        ray_address=run.ray_address,
        progress=progress,
        wait=wait,
        title=title,
    )


@dataclass(frozen=True)
class RunOutcome:
    """A finished task run and where its files are."""

    result: TaskResult
    run_dir: Path
    task_dir: Path


def run_one(
    task: Task,
    config: Config,
    run_dir: Path,
    *,
    services: Services | None = None,
    progress: str = "none",
    wait: bool = False,
) -> RunOutcome:
    """Run ``task`` with its results and model calls kept in ``run_dir`` (a re-run runs it
    again, answering every model request it already made from the store)."""
    require_model(config)
    job = RepairJob(config, evaluate=False)
    sched = scheduler(job, run_dir, config, services=services, progress=progress, wait=wait)
    report = sched.run([task], resume=False)
    outcome = report.finished.get(task.instance_id)
    if outcome is None or outcome.status == "interrupted":
        raise Interrupted(f"{task.instance_id}: stopped; run the same command again to resume")
    if outcome.status == "failed":
        if isinstance(outcome.exception, AgentlessError):
            raise outcome.exception
        raise AgentlessError(outcome.error)
    output = cast(RepairOutput, outcome.output)  # a RepairJob's, done
    result = TaskResult.from_dict(output["result"])
    return RunOutcome(result, run_dir, run_dir / safe_name(task.instance_id))


def run_batch(
    tasks: Sequence[Task],
    config: Config,
    run_dir: Path,
    *,
    resume: bool = True,
    progress: str = "auto",
    wait: bool = False,
    services: Services | None = None,
) -> RunReport:
    """``agentless batch``: repair every task (and grade it where the row has tests)."""
    require_model(config)
    job = RepairJob(config, evaluate=config.run.evaluate)
    sched = scheduler(
        job, run_dir, config, services=services, progress=progress, wait=wait, title="batch"
    )
    return sched.run(tasks, resume=resume)


def run_exercises(
    tasks: Sequence[Task],
    config: Config,
    run_dir: Path,
    *,
    resume: bool = True,
    progress: str = "auto",
    wait: bool = False,
    services: Services | None = None,
) -> RunReport:
    """``agentless exercises``: solve every exercise into ``run_dir``, resumable as ``batch``
    is. The report's summary is the benchmark's metrics (also ``RUN_DIR/metrics.json``). A
    failure every exercise would meet (the model endpoint down after its retries, no sandbox)
    stops the run and is raised; the exercises left resume on the next run."""
    require_model(config)
    services = services or build_services(config)
    services.sandbox.isolation  # noqa: B018 - fail before any model call when isolation is missing
    job = ExerciseJob(
        config, work_root=Path(run_dir), instance_ids=tuple(t.instance_id for t in tasks)
    )
    sched = scheduler(
        job, run_dir, config, services=services, progress=progress, wait=wait, title="exercises"
    )
    report = sched.run(tasks, resume=resume)
    halted = report.halted_by
    if halted is not None:
        if isinstance(halted.exception, AgentlessError):
            raise halted.exception
        raise AgentlessError(f"{halted.instance_id}: {halted.error}")
    return report


def run_evaluation(
    dataset: Path,
    predictions: str,
    config: Config,
    *,
    instances: Sequence[str] = (),
    resume: bool = True,
    show_progress: bool = True,
    wait: bool = False,
    last_wins: bool = False,
) -> dict[str, Any]:
    """``agentless eval``: grade predictions with each row's own tests; returns the summary
    (also written to ``<out>/summary.json``)."""
    from agentless.tasks import load_tasks, select_instances
    from agentless.validate import load_predictions, sweep_scratch, warn_unmatched

    tasks = select_instances(load_tasks(dataset), instances or None)
    chosen = load_predictions(predictions, tasks, last_wins=last_wins)
    out_dir = config.run.run_dir
    if out_dir is None:
        raise ConfigError("no output folder: pass --out DIR (or set run.run_dir)")
    services = build_services(config)
    services.sandbox.isolation  # noqa: B018 - fail before any work when isolation is missing
    sweep_scratch()
    warn_unmatched(chosen)
    job = EvalJob(config, predictions=chosen, dataset_ids=tuple(t.instance_id for t in tasks))
    todo = [task for task in tasks if task.instance_id in chosen.patches]
    sched = scheduler(
        job,
        Path(out_dir),
        config,
        services=services,
        progress="auto" if show_progress else "none",
        wait=wait,
        title="eval",
    )
    report = sched.run(todo, resume=resume)
    if report.interrupted:
        raise Interrupted("evaluation stopped; run the same command again to resume")
    return report.summary


def dry_run(
    task: Task, config: Config, *, services: Services | None = None
) -> tuple[list[tuple[PromptRecord, int]], int]:
    """The distinct prompts a run would send first, each with its estimated token count, and
    the estimated prompt tokens of every request (samples included). No model is called and no
    test runs."""
    model = DryRunModel(config.model.name or "dry-run")
    # Empty replies would only add retries and reflections; count the first-round requests.
    quiet = config.model_copy(
        update={
            "repair": config.repair.model_copy(update={"reflections": 0}),
            "localize": config.localize.model_copy(update={"max_retries": 0}),
        }
    )
    run_task(task, model, quiet, services=services, validate=False)
    unique: dict[str, tuple[PromptRecord, int]] = {}
    total = 0
    for record in model.prompts:
        tokens = count_message_tokens(record.messages)
        total += tokens
        unique.setdefault(json.dumps(record.messages), (record, tokens))
    return list(unique.values()), total
