"""A small scheduler for exercise runs: the run store, resume, threads, progress, result files.

This module is the only place that schedules exercises; everything it does per exercise is
``run_exercise``. It is meant to be replaced by the runner's shared scheduler (batch, eval and
exercises alike) once that exists: that scheduler needs to call ``run_exercise(task, model,
config, services=...)`` per task, save ``result.to_dict()`` under ``task.instance_id``, skip
tasks whose latest saved result is ``finished`` (status ``done``), and call ``write_metrics`` as results arrive.

A run directory holds ``store.db`` (model calls, the reply cache, each exercise's result),
``metrics.json`` (rewritten after every exercise) and ``<instance_id>/result.json``; the work
copies are in ``<instance_id>/<exercise name>/``. A killed run resumes where it stopped: finished
exercises are skipped and the replies of unfinished ones come from the store.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from agentless.config import Config
from agentless.errors import ConfigError, TaskError
from agentless.exercises.metrics import summarize
from agentless.exercises.result import ExerciseResult
from agentless.exercises.run import ExerciseServices, run_exercise
from agentless.exercises.spec import exercise_task, find_exercises
from agentless.model import Model
from agentless.store import Store
from agentless.tasks import Task

log = logging.getLogger("agentless.exercises")

METRICS_FILE = "metrics.json"


def exercise_tasks(
    root: Path, *, languages: Sequence[str] = (), names: Iterable[str] = ()
) -> list[Task]:
    """The exercises under ``root`` as tasks, kept to ``languages`` and to ``names`` (an
    exercise's name, ``language/name`` or ``language__name``)."""
    from agentless.exercises.languages import LANGUAGES

    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        raise ConfigError(
            f"unknown language(s) {', '.join(unknown)}; known: {', '.join(LANGUAGES)}"
        )
    exercises = [e for e in find_exercises(root) if not languages or e.language in languages]
    wanted = set(names)
    if wanted:
        chosen = [e for e in exercises if wanted & {e.name, e.id, e.instance_id}]
        found = {key for e in chosen for key in (e.name, e.id, e.instance_id)}
        missing = sorted(wanted - found)
        if missing:
            raise TaskError(f"no exercise named {', '.join(missing)} under {root}")
        exercises = chosen
    if not exercises:
        raise TaskError(f"{root}: no exercise in the language(s) {', '.join(languages)}")
    return [exercise_task(e) for e in exercises]


def run_exercises(
    tasks: Sequence[Task],
    config: Config,
    run_dir: Path,
    *,
    model: Model | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """Run ``tasks`` into ``run_dir`` with ``config.run.workers`` threads; returns the metrics.

    ``model`` defaults to the configured endpoint, recording into the run's store.
    """
    from agentless.runner import open_model

    run_dir.mkdir(parents=True, exist_ok=True)
    with Store.for_run(run_dir) as store:
        _check_settings(store, config)
        model = model or open_model(config, store)
        services = ExerciseServices.from_config(config, work_root=run_dir)
        results: dict[str, ExerciseResult] = {}
        todo = []
        for task in tasks:
            prior = store.latest_result(task.instance_id) if resume else None
            if prior is not None and ExerciseResult.from_dict(prior).finished:
                results[task.instance_id] = ExerciseResult.from_dict(prior)
            else:
                todo.append(task)
        log.info(
            "%d exercise(s): %d already done in %s, %d to run with %d worker(s)",
            len(tasks),
            len(results),
            run_dir,
            len(todo),
            config.run.workers,
        )
        progress = _Progress(tasks, results, run_dir, store, config, model.name)
        progress.write()
        _schedule(
            todo, lambda t: run_exercise(t, model, config, services=services), progress, config
        )
        return progress.write()


def _schedule(todo: Sequence[Task], work: Any, progress: _Progress, config: Config) -> None:
    """Run ``work`` on each task with a thread pool; the first exception stops the run."""
    with ThreadPoolExecutor(max_workers=config.run.workers, thread_name_prefix="exercise") as pool:
        futures: dict[Future[ExerciseResult], Task] = {pool.submit(work, t): t for t in todo}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                if future.exception() is None:
                    progress.record(future.result())
            failed = [f for f in finished if f.exception() is not None]
            if failed:
                for future in pending:
                    future.cancel()
                error = failed[0].exception()
                assert error is not None
                log.error(
                    "stopped at %s: %s; run the same command again to resume",
                    futures[failed[0]].instance_id,
                    error,
                )
                raise error


class _Progress:
    """Results as they arrive: saved to the store and to files, logged, summed up."""

    def __init__(
        self,
        tasks: Sequence[Task],
        results: dict[str, ExerciseResult],
        run_dir: Path,
        store: Store,
        config: Config,
        model: str,
    ) -> None:
        self.order = [t.instance_id for t in tasks]
        self.results = results
        self.run_dir = run_dir
        self.store = store
        self.config = config
        self.model = model
        self.lock = threading.Lock()

    def record(self, result: ExerciseResult) -> None:
        data = result.to_dict()
        self.store.save_result(result.instance_id, "", data)
        folder = self.run_dir / result.instance_id
        folder.mkdir(parents=True, exist_ok=True)
        _write_json(folder / "result.json", data)
        with self.lock:
            self.results[result.instance_id] = result
            done = len(self.results)
        log.info("[%d/%d] %s: %s", done, len(self.order), result.exercise, describe(result))
        self.write()

    def write(self) -> dict[str, Any]:
        with self.lock:
            ordered = [self.results[i] for i in self.order if i in self.results]
            return write_metrics(self.run_dir, ordered, self.config, self.model)


def write_metrics(
    run_dir: Path, results: Sequence[ExerciseResult], config: Config, model: str
) -> dict[str, Any]:
    """Write ``RUN_DIR/metrics.json`` for ``results``; returns the metrics."""
    settings = config.exercises
    metrics = summarize(
        results, tries=settings.tries, edit_format=settings.edit_format, model=model
    )
    _write_json(run_dir / METRICS_FILE, metrics)
    return metrics


def describe(result: ExerciseResult) -> str:
    """One line about an exercise's outcome, for progress logs."""
    if result.status != "done":
        return f"{result.status}: {result.reason}"
    counts = result.counts()
    verdict = f"passed on try {result.passed_on_try}" if result.passed else "failed"
    extras = [f"{counts['replies']} repl{'y' if counts['replies'] == 1 else 'ies'}"]
    for key, label in (
        ("malformed_responses", "malformed"),
        ("test_timeouts", "timed out"),
        ("test_edits", "edited tests"),
        ("exhausted_context_windows", "context full"),
    ):
        if counts[key]:
            extras.append(f"{counts[key]} {label}")
    return f"{verdict} ({', '.join(extras)}; {result.seconds:.1f} s)"


def _check_settings(store: Store, config: Config) -> None:
    """A run directory holds one benchmark setting: resuming it with another is refused."""
    settings = config.exercises
    wanted = {
        "model": config.model.name,
        "edit_format": settings.edit_format,
        "tries": settings.tries,
        "reflections": settings.reflections,
    }
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
    store.set_meta("config", config.model_dump(mode="json", exclude={"model": {"api_key"}}))


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(path)
