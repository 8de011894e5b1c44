"""What a task sees while it runs under the scheduler, wherever it runs.

A ``TaskContext`` is the task's end of the line to the driver: the pipeline reports stages
to it (it is the pipeline's ``Journal``), the task's model records calls through it (it is a
``CallRecorder``), and the runner's sandbox records each test command through it. Behind it is
a ``Sink``: the run store itself for the local executor, a Ray actor that writes the same
store for the Ray executor. Stopping is checked at each of those points.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, TypeVar

import httpx

from agentless.config import Config
from agentless.errors import AgentlessError, Interrupted
from agentless.model import CallRecord, Completion, Message, Model, OpenAICompatibleModel
from agentless.pipeline import Services
from agentless.store import TestRunRecord
from agentless.tasks import Task
from agentless.validate import Sandbox, SandboxResult

FinishStatus = Literal["done", "failed", "interrupted"]


class JobOutput(TypedDict):
    """What every job's ``run`` returns, at least: JSON-ready (it crosses from a worker, maybe
    a Ray worker on another machine, to the driver, and is stored as JSON), with what the
    progress display shows. Each job returns its own subtype (``RepairOutput``, ...)."""

    resolved: bool | None  # ``None``: not graded
    headline: str  # a few words


OutputT = TypeVar("OutputT", bound=JobOutput)


class Sink(Protocol):
    """Where tasks' progress, model calls, test runs and checkpoints go (the driver's side)."""

    def stage(self, instance_id: str, name: str, detail: str) -> None: ...

    def activity(self, instance_id: str, text: str) -> None: ...

    def cached_samples(self, key: str, n: int) -> dict[int, Completion]: ...

    def record_call(self, instance_id: str, call: CallRecord) -> None: ...

    def record_test_run(self, run: TestRunRecord) -> None: ...

    def recall(self, instance_id: str, name: str, key: str) -> Any: ...

    def keep(self, instance_id: str, name: str, key: str, value: Any) -> None: ...


@dataclass
class Finished:
    """How one task ended, as an executor hands it back to the scheduler."""

    instance_id: str
    status: FinishStatus
    output: JobOutput | None = None  # what the job's ``run`` returned, when ``done``
    error: str = ""
    # The exception itself where the executor can hand it over (the local one does), so
    # ``agentless run`` can raise what a single task raised.
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    # The failure stops the whole run (the job's ``halts`` said so, where it was raised).
    halts: bool = False


@dataclass
class TaskContext:
    """One running task's collaborators and its line to the driver."""

    instance_id: str
    config: Config
    services: Services
    sink: Sink
    stop: threading.Event
    model_slots: contextlib.AbstractContextManager[Any]
    # One connection pool for every task of a worker process: a client of its own would
    # cost each task a TLS context (~0.1 s of CPU) and a fresh connection.
    transport: httpx.BaseTransport | None = None

    # --- the pipeline's Journal -----------------------------------------------------------

    def stage(self, name: str, detail: str = "") -> None:
        """Record the stage; the place where a stopping run leaves the task."""
        self.check()
        self.sink.stage(self.instance_id, name, detail)

    def recall(self, name: str, key: str) -> Any:
        return self.sink.recall(self.instance_id, name, key)

    def keep(self, name: str, key: str, value: Any) -> None:
        self.sink.keep(self.instance_id, name, key, value)

    # --- the model's CallRecorder ---------------------------------------------------------

    def cached_samples(self, key: str, n: int) -> dict[int, Completion]:
        return self.sink.cached_samples(key, n)

    def record_call(self, call: CallRecord) -> None:
        self.sink.record_call(self.instance_id, call)

    # --- helpers --------------------------------------------------------------------------

    def check(self) -> None:
        """Raise ``Interrupted`` once the run is stopping."""
        if self.stop.is_set():
            raise Interrupted(f"{self.instance_id}: stopped before it finished")

    def model(self) -> Model:
        """This task's model: every call recorded for it, repeats answered from the store,
        at most ``run.model_concurrency`` requests in flight over the whole run."""
        client = OpenAICompatibleModel.from_config(
            self.config.model, self, use_cache=self.config.run.use_cache, transport=self.transport
        )
        return _TaskModel(client, self, owns_transport=self.transport is None)

    @contextlib.contextmanager
    def current(self) -> Iterator[None]:
        """Make this the task whose test runs the runner's sandbox records (this thread)."""
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)


class _TaskModel:
    """A task's model: checks for a stop before each call and waits for a model slot."""

    def __init__(
        self, inner: OpenAICompatibleModel, ctx: TaskContext, *, owns_transport: bool
    ) -> None:
        self.inner = inner
        self.ctx = ctx
        self.owns_transport = owns_transport

    @property
    def name(self) -> str:
        return self.inner.name

    def complete(
        self, messages: Sequence[Message], *, stage: str = "", **kw: Any
    ) -> list[Completion]:
        self.ctx.check()
        shown = stage or "model"
        self.ctx.sink.activity(self.ctx.instance_id, f"waiting for a model slot ({shown})")
        with self.ctx.model_slots:
            self.ctx.check()
            self.ctx.sink.activity(self.ctx.instance_id, f"model call ({shown})")
            try:
                return self.inner.complete(messages, stage=stage, **kw)
            finally:
                self.ctx.sink.activity(self.ctx.instance_id, "")

    def close(self) -> None:
        if self.owns_transport:  # a shared pool outlives the task
            self.inner.close()


_CURRENT: contextvars.ContextVar[TaskContext | None] = contextvars.ContextVar(
    "agentless_task", default=None
)


class RunSandbox(Sandbox):
    """The sandbox of a scheduled run: at most ``slots`` commands at once (test runs are
    bound by CPU), each command recorded for the task running it, none started once the run
    is stopping, and none of a stopped run taken as a verdict."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.slots = threading.BoundedSemaphore(1)
        self.stop = threading.Event()

    def configure(self, slots: int, stop: threading.Event) -> RunSandbox:
        """Set the number of concurrent commands and the run's stop event."""
        self.slots = threading.BoundedSemaphore(max(1, slots))
        self.stop = stop
        return self

    def run(self, argv: Sequence[str], **kw: Any) -> SandboxResult:
        ctx = _CURRENT.get()
        self._check(ctx)
        started = time.time()
        if ctx is not None:
            ctx.sink.activity(ctx.instance_id, "waiting for a test slot")
        with self.slots:
            self._check(ctx)
            if ctx is not None:
                ctx.sink.activity(ctx.instance_id, "running " + " ".join(argv)[:80])
            result = super().run(argv, **kw)
        self._check(ctx)  # a command killed by a stop says nothing about the patch
        if ctx is not None:
            ctx.sink.activity(ctx.instance_id, "")
            ctx.sink.record_test_run(
                TestRunRecord(
                    instance_id=ctx.instance_id,
                    started_at=started,
                    argv=list(argv),
                    exit_code=result.exit_code,
                    timed_out=result.timed_out,
                    duration=result.duration,
                    output=result.output,
                )
            )
        return result

    def _check(self, ctx: TaskContext | None) -> None:
        if self.stop.is_set():
            raise Interrupted(f"{ctx.instance_id if ctx else 'a task'}: stopped before it finished")


class Job(Protocol[OutputT]):
    """The per-task work a scheduler runs, with the policy for resuming and exporting it.

    ``run`` executes in a worker (a thread, or a Ray worker on another machine) and returns a
    JSON-ready output; everything that touches the run directory happens on the driver, in
    ``export`` and ``summarize``. Jobs are picklable values (config and inputs only).
    """

    @property
    def name(self) -> str:
        """The job's name in the store (resume is per job)."""
        ...

    @property
    def config(self) -> Config:
        """The configuration every task of the job runs under."""
        ...

    def fingerprint(self) -> str:
        """What a finished output depends on; a task done under another one is run again."""
        ...

    def check_store(self, store: Any) -> None:
        """Refuse (``ConfigError``) a run directory this job cannot continue, or note in it
        what the job needs to find there next time; called with the run directory locked,
        before any task starts."""
        ...

    def halts(self, error: BaseException) -> bool:
        """True when ``error``, raised by one task, would fail every task: the run stops
        (unfinished tasks resume on the next run) instead of recording each failure."""
        ...

    def is_done(self, task: Task, earlier: Mapping[str, Any] | None, run_dir: Path) -> bool:
        """True when ``task`` needs no new run (``earlier``: its stored output, if done)."""
        ...

    def run(self, task: Task, ctx: TaskContext) -> OutputT:
        """Do the work for one task."""
        ...

    def export(
        self, task: Task, output: OutputT, run_dir: Path, store: Any
    ) -> tuple[str, dict[str, Any]] | None:
        """Write the task's files into the run directory (driver side); returns the
        (patch, result) the store keeps as the task's result, recorded together with the
        task's completion."""
        ...

    def summarize(self, tasks: Sequence[Task], run_dir: Path, store: Any) -> dict[str, Any]:
        """``summary.json``'s content after a run (driver side)."""
        ...


def execute(job: Job[Any], task: Task, ctx: TaskContext) -> Finished:
    """Run ``job`` on ``task``; every way it can end becomes a ``Finished`` value."""
    iid = task.instance_id
    try:
        with ctx.current():
            ctx.stage("start")
            output = job.run(task, ctx)
    except (Interrupted, KeyboardInterrupt):
        return Finished(iid, "interrupted", error="stopped before it finished")
    except AgentlessError as exc:
        if ctx.stop.is_set():
            return Finished(iid, "interrupted", error="stopped before it finished")
        error = f"{type(exc).__name__}: {exc}"
        return Finished(iid, "failed", error=error, exception=exc, halts=job.halts(exc))
    except Exception as exc:  # one task's bug must not end a run of hundreds
        if ctx.stop.is_set():
            return Finished(iid, "interrupted", error="stopped before it finished")
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        error = f"unexpected {type(exc).__name__}: {exc}\n{detail}"
        return Finished(iid, "failed", error=error, exception=exc, halts=job.halts(exc))
    return Finished(iid, "done", output=output)
