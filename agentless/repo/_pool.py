"""Sharing the per-file work of an index build between this process and helper processes.

The files are cut into chunks, largest files first; this process and each helper take the next
chunk whenever they are free, so a helper slowed down by other jobs on the machine simply does
less. A helper is a plain ``python -m agentless.repo._scan`` subprocess fed through its stdin
(not ``multiprocessing``: no resource-tracker process, no re-import of the caller's
``__main__``); a thread of this process talks to it. If a helper dies, this process scans the
chunk it held, so results never depend on helpers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from agentless.repo._scan import ScanJob, ScanResult, read_frame, scan_blobs, write_frame

logger = logging.getLogger(__name__)

Chunk = tuple[list[ScanJob], list[bytes]]


def make_chunks(jobs: Sequence[ScanJob], blobs: Sequence[bytes], target: int) -> list[Chunk]:
    """Group files into chunks of about ``target`` bytes, biggest files first."""
    order = sorted(range(len(jobs)), key=lambda i: -len(blobs[i]))
    chunks: list[Chunk] = []
    size = target
    for i in order:
        if size >= target:
            chunks.append(([], []))
            size = 0
        chunks[-1][0].append(jobs[i])
        chunks[-1][1].append(blobs[i])
        size += len(blobs[i])
    return chunks


class _Work:
    """Chunks still to do; ``take`` is safe from several threads."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._chunks = deque(chunks)
        self._lock = threading.Lock()

    def take(self) -> Chunk | None:
        with self._lock:
            return self._chunks.popleft() if self._chunks else None


def scan_shared(chunks: list[Chunk], helpers: int) -> list[ScanResult]:
    """Scan every chunk, in this process and in ``helpers`` helper processes."""
    work = _Work(chunks)
    chunks.clear()  # the queue now holds the only references: memory goes as work is done
    feeders = [_Feeder(work) for _ in range(helpers)]
    results: list[ScanResult] = []
    while (chunk := work.take()) is not None:
        results.extend(scan_blobs(*chunk))
        del chunk
    for feeder in feeders:
        results.extend(feeder.finish())
    return results


class _Feeder:
    """A helper process and the thread that hands it chunks."""

    def __init__(self, work: _Work) -> None:
        self.work = work
        self.results: list[ScanResult] = []
        # Its first chunk is taken now, before this process starts on its own share.
        self.unfinished: Chunk | None = work.take()
        self.error = ""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def finish(self) -> list[ScanResult]:
        """Wait for the helper; scan here whatever it could not finish."""
        self._thread.join()
        if self.unfinished is not None:
            logger.warning("index helper failed (%s); scanning its chunk here", self.error)
            self.results.extend(scan_blobs(*self.unfinished))
        return self.results

    def _run(self) -> None:
        with tempfile.TemporaryFile() as errors:
            try:
                proc = _start_helper(errors)
            except OSError as exc:
                self.error = str(exc)
                return
            assert proc.stdin is not None and proc.stdout is not None
            try:
                while self.unfinished is not None:
                    payload = pickle.dumps(self.unfinished, protocol=pickle.HIGHEST_PROTOCOL)
                    write_frame(proc.stdin, payload)
                    self.results.extend(pickle.loads(read_frame(proc.stdout)))
                    self.unfinished = self.work.take()
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                self.error = str(exc) or type(exc).__name__
            finally:
                with contextlib.suppress(OSError):  # a dead helper's pipe may be broken
                    proc.stdin.close()
                proc.stdout.close()
                proc.wait()
                if self.unfinished is not None:
                    errors.seek(0)
                    tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                    self.error = tail[0] if tail else self.error


def _start_helper(errors: IO[bytes]) -> subprocess.Popen[bytes]:
    import agentless

    env = dict(os.environ)
    # The helper must import this very package, also from a source tree that is not installed.
    package_root = str(Path(agentless.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "agentless.repo._scan"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        env=env,
    )
