"""Progress of a scheduled run: a board that workers' events update, and two ways to show it.

On a terminal, a live display (rich): tasks done / running / failed, resolved so far, fresh
tokens and cost, ETA, and one line per running task with its stage, what it is doing and for
how long. Elsewhere (a log file, CI), plain log lines: one when a task starts a stage, one when
it ends, and a tally every half minute.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentless.model import Usage

log = logging.getLogger("agentless.runner")

TALLY_EVERY = 30.0


@dataclass
class Running:
    """What one running task is doing."""

    since: float
    stage: str = "start"
    detail: str = ""
    activity: str = ""


@dataclass
class Board:
    """Counts and running tasks of one run; every method is thread-safe."""

    title: str
    total: int
    started_at: float = field(default_factory=time.monotonic)
    done: int = 0
    failed: int = 0
    interrupted: int = 0
    skipped: int = 0
    resolved: int = 0
    graded: int = 0
    usage: Usage = field(default_factory=Usage)
    running: dict[str, Running] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)
    verbose_log: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- events -------------------------------------------------------------------------

    def earlier(self, output: Mapping[str, Any]) -> None:
        """A task finished in an earlier run (resumed over, not run again)."""
        with self._lock:
            self.skipped += 1
            self._count_grade(output)

    def started(self, instance_id: str) -> None:
        with self._lock:
            self.running[instance_id] = Running(since=time.monotonic())
        if self.verbose_log:
            log.info("%s %s: started", self._tally_prefix(), instance_id)

    def stage(self, instance_id: str, name: str, detail: str) -> None:
        with self._lock:
            task = self.running.get(instance_id)
            if task is None:
                return
            changed = task.stage != name
            task.stage, task.detail, task.activity = name, detail, ""
        if self.verbose_log and changed:
            log.info("%s %s: %s %s", self._tally_prefix(), instance_id, name, detail)

    def activity(self, instance_id: str, text: str) -> None:
        with self._lock:
            task = self.running.get(instance_id)
            if task is not None:
                task.activity = text

    def model_call(self, usage: Usage) -> None:
        with self._lock:
            self.usage = self.usage + usage

    def finished(
        self, instance_id: str, status: str, output: Mapping[str, object] | None, error: str = ""
    ) -> None:
        with self._lock:
            task = self.running.pop(instance_id, None)
            seconds = time.monotonic() - task.since if task else 0.0
            if status == "done":
                self.done += 1
                self.durations.append(seconds)
                self._count_grade(output or {})
            elif status == "failed":
                self.failed += 1
            else:
                self.interrupted += 1
        if status == "failed":
            log.warning(
                "%s %s failed after %.0fs: %s",
                self._tally_prefix(),
                instance_id,
                seconds,
                error.splitlines()[0],
            )
        elif status == "done" and self.verbose_log:
            log.info(
                "%s %s done in %.0fs: %s",
                self._tally_prefix(),
                instance_id,
                seconds,
                (output or {}).get("headline", ""),
            )

    def _count_grade(self, output: Mapping[str, object]) -> None:
        resolved = output.get("resolved")
        if resolved is not None:
            self.graded += 1
            self.resolved += int(bool(resolved))

    # --- reading --------------------------------------------------------------------------

    @property
    def finished_count(self) -> int:
        return self.done + self.failed + self.skipped

    def eta(self) -> float | None:
        """Seconds left at this run's pace so far (``None`` before the first task ends)."""
        ran = self.done + self.failed
        if not ran:
            return None
        left = self.total - self.finished_count
        pace = (time.monotonic() - self.started_at) / ran
        return max(0.0, left * pace)

    def headline(self) -> str:
        """One line: counts, resolved, tokens, cost, elapsed and ETA."""
        with self._lock:
            parts = [
                f"{self.finished_count}/{self.total} done",
                f"{len(self.running)} running",
                f"{self.failed} failed",
            ]
            if self.skipped:
                parts.append(f"{self.skipped} from earlier runs")
            if self.graded:
                parts.append(f"{self.resolved}/{self.graded} resolved")
            usage = self.usage
            parts.append(f"{usage.total_tokens:,} fresh tokens")
            if usage.calls:
                parts.append("cost unknown" if usage.cost is None else f"${usage.cost:.4f}")
            parts.append(f"elapsed {_duration(time.monotonic() - self.started_at)}")
            eta = self.eta()
            if eta is not None and self.finished_count < self.total:
                parts.append(f"ETA {_duration(eta)}")
        return f"{self.title}: " + " · ".join(parts)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(instance, stage, what it is doing, elapsed) per running task, oldest first."""
        now = time.monotonic()
        with self._lock:
            items = sorted(self.running.items(), key=lambda item: item[1].since)
            return [
                (iid, task.stage, _doing(task), _duration(now - task.since)) for iid, task in items
            ]

    def _tally_prefix(self) -> str:
        return f"[{self.finished_count}/{self.total}]"


def _doing(task: Running) -> str:
    return " · ".join(part for part in (task.detail, task.activity) if part)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@contextlib.contextmanager
def shown(board: Board, mode: str = "auto") -> Iterator[Board]:
    """Show ``board`` while the block runs: ``live`` (rich), ``log`` (plain lines), ``none``;
    ``auto`` is live on a terminal, log lines elsewhere."""
    if mode == "auto":
        mode = "live" if sys.stderr.isatty() else "log"
    if mode == "none":
        yield board
        return
    # The board says what the pipeline's own progress lines would, once per task.
    with _quiet("agentless.pipeline"):
        if mode == "live":
            with _live(board):
                yield board
        else:
            board.verbose_log = True
            with _tally(board):
                yield board
            log.info("%s", board.headline())


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(logging.WARNING, level))
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _live(board: Board) -> Iterator[None]:
    from rich.console import Console, Group
    from rich.live import Live
    from rich.table import Table
    from rich.text import Text

    def render() -> Group:
        table = Table(box=None, pad_edge=False, expand=False, show_header=True)
        for name in ("instance", "stage", "doing", "elapsed"):
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=60)
        rows = board.rows()
        for row in rows:
            table.add_row(*row)
        headline = Text(board.headline(), style="bold")
        return Group(headline, table) if rows else Group(headline)

    console = Console(stderr=True)
    handlers = _stderr_handlers()
    with Live(get_renderable=render, console=console, refresh_per_second=4, redirect_stderr=True):
        # Log records go through rich's proxy, above the live lines, instead of over them.
        previous = [(h, h.setStream(sys.stderr)) for h in handlers]
        try:
            yield
        finally:
            for handler, stream in previous:
                if stream is not None:
                    handler.setStream(stream)


def _stderr_handlers() -> list[logging.StreamHandler[Any]]:
    handlers: list[logging.StreamHandler[Any]] = []
    for logger in (logging.getLogger("agentless"), logging.getLogger()):
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
                handlers.append(handler)
    return handlers


@contextlib.contextmanager
def _tally(board: Board) -> Iterator[None]:
    stop = threading.Event()

    def every_so_often() -> None:
        while not stop.wait(TALLY_EVERY):
            log.info("%s", board.headline())

    thread = threading.Thread(target=every_so_often, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)
