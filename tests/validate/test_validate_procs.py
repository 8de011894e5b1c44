"""Process trees: what is killed is dead by the time agentless goes on."""

from __future__ import annotations

import os
import sys
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
