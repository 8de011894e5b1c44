"""Process trees: what is killed is dead by the time agentless goes on."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

from agentless.validate import _procs as procs

# A parent whose children start sessions of their own (so the group's SIGKILL misses them),
# each with a child of its own in that session.
TREE = """
import subprocess, sys, time
for _ in range(6):
    subprocess.Popen([sys.executable, "-c",
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
        "'import time; time.sleep(600)']); time.sleep(600)"], start_new_session=True)
time.sleep(600)
"""


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_every_process_of_a_killed_tree_is_dead_when_kill_tree_returns() -> None:
    with procs.process_group([sys.executable, "-c", TREE], cwd=None, env=os.environ) as proc:
        deadline = time.monotonic() + 30
        while len(procs.descendants(proc.pid)) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = procs.descendants(proc.pid)
        assert len(tree) == 12, tree
        procs.kill_tree(proc)
        states = {pid: _state(pid) for pid in tree}
    assert all(state in ("gone", "Z", "X") for state in states.values()), states


def _with_token(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token.encode() in entry.read_bytes():
                found.append(int(entry.parent.name))
        except OSError:
            continue
    return found


def test_processes_started_while_a_stop_comes_do_not_outlive_it() -> None:
    # Eight threads start a long command each while the stop comes: before the fix, a process
    # whose start overlapped stop_all survived it in most rounds.
    token = f"stop-race-{time.time_ns()}"
    argv = [sys.executable, "-c", "import time; time.sleep(60)", token]

    def worker() -> None:
        with contextlib.suppress(procs.Stopped), procs.process_group(argv, cwd=None, env={}) as p:
            p.wait()

    survivors = []
    try:
        for _ in range(5):
            procs.clear_stop()
            threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
            for thread in threads:
                thread.start()
            time.sleep(random.uniform(0, 0.01))
            procs.stop_all()
            time.sleep(0.2)
            survivors += _with_token(token)
            for pid in _with_token(token):
                os.kill(pid, signal.SIGKILL)
            for thread in threads:
                thread.join(10)
    finally:
        procs.clear_stop()
    assert survivors == []
