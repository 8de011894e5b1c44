"""The Ray executor (``pip install 'agentless-repair[ray]'``): each task is a Ray task.

The driver keeps the run directory and its store. A small actor pinned to the driver's node
opens the same store and is every task's line back: model calls are recorded (and repeats
answered from the cache) through it as they happen, stages and test runs likewise, and the
model-concurrency limit is counted there for the whole cluster. Results come back as task
return values and are exported by the driver, exactly as with the local executor, so resume
works the same. Without an address a local Ray instance is started (and stopped after).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from agentless.config import Config
from agentless.errors import ConfigError
from agentless.model import CallRecord, Completion, Usage
from agentless.pipeline import Services
from agentless.runner._context import Finished, Job, TaskContext, execute
from agentless.runner._scheduler import Hub, StoreSink
from agentless.store import Store, TestRunRecord
from agentless.tasks import Task

# A local instance on a small machine: the object store only carries task results.
LOCAL_OBJECT_STORE_BYTES = 100 * 1024 * 1024


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "the ray executor needs Ray: pip install 'agentless-repair[ray]' (or use "
            "--executor local)"
        ) from None
    return ray


class _EventQueue:
    """Progress events kept by the actor until the driver drains them into its board."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.lock = threading.Lock()

    def _add(self, name: str, *args: Any) -> None:
        with self.lock:
            self.events.append((name, args))

    def started(self, instance_id: str) -> None:
        self._add("started", instance_id)

    def stage(self, instance_id: str, name: str, detail: str) -> None:
        self._add("stage", instance_id, name, detail)

    def activity(self, instance_id: str, text: str) -> None:
        self._add("activity", instance_id, text)

    def model_call(self, usage: Usage) -> None:
        self._add("model_call", usage)

    def drain(self) -> list[tuple[str, tuple[Any, ...]]]:
        with self.lock:
            events, self.events = self.events, []
        return events


class DriverActor:
    """Runs on the driver's node: the store, the progress events, the model slots."""

    def __init__(self, store_path: str, job: str, fingerprint: str, model_slots: int) -> None:
        self.queue = _EventQueue()
        self.store = Store(Path(store_path))
        self.sink = StoreSink(self.store, job, fingerprint, self.queue)
        self.slots = threading.BoundedSemaphore(model_slots)

    def begin(self, instance_id: str) -> None:
        self.sink.begin(instance_id)

    def stage(self, instance_id: str, name: str, detail: str) -> None:
        self.sink.stage(instance_id, name, detail)

    def activity(self, instance_id: str, text: str) -> None:
        self.sink.activity(instance_id, text)

    def cached_samples(self, key: str, n: int) -> dict[int, Completion]:
        return self.sink.cached_samples(key, n)

    def record_call(self, instance_id: str, call: CallRecord) -> None:
        self.sink.record_call(instance_id, call)

    def record_test_run(self, run: TestRunRecord) -> None:
        self.sink.record_test_run(run)

    def recall(self, instance_id: str, name: str, key: str) -> Any:
        return self.sink.recall(instance_id, name, key)

    def keep(self, instance_id: str, name: str, key: str, value: Any) -> None:
        self.sink.keep(instance_id, name, key, value)

    def acquire(self) -> None:
        self.slots.acquire()

    def release(self) -> None:
        self.slots.release()

    def drain(self) -> list[tuple[str, tuple[Any, ...]]]:
        return self.queue.drain()

    def close(self) -> None:
        self.store.close()


class _ActorSink:
    """A worker's ``Sink``: each call goes to the driver's actor."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.ray = _ray()

    def _call(self, name: str, *args: Any) -> Any:
        return self.ray.get(getattr(self.actor, name).remote(*args))

    def begin(self, instance_id: str) -> None:
        self._call("begin", instance_id)

    def stage(self, instance_id: str, name: str, detail: str) -> None:
        self._call("stage", instance_id, name, detail)

    def activity(self, instance_id: str, text: str) -> None:
        self.actor.activity.remote(instance_id, text)  # progress only: no need to wait

    def cached_samples(self, key: str, n: int) -> dict[int, Completion]:
        return dict(self._call("cached_samples", key, n))

    def record_call(self, instance_id: str, call: CallRecord) -> None:
        self._call("record_call", instance_id, call)

    def record_test_run(self, run: TestRunRecord) -> None:
        self._call("record_test_run", run)

    def recall(self, instance_id: str, name: str, key: str) -> Any:
        return self._call("recall", instance_id, name, key)

    def keep(self, instance_id: str, name: str, key: str, value: Any) -> None:
        self._call("keep", instance_id, name, key, value)


class _ActorSlots:
    """The run's model slots, counted by the actor for every worker of the cluster."""

    def __init__(self, sink: _ActorSink) -> None:
        self.sink = sink

    def __enter__(self) -> None:
        self.sink._call("acquire")

    def __exit__(self, *exc: object) -> None:
        self.sink._call("release")


# Services per worker process and configuration: workspace caches and environments are
# built once per process, as the local executor builds them once per run.
_SERVICES: dict[str, Services] = {}
_TRANSPORT: list[Any] = []


def _services(config: Config) -> Services:
    from agentless.runner import build_services

    key = json.dumps(config.model_dump(mode="json", exclude={"model": {"api_key"}}), sort_keys=True)
    if key not in _SERVICES:
        _SERVICES[key] = build_services(config)
    return _SERVICES[key]


def _transport() -> Any:
    from agentless.runner._executors import shared_transport

    if not _TRANSPORT:
        _TRANSPORT.append(shared_transport())
    return _TRANSPORT[0]


def run_remote(job: Job[Any], task: Task, actor: Any) -> Finished:
    """The body of one Ray task: the same ``execute`` the local executor runs."""
    sink = _ActorSink(actor)
    sink.begin(task.instance_id)
    ctx = TaskContext(
        instance_id=task.instance_id,
        config=job.config,
        services=_services(job.config),
        sink=sink,
        stop=threading.Event(),  # Ray's cancel interrupts the task instead
        model_slots=_ActorSlots(sink),
        transport=_transport(),
    )
    finished = execute(job, task, ctx)
    finished.exception = None  # the message travels; the object may not unpickle
    return finished


class RayExecutor:
    """Runs up to ``workers`` tasks at once as Ray tasks (each reserving
    ``run.ray_cpus_per_task`` CPUs)."""

    def __init__(
        self, *, workers: int = 1, address: str | None = None, config: Config, **_: Any
    ) -> None:
        self.workers = max(1, workers)
        self.address = address
        self.config = config
        self._inflight: dict[Any, str] = {}
        self._cancelled = False

    @contextlib.contextmanager
    def _cluster(self) -> Iterator[Any]:
        ray = _ray()
        started = not ray.is_initialized()
        if started and self.address:
            ray.init(address=self.address, log_to_driver=False)
        elif started:
            # Sized so that --workers tasks fit (they mostly wait for the model); the run's
            # sandbox still bounds each worker process's test commands by the real cores.
            ray.init(
                num_cpus=max(os.cpu_count() or 1, self.workers),
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                include_dashboard=False,
                log_to_driver=False,
            )
        try:
            yield ray
        finally:
            if started:
                ray.shutdown()

    def run(self, tasks: Sequence[Task], hub: Hub) -> Iterator[Finished]:
        with self._cluster() as ray:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = ray.get_runtime_context().get_node_id()
            actor = (
                ray.remote(DriverActor)
                .options(
                    num_cpus=0,
                    max_concurrency=4 * self.workers + 8,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False),
                )
                .remote(
                    str(hub.store_path),
                    hub.job.name,
                    hub.sink.fingerprint,
                    hub.model_concurrency,
                )
            )
            remote = ray.remote(run_remote).options(
                num_cpus=self.config.run.ray_cpus_per_task, max_retries=0
            )
            try:
                yield from self._loop(ray, remote, actor, list(tasks), hub)
            finally:
                with contextlib.suppress(Exception):
                    ray.get(actor.close.remote(), timeout=10)
                ray.kill(actor)

    def _loop(
        self, ray: Any, remote: Any, actor: Any, todo: list[Task], hub: Hub
    ) -> Iterator[Finished]:
        todo.reverse()
        while todo or self._inflight:
            while todo and len(self._inflight) < self.workers and not hub.stop.is_set():
                task = todo.pop()
                self._inflight[remote.remote(hub.job, task, actor)] = task.instance_id
            if not self._inflight:
                break
            ready, _ = ray.wait(list(self._inflight), num_returns=1, timeout=0.25)
            self._forward(ray, actor, hub)
            for ref in ready:
                yield self._result(ray, ref, self._inflight.pop(ref), hub)
            if hub.stop.is_set():
                self._cancel_all(ray)
                if hub.done_waiting(lambda: bool(self._inflight)):
                    break
        self._forward(ray, actor, hub)

    def _result(self, ray: Any, ref: Any, instance_id: str, hub: Hub) -> Finished:
        try:
            finished: Finished = ray.get(ref)
            return finished
        except (ray.exceptions.TaskCancelledError, ray.exceptions.RayError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if hub.stop.is_set():
                return Finished(instance_id, "interrupted", error=error)
            return Finished(instance_id, "failed", error=error)

    def _forward(self, ray: Any, actor: Any, hub: Hub) -> None:
        for name, args in ray.get(actor.drain.remote()):
            getattr(hub.board, name)(*args)

    def _cancel_all(self, ray: Any) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        for ref in list(self._inflight):
            with contextlib.suppress(Exception):
                ray.cancel(ref)

    def cancel(self) -> None:
        """Running Ray tasks are cancelled from the run loop once the stop is seen."""
