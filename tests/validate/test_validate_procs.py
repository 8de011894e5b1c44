"""Process trees: what is killed is dead by the time agentless goes on."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
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


# A leader that keeps forking children into sessions of their own, as bubblewrap forks its
# namespace's first process (which leaves the group before it can be told to die with its
# parent): a kill that comes while it forks must find every child, even one forked after
# the tree was first read. The forks are bounded, in case one escapes.
FORKING = """
import os, time
for _ in range(400):
    if os.fork() == 0:
        os.setsid()
        time.sleep(60)  # {token}
        os._exit(0)
    time.sleep(0.002)
time.sleep(60)
"""


def test_a_tree_that_forks_while_it_is_killed_leaves_no_child() -> None:
    token = f"forking{random.getrandbits(64):x}"
    argv = [sys.executable, "-c", FORKING.format(token=token)]
    try:
        with procs.process_group(argv, cwd=None, env=os.environ) as proc:
            deadline = time.monotonic() + 30
            while len(procs.descendants(proc.pid)) < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            procs.kill_tree(proc)
            left = [pid for pid in _with_token(token) if _state(pid) not in ("gone", "Z", "X")]
        assert left == [], f"{len(left)} children forked during the kill are still running"
    finally:
        for pid in _with_token(token):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


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


# Rounds of: Ctrl-C at a random moment of a process's start, under `stop_on_signals`. Run in a
# process of its own (the signal goes to the whole interpreter); it prints the survivors.
SIGNAL_RACE = """
import json, os, random, signal, sys, threading, time
from pathlib import Path
from agentless.validate import _procs as procs

token = sys.argv[1]
argv = [sys.executable, "-c", "import time; time.sleep(20)", token]
signal.signal(signal.SIGINT, lambda *args: None)  # a signal after the block: ignored
survivors = []
for _ in range(int(sys.argv[2])):
    procs.clear_stop()
    timer = threading.Timer(random.uniform(0, 0.004), os.kill, (os.getpid(), signal.SIGINT))
    try:
        with procs.stop_on_signals():
            timer.start()
            with procs.process_group(argv, cwd=None, env={}) as proc:
                # Not proc.wait(): a signal the kernel hands to the timer's thread would not
                # interrupt the main thread's waitpid, and the handler would run 20 s late.
                while proc.poll() is None:
                    time.sleep(0.01)
    except procs.Stopped:
        pass
    timer.join()
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token.encode() in entry.read_bytes() and int(entry.parent.name) != os.getpid():
                survivors.append(int(entry.parent.name))
                os.kill(int(entry.parent.name), signal.SIGKILL)
        except OSError:
            pass
print(json.dumps(survivors))
"""


def test_a_signal_while_a_process_starts_does_not_leave_it_running(tmp_path: Path) -> None:
    # The stop handler raised wherever the main thread was: inside Popen, after the fork and
    # before the process was registered, nothing killed it (SIGINT in `make test`, 1 of 5 runs).
    token = f"signal-race-{time.time_ns()}"
    script = tmp_path / "race.py"
    script.write_text(SIGNAL_RACE)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, str(script), token, "150"], env=env, capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
