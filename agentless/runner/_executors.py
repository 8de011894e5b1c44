"""The local executor: tasks on a pool of threads in this process.

Threads suit this work: a task mostly waits, for the model (HTTP) or for a test command (a
subprocess), and they share one store connection pool, one workspace and one set of caches.
How many tasks run at once is ``--workers``; model requests and test commands have their own
limits (``run.model_concurrency``, ``run.test_concurrency``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from agentless.runner._context import Finished, TaskContext, execute
from agentless.runner._scheduler import Hub
from agentless.tasks import Task


def shared_transport() -> httpx.HTTPTransport:
    """One HTTP connection pool for the model clients of every task of a run."""
    return httpx.HTTPTransport(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64)
    )


class LocalExecutor:
    """Runs up to ``workers`` tasks at once on daemon threads."""

    def __init__(self, *, workers: int = 1, **_: Any) -> None:
        self.workers = max(1, workers)

    def run(self, tasks: Sequence[Task], hub: Hub) -> Iterator[Finished]:
        todo: queue.Queue[Task] = queue.Queue()
        for task in tasks:
            todo.put(task)
        results: queue.Queue[Finished] = queue.Queue()
        slots = threading.BoundedSemaphore(hub.model_concurrency)
        transport = shared_transport()

        def work() -> None:
            while not hub.stop.is_set():
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    return
                ctx = TaskContext(
                    instance_id=task.instance_id,
                    config=hub.job.config,
                    services=hub.services,
                    sink=hub.sink,
                    stop=hub.stop,
                    model_slots=slots,
                    transport=transport,
                )
                hub.sink.begin(task.instance_id)
                results.put(execute(hub.job, task, ctx))

        # Daemon threads: a task stuck in a model reply must not keep a stopped run alive.
        threads = [
            threading.Thread(target=work, name=f"task-{n}", daemon=True)
            for n in range(min(self.workers, len(tasks)))
        ]
        for thread in threads:
            thread.start()
        remaining = {task.instance_id for task in tasks}
        try:
            yield from self._collect(results, remaining, threads, hub)
        finally:
            for thread in threads:
                thread.join(timeout=0 if hub.stop.is_set() else 1.0)
            if not any(t.is_alive() for t in threads):
                transport.close()

    def _collect(
        self,
        results: queue.Queue[Finished],
        remaining: set[str],
        threads: list[threading.Thread],
        hub: Hub,
    ) -> Iterator[Finished]:
        while remaining:
            try:
                outcome = results.get(timeout=0.2)
            except queue.Empty:
                if hub.stop.is_set() and hub.done_waiting(
                    lambda: any(t.is_alive() for t in threads)
                ):
                    break
                if not any(t.is_alive() for t in threads) and results.empty():
                    break
                continue
            remaining.discard(outcome.instance_id)
            yield outcome

    def cancel(self) -> None:
        """Nothing to do: workers see the stop event at their next step."""
