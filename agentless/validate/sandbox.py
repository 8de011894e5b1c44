"""Run untrusted commands (repository tests, model-written scripts) in isolation.

Isolation, strongest available first:

- ``bwrap`` (bubblewrap, when installed): new network, PID, IPC and UTS namespaces; the whole
  file system read-only except the worktree, a scratch folder and paths the caller names.
- ``unshare``: new network and PID namespaces (``--user --map-root-user`` as a normal user).
- ``none``: only with an explicit opt-out (``--no-isolation``), logged as a warning.

In every mode the network namespace holds loopback alone, the whole process tree is killed at
the time limit, memory is capped with ``RLIMIT_AS``, output is capped (head and tail kept), and
the environment is rebuilt from an allow-list so API keys and proxy settings never reach it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agentless.errors import SandboxUnavailableError

if TYPE_CHECKING:
    from agentless.config import ValidateConfig

log = logging.getLogger(__name__)

Isolation = Literal["bwrap", "unshare", "none"]

_INIT_SCRIPT = Path(__file__).with_name("_sandbox_init.py")

# Variables passed through from the parent; everything else is dropped.
_PASS_THROUGH = ("PATH", "TZ", "TERM", "SOURCE_DATE_EPOCH")
# Names that must never enter the sandbox, even when a caller passes them explicitly.
_SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PROXY)", re.IGNORECASE
)


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed command did. ``exit_code`` is ``None`` when it was killed."""

    argv: tuple[str, ...]
    exit_code: int | None
    output: str
    timed_out: bool
    truncated: bool
    duration: float
    isolation: Isolation

    @property
    def ok(self) -> bool:
        """Exited by itself with status 0."""
        return self.exit_code == 0 and not self.timed_out


def scrub_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a sandboxed command sees: an allow-list, never secrets or proxies."""
    env = {name: os.environ[name] for name in _PASS_THROUGH if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    for name, value in (extra or {}).items():
        if _SECRET_NAME.search(name):
            log.debug("sandbox: dropped variable %s", name)
            continue
        env[name] = value
    return env


class Sandbox:
    """Runs commands isolated from the network, bounded in time, memory and output.

    ``isolation=False`` is the explicit opt-out: commands then run with the same limits but
    with the machine's network, and a warning is logged once.
    """

    def __init__(
        self,
        *,
        isolation: bool = True,
        timeout: float = 1800.0,
        memory_mb: int = 8192,
        max_output_bytes: int = 16 * 1024 * 1024,
        use_bwrap: bool = True,
    ) -> None:
        self.timeout = timeout
        self.memory_bytes = max(0, memory_mb) * 1024 * 1024
        self.max_output_bytes = max_output_bytes
        self._wanted = isolation
        self._use_bwrap = use_bwrap
        self._mode: Isolation | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: ValidateConfig) -> Sandbox:
        """A sandbox with the limits of a ``ValidateConfig``."""
        return cls(
            isolation=config.isolation,
            timeout=config.timeout,
            memory_mb=config.memory_mb,
            max_output_bytes=config.max_output_bytes,
            use_bwrap=config.use_bwrap,
        )

    @property
    def isolation(self) -> Isolation:
        """The mode in use; probes the machine on first use and raises when none works."""
        with self._lock:
            if self._mode is None:
                self._mode = self._choose_mode()
            return self._mode

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        writable: Sequence[Path] = (),
    ) -> SandboxResult:
        """Run ``argv`` in ``cwd`` (writable) and return what happened; never raises for a
        failing command, only for a sandbox that cannot start."""
        mode = self.isolation
        limit = self.timeout if timeout is None else timeout
        with tempfile.TemporaryDirectory(prefix="agentless-sbx-") as scratch:
            full_env = scrub_environment(env)
            full_env.update({"HOME": scratch, "TMPDIR": scratch})
            paths = [Path(cwd), Path(scratch), *map(Path, writable)]
            wrapped = self._wrap(mode, list(argv), Path(cwd), paths)
            return self._execute(wrapped, tuple(argv), Path(cwd), full_env, limit, mode)

    # --- modes ----------------------------------------------------------------------------

    def _choose_mode(self) -> Isolation:
        if not self._wanted:
            log.warning(
                "sandbox isolation is OFF (--no-isolation): tests and scripts run with "
                "this machine's network and file system"
            )
            return "none"
        reasons: list[str] = []
        candidates: list[Isolation] = ["bwrap", "unshare"] if self._use_bwrap else ["unshare"]
        for mode in candidates:
            problem = self._probe(mode)
            if problem is None:
                log.debug("sandbox: using %s", mode)
                return mode
            reasons.append(f"{mode}: {problem}")
        raise SandboxUnavailableError(
            "cannot create an isolated network namespace ("
            + "; ".join(reasons)
            + "). Install bubblewrap or util-linux `unshare` and allow user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1), or pass --no-isolation to run "
            "tests without isolation (unsafe)."
        )

    def _probe(self, mode: Isolation) -> str | None:
        tool = "bwrap" if mode == "bwrap" else "unshare"
        if shutil.which(tool) is None:
            return "not installed"
        with tempfile.TemporaryDirectory(prefix="agentless-probe-") as scratch:
            argv = [sys.executable, "-I", "-S", "-c", "pass"]
            wrapped = self._wrap(mode, argv, Path(scratch), [Path(scratch)])
            try:
                proc = subprocess.run(
                    wrapped,
                    capture_output=True,
                    text=True,
                    timeout=30,
                    env=scrub_environment(),
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                return str(exc)
        if proc.returncode != 0:
            return (proc.stderr.strip() or f"exit status {proc.returncode}")[-300:]
        return None

    def _wrap(self, mode: Isolation, argv: list[str], cwd: Path, writable: list[Path]) -> list[str]:
        init = [sys.executable, "-I", "-S", str(_INIT_SCRIPT), "--memory", str(self.memory_bytes)]
        if mode == "bwrap":
            return [*_bwrap_prefix(cwd, writable), *init, "--", *argv]
        if mode == "unshare":
            return [*_unshare_prefix(), *init, "--loopback", "--", *argv]
        return [*init, "--", *argv]

    # --- execution ------------------------------------------------------------------------

    def _execute(
        self,
        wrapped: list[str],
        argv: tuple[str, ...],
        cwd: Path,
        env: dict[str, str],
        limit: float,
        mode: Isolation,
    ) -> SandboxResult:
        start = time.monotonic()
        capture = _CappedCapture(self.max_output_bytes)
        with _process_group(wrapped, cwd, env) as proc:
            assert proc.stdout is not None
            stop = threading.Event()
            reader = threading.Thread(
                target=capture.drain, args=(proc.stdout.fileno(), stop), daemon=True
            )
            reader.start()
            timed_out = False
            try:
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill_tree(proc)  # at the limit, or stragglers the command left behind
            proc.wait()
            # Whatever still holds the pipe open (a process that escaped) must not block us.
            reader.join(timeout=2)
            stop.set()
            reader.join()
        return SandboxResult(
            argv=argv,
            exit_code=None if timed_out else proc.returncode,
            output=capture.text(),
            timed_out=timed_out,
            truncated=capture.truncated,
            duration=time.monotonic() - start,
            isolation=mode,
        )


def _unshare_prefix() -> list[str]:
    prefix = ["unshare", "--net", "--pid", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    return [*prefix, "--"]


def _bwrap_prefix(cwd: Path, writable: list[Path]) -> list[str]:
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    args += ["--tmpfs", "/dev/shm"]
    for path in dict.fromkeys(p.resolve() for p in writable):
        if path.exists():
            args += ["--bind", str(path), str(path)]
    args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args += ["--die-with-parent", "--new-session", "--chdir", str(cwd.resolve()), "--"]
    return args


@contextlib.contextmanager
def _process_group(
    argv: list[str], cwd: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv`` as the leader of a new session; make sure nothing outlives the block."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        _kill_tree(proc)
        if proc.poll() is None:
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _descendants(pid: int) -> list[int]:
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


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group, and descendants that started sessions of their own."""
    stray = _descendants(proc.pid) if proc.poll() is None else []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in stray:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def kill_detached_children() -> int:
    """SIGKILL every process tree this process started in a session of its own (sandboxed
    commands, environment build steps), with all their descendants; returns how many trees.

    For a runner that is told to stop: those trees do not get the terminal's Ctrl-C, and
    waiting for their time limits would keep the stop waiting for minutes.
    """
    leaders = []
    for pid in _descendants(os.getpid()):
        with contextlib.suppress(OSError):
            if os.getsid(pid) == pid:
                leaders.append(pid)
    for leader in leaders:
        stray = _descendants(leader)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader, signal.SIGKILL)
        for pid in stray:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    return len(leaders)


class _CappedCapture:
    """Keeps the first and the last ``limit / 2`` bytes of a stream, drops the middle.

    The tail matters most: test runners print their summary at the end.
    """

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.dropped = 0

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def drain(self, fd: int, stop: threading.Event) -> None:
        """Read ``fd`` until end of file, or until ``stop`` is set."""
        with contextlib.suppress(OSError, ValueError):
            while not stop.is_set():
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready:
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                self._add(chunk)

    def _add(self, chunk: bytes) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail_size > self.tail_limit:
            first = self.tail[0]
            excess = self.tail_size - self.tail_limit
            if len(first) <= excess:
                self.tail.popleft()
                self.tail_size -= len(first)
                self.dropped += len(first)
            else:
                self.tail[0] = first[excess:]
                self.tail_size -= excess
                self.dropped += excess

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes of output dropped ...]\n" if self.dropped else ""
        data = bytes(self.head).decode("utf-8", "replace")
        return data + middle + b"".join(self.tail).decode("utf-8", "replace")
