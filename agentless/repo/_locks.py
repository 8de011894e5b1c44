"""An exclusive lock on a file, between processes and between threads of one process."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(
    path: Path, *, wait: bool = True, while_waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created, with its folder, when missing).

    With ``wait=False`` a lock held elsewhere raises ``BlockingIOError`` at once.
    ``while_waiting`` is called between tries while another holder has the lock (a long
    build, say); it may raise to give up waiting (agentless is stopping). The kernel drops the
    lock when its holder dies, even by SIGKILL.
    """
    import fcntl  # POSIX only; imported here so the module imports everywhere

    path.parent.mkdir(parents=True, exist_ok=True)
    # Each call opens its own file description, so threads of one process exclude each
    # other as well as separate processes do.
    with path.open("a") as fh:
        if not wait or while_waiting is None:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    while_waiting()
                    time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
