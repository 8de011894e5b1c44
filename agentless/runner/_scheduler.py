"""The one scheduler: maps a job over tasks with resume, progress and an executor.

``Scheduler(job, run_dir, ...).run(tasks)`` holds the run directory's lock, skips tasks the
store says are done (under the same job fingerprint), hands the rest to an executor from
``EXECUTORS`` (``local``: threads in this process; ``ray``: Ray tasks), records each outcome as
it arrives (done, failed with its error, interrupted) and writes the exports. Ctrl-C and
SIGTERM stop it cleanly: no new task or test run starts, running test commands are killed,
worktrees are released by the unwinding tasks, and unfinished tasks resume on the next run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from agentless.errors import lookup
from agentless.model import CallRecord, Completion, Usage
from agentless.pipeline import Services
from agentless.runner._context import Finished, Job, RunSandbox
from agentless.runner._progress import Board, shown
from agentless.runner._rundir import locked, write_json
from agentless.store import Store, TestRunRecord
from agentless.tasks import Task
from agentless.validate import clear_stop, stop_all

log = logging.getLogger("agentless.runner")

# Seconds a stopping run waits for its tasks to unwind (a model reply in flight cannot be
# cut short); a second Ctrl-C stops at once.
STOP_GRACE = 30.0


class BoardLike(Protocol):
    """The progress events a sink forwards (the ``Board``, or a queue of them for Ray)."""

    def started(self, instance_id: str) -> None: ...

    def stage(self, instance_id: str, name: str, detail: str) -> None: ...

    def activity(self, instance_id: str, text: str) -> None: ...

    def model_call(self, usage: Usage) -> None: ...


class StoreSink:
    """The driver's end of a task's line: the run store, and the progress board."""

    def __init__(self, store: Store, job: str, fingerprint: str, board: BoardLike) -> None:
        self.store = store
        self.job = job
        self.fingerprint = fingerprint
        self.board = board

    def begin(self, instance_id: str) -> None:
        self.store.begin_task(self.job, instance_id, self.fingerprint)
        self.board.started(instance_id)

    def stage(self, instance_id: str, name: str, detail: str) -> None:
        self.store.task_stage(self.job, instance_id, name, detail)
        self.board.stage(instance_id, name, detail)

    def activity(self, instance_id: str, text: str) -> None:
        self.board.activity(instance_id, text)

    def cached_samples(self, key: str, n: int) -> dict[int, Completion]:
        return self.store.cached_samples(key, n)

    def record_call(self, instance_id: str, call: CallRecord) -> None:
        self.store.record_call(call, instance_id=instance_id)
        self.board.model_call(call.usage)

    def record_test_run(self, run: TestRunRecord) -> None:
        self.store.record_test_run(run)

    def recall(self, instance_id: str, name: str, key: str) -> Any:
        return self.store.get_checkpoint(instance_id, name, key)

    def keep(self, instance_id: str, name: str, key: str, value: Any) -> None:
        self.store.put_checkpoint(instance_id, name, key, value)


@dataclass
class Hub:
    """What an executor gets from the scheduler for one run."""

    job: Job[Any]
    services: Services
    sink: StoreSink
    store_path: Path
    board: Board
    stop: threading.Event
    model_concurrency: int
    forced: threading.Event = field(default_factory=threading.Event)
    _deadline: float | None = None

    def stop_children(self) -> None:
        """Kill test commands still running (again and again while stopping: a command may
        have started just before the stop was seen); no new one starts."""
        stop_all()

    def done_waiting(self, alive: Callable[[], bool]) -> bool:
        """While stopping: True once no task is alive, the grace period is over, or a second
        signal forced the stop; test commands are killed on each call."""
        if self._deadline is None:
            self._deadline = time.monotonic() + STOP_GRACE
        self.stop_children()
        return self.forced.is_set() or not alive() or time.monotonic() > self._deadline


class Executor(Protocol):
    """Runs tasks and yields how each ended, as they end."""

    def run(self, tasks: Sequence[Task], hub: Hub) -> Iterator[Finished]: ...

    def cancel(self) -> None: ...


def _local(**options: Any) -> Executor:
    from agentless.runner._executors import LocalExecutor

    return LocalExecutor(**options)


def _ray(**options: Any) -> Executor:
    from agentless.runner._ray_executor import RayExecutor

    return RayExecutor(**options)


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": _local, "ray": _ray}


@dataclass
class RunReport:
    """What a scheduled run did."""

    summary: dict[str, Any]
    finished: dict[str, Finished]
    skipped: list[str]
    stopped_by: int | None = None
    # The failure that stopped the run (one the job says every task would meet).
    halted_by: Finished | None = None

    @property
    def interrupted(self) -> bool:
        return self.stopped_by is not None


class Scheduler:
    """Runs ``job`` over tasks into ``run_dir``; see the module docstring."""

    def __init__(
        self,
        job: Job[Any],
        run_dir: Path,
        *,
        services: Services,
        executor: str = "local",
        workers: int = 1,
        ray_address: str | None = None,
        progress: str = "auto",
        wait: bool = False,
        title: str = "",
    ) -> None:
        lookup(EXECUTORS, executor, "executor")
        self.job = job
        self.run_dir = Path(run_dir)
        self.services = services
        self.executor_name = executor
        self.workers = max(1, workers)
        self.ray_address = ray_address
        self.progress = progress
        self.wait = wait
        self.title = title or job.name
        self.stop = threading.Event()
        self.stopped_by: int | None = None
        self.halted_by: Finished | None = None
        self._executor: Executor | None = None
        self._hub: Hub | None = None

    def run(self, tasks: Sequence[Task], *, resume: bool = True) -> RunReport:
        """Run every task not done yet; returns the summary also written to summary.json."""
        with locked(self.run_dir, wait=self.wait), Store.for_run(self.run_dir) as store:
            self.job.check_store(store)
            config = self.job.config.model_dump(mode="json", exclude={"model": {"api_key"}})
            store.set_meta("config", config)
            fingerprint = self.job.fingerprint()
            board = Board(self.title, len(tasks))
            pending, skipped = self._pending(tasks, store, fingerprint, board, resume)
            finished: dict[str, Finished] = {}
            clear_stop()
            swept = self.services.workspace.sweep_abandoned()
            if swept:
                log.info("removed %d worktree(s) left behind by a killed run", len(swept))
            if pending:
                with self._signals(), shown(board, self.progress):
                    finished = self._execute(pending, store, fingerprint, board)
                if self.halted_by is not None and self.stopped_by is None:
                    clear_stop()  # our own stop, not a signal's: the process goes on
            self._close_unfinished(store, pending, finished)
            summary = self.job.summarize(tasks, self.run_dir, store)
            write_json(self.run_dir / "summary.json", summary)
        return RunReport(summary, finished, skipped, self.stopped_by, self.halted_by)

    def _pending(
        self,
        tasks: Sequence[Task],
        store: Store,
        fingerprint: str,
        board: Board,
        resume: bool,
    ) -> tuple[list[Task], list[str]]:
        runs = store.task_runs(self.job.name)
        pending: list[Task] = []
        skipped: list[str] = []
        changed = 0
        for task in tasks:
            run = runs.get(task.instance_id)
            earlier = None
            if run is not None and run.status == "done":
                if run.fingerprint == fingerprint:
                    earlier = run.output
                else:
                    changed += 1
            if resume and self.job.is_done(task, earlier, self.run_dir):
                skipped.append(task.instance_id)
                board.earlier(earlier or {})
            else:
                pending.append(task)
        if changed:
            log.warning(
                "%d task(s) finished under another configuration are run again "
                "(model replies already paid for still come from the store)",
                changed,
            )
        if skipped:
            log.info(
                "%d task(s) already done in %s; %d to run", len(skipped), self.run_dir, len(pending)
            )
        return pending, skipped

    def _execute(
        self, pending: Sequence[Task], store: Store, fingerprint: str, board: Board
    ) -> dict[str, Finished]:
        if isinstance(self.services.sandbox, RunSandbox):
            self.services.sandbox.stop = self.stop
        sink = StoreSink(store, self.job.name, fingerprint, board)
        hub = Hub(
            job=self.job,
            services=self.services,
            sink=sink,
            store_path=store.path,
            board=board,
            stop=self.stop,
            model_concurrency=self.job.config.run.model_concurrency,
        )
        self._hub = hub
        self._executor = EXECUTORS[self.executor_name](
            workers=self.workers, address=self.ray_address, config=self.job.config
        )
        by_id = {task.instance_id: task for task in pending}
        finished: dict[str, Finished] = {}
        for outcome in self._executor.run(pending, hub):
            if outcome.status == "failed" and outcome.halts:
                self._halt(outcome)
                # Not this task's own failure: it is unfinished, and resumes with the others.
                outcome = dataclasses.replace(outcome, status="interrupted")
            finished[outcome.instance_id] = outcome
            self._record(by_id[outcome.instance_id], outcome, store, board)
        return finished

    def _record(self, task: Task, outcome: Finished, store: Store, board: Board) -> None:
        if outcome.status == "done":
            # Files first, then the row that marks the task done (with its result, in one
            # transaction): a kill in between leaves a task that is run again from the store,
            # never one marked done without its files, nor one counted twice.
            result = self.job.export(task, outcome.output, self.run_dir, store)
            store.finish_task(
                self.job.name, task.instance_id, "done", output=outcome.output, result=result
            )
        else:
            store.finish_task(self.job.name, task.instance_id, outcome.status, error=outcome.error)
        board.finished(task.instance_id, outcome.status, outcome.output, outcome.error)

    def _close_unfinished(
        self, store: Store, pending: Sequence[Task], finished: dict[str, Finished]
    ) -> None:
        """Tasks begun in this run but abandoned by a forced stop are marked interrupted."""
        runs = store.task_runs(self.job.name)
        for task in pending:
            run = runs.get(task.instance_id)
            if task.instance_id not in finished and run is not None and run.status == "running":
                store.finish_task(
                    self.job.name, task.instance_id, "interrupted", error="stopped at once"
                )

    # --- stopping -----------------------------------------------------------------------

    def _halt(self, outcome: Finished) -> None:
        """Stop the run for a failure every task would meet; the others resume next time."""
        if self.stop.is_set():
            return
        self.halted_by = outcome
        self.stop.set()
        log.error(
            "stopping the run: %s failed with %s; run the same command again to resume",
            outcome.instance_id,
            outcome.error.splitlines()[0],
        )
        if self._hub is not None:
            self._hub.stop_children()
        if self._executor is not None:
            self._executor.cancel()

    def request_stop(self, signum: int = signal.SIGINT) -> None:
        """Stop taking work; running tasks unwind and resume on the next run."""
        if self.stop.is_set():
            log.warning("stopping at once: tasks still running are left to resume")
            if self._hub is not None:
                self._hub.forced.set()
                self._hub.stop_children()
            return
        self.stopped_by = signum
        self.stop.set()
        name = signal.Signals(signum).name
        log.warning(
            "%s: stopping; running tasks resume where they are on the next run "
            "(press Ctrl-C again to stop at once)",
            name,
        )
        if self._hub is not None:
            self._hub.stop_children()
        if self._executor is not None:
            self._executor.cancel()

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self.request_stop(signum)

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


def exit_code(report: RunReport) -> int:
    """The shell's convention for a run stopped by a signal (128 + its number)."""
    return 128 + report.stopped_by if report.stopped_by else 0
