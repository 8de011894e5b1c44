"""Child processes that never outlive agentless: one launcher, one killer, one scrubber.

Every sandboxed command and every environment build step starts here:

- ``guarded(argv)`` prefixes a command with the launcher (``_sandbox_init.py --parent``),
  which arms ``PR_SET_PDEATHSIG``: when agentless dies, even by ``kill -9``, the kernel kills
  the child; namespaces started below it (``unshare --kill-child``, ``bwrap
  --die-with-parent``) take their whole process tree with them.
- ``process_group(argv, ...)`` runs it as the leader of a new session, registered so that
  ``stop_all()`` (SIGTERM, Ctrl-C) kills every live tree at once; afterwards new runs raise
  ``Stopped`` instead of starting.
- ``kill_tree(proc)`` SIGKILLs a process group and the descendants that left it.
- ``scrub_environment`` is the one allow-list of variables for untrusted commands, and
  ``build_environment`` the one deny-list for installs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

INIT_SCRIPT = Path(__file__).with_name("_sandbox_init.py")

# Variables passed through to untrusted commands; everything else is dropped.
_PASS_THROUGH = ("PATH", "TZ", "TERM", "SOURCE_DATE_EPOCH")
# Names of variables that carry credentials: they reach no child process, not even when a
# caller passes them explicitly.
CREDENTIAL_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION)", re.I)
# Untrusted commands also lose proxy settings; installs keep them (the registry may need them).
_PROXY_NAME = re.compile("PROXY", re.I)
_BUILD_DROPPED = ("PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV", "PIP_USER")


class Stopped(KeyboardInterrupt):
    """agentless is stopping (SIGTERM, Ctrl-C): no new process starts, running ones die."""


_live: set[subprocess.Popen[Any]] = set()
# States of /proc/<pid>/stat ("" when the process is gone); a tree deeper than this many
# generations started while it was being stopped is not a test run.
_DEAD = ("", "Z", "X")
_STOPPED = (*_DEAD, "T", "t")
_FREEZE_ROUNDS = 20
_live_lock = threading.RLock()  # reentrant: the signal handler may come while its thread holds it
_stopping = threading.Event()
# How deep the main thread is in starting a process (between fork and registration), where the
# stop handler must not raise: a process forked there would be known to nobody and outlive
# the stop. The handler then only stops; ``process_group`` raises once it is registered.
_main_starting = 0


def scrub_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment an untrusted command sees: an allow-list, never secrets or proxies."""
    env = {name: os.environ[name] for name in _PASS_THROUGH if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    for name, value in (extra or {}).items():
        if CREDENTIAL_NAME.search(name) or _PROXY_NAME.search(name):
            log.debug("sandbox: dropped variable %s", name)
            continue
        env[name] = value
    return env


def build_environment(venv: Path | None = None) -> dict[str, str]:
    """The environment of an install step: the caller's, minus credentials and Python
    overrides, with ``venv`` (when given) first on PATH."""
    env = {k: v for k, v in os.environ.items() if not CREDENTIAL_NAME.search(k)}
    for name in _BUILD_DROPPED:
        env.pop(name, None)
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def guarded(argv: Sequence[str], *init_options: str) -> list[str]:
    """``argv`` behind the launcher, which ties it to this process's life."""
    return [
        sys.executable, "-I", "-S", str(INIT_SCRIPT), "--parent", str(os.getpid()),
        *init_options, "--", *argv,
    ]  # fmt: skip


def stopping() -> bool:
    """True once ``stop_all`` ran."""
    return _stopping.is_set()


def check_not_stopping() -> None:
    """Raise ``Stopped`` when agentless is stopping."""
    if _stopping.is_set():
        raise Stopped()


def stop_all() -> None:
    """Kill every live process tree and refuse new ones (for SIGTERM / Ctrl-C handlers)."""
    _stopping.set()
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        kill_tree(proc)


def clear_stop() -> None:
    """Let processes start again after a stop (a new run in the same interpreter)."""
    _stopping.clear()


@contextlib.contextmanager
def process_group(
    argv: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.STDOUT,
    text: bool = False,
) -> Iterator[subprocess.Popen[Any]]:
    """Start ``argv`` as the leader of a new session; nothing of it outlives the block."""
    check_not_stopping()
    with _starting():
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            text=text,
            errors="replace" if text else None,
        )
        with _live_lock:
            _live.add(proc)
    try:
        # A stop that came while it started (after the check above) did not see it: ``stop_all``
        # flags the stop before it reads the live set, so one of the two always kills it.
        check_not_stopping()
        yield proc
    finally:
        kill_tree(proc)
        if proc.poll() is None:
            proc.wait()
        with _live_lock:
            _live.discard(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def _starting() -> Iterator[None]:
    """Mark the main thread as starting a process (see ``_main_starting``)."""
    global _main_starting
    main = threading.current_thread() is threading.main_thread()
    _main_starting += main
    try:
        yield
    finally:
        _main_starting -= main


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, read from /proc (empty where /proc is missing)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = entry.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the process group, and descendants that started sessions of their own."""
    stray = _freeze(proc.pid) if proc.poll() is None else []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in stray:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    _wait_until_dead(stray)


def _freeze(leader: int) -> list[int]:
    """Stop the group and then each descendant until no new one appears; the descendants.

    A list read while the tree runs can miss a child forked just after it: bubblewrap forks
    its namespace's first process, which starts a session of its own (out of the group's
    reach) and arms its parent-death signal only after the fork, so a stop right after a
    start left that child and the test under it running, orphaned, after agentless exited
    (1 in ~50 stops under load). A stopped process cannot fork, so once every process found
    is stopped a new reading that finds no one new is the whole tree."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, signal.SIGSTOP)
    frozen: list[int] = []
    for _ in range(_FREEZE_ROUNDS):
        _wait_until(lambda pid: _state(pid) in _STOPPED, [leader, *frozen])
        new = [pid for pid in descendants(leader) if pid not in frozen]
        if not new:
            break
        for pid in new:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        frozen += new
    return frozen


def _wait_until_dead(pids: Sequence[int], within: float = 5.0) -> None:
    """Return once every one of ``pids`` has died (or after ``within`` seconds): SIGKILL is
    delivered asynchronously, and on a loaded machine a killed test (one leading a PID
    namespace, above all) still ran for a moment after agentless had exited."""
    _wait_until(lambda pid: _state(pid) in _DEAD, pids, within)


def _wait_until(done: Callable[[int], bool], pids: Sequence[int], within: float = 1.0) -> None:
    deadline = time.monotonic() + within
    waiting = list(pids)
    while waiting and time.monotonic() < deadline:
        waiting = [pid for pid in waiting if not done(pid)]
        if waiting:
            time.sleep(0.005)


def _state(pid: int) -> str:
    """``pid``'s state letter from /proc (R, S, T, Z, ...), or "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def run_captured(
    argv: Sequence[str], *, cwd: Path | None, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a guarded group to completion and capture its output; at the time limit the whole
    group is killed and ``TimeoutExpired`` raised. Raises ``Stopped`` when interrupted."""
    with process_group(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc)
            proc.communicate()
            raise
    check_not_stopping()
    return subprocess.CompletedProcess(list(argv), proc.returncode, stdout, stderr)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs (in the main thread), SIGTERM and SIGINT kill every live process
    tree and raise ``Stopped`` here, so that context managers remove what they made."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        stop_all()
        if not _main_starting:
            raise Stopped()

    previous = {num: signal.signal(num, handler) for num in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for num, old in previous.items():
            signal.signal(num, old)
