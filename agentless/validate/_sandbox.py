"""Run untrusted commands (repository tests, model-written scripts) in isolation.

What validation needs of a sandbox is ``SandboxProtocol`` (``run`` a command isolated, name the
``isolation``); ``Sandbox`` is the implementation every command uses by default, and any
object with those two members can take its place (a container runner, say).

``Sandbox``'s isolation, strongest available first; the modes are a registry (``MODES``, read
through ``errors.lookup``; ``Sandbox(mode=...)`` pins one):

- ``bwrap`` (bubblewrap, when installed): new network, PID, IPC and UTS namespaces.
- ``unshare``: new mount, network and PID namespaces (``--user --map-root-user`` as a normal
  user), with the file system set up by our own init (``_sandbox_init.py``).
- ``none``: only with an explicit opt-out (``--no-isolation``), logged as a warning.

In both isolated modes the network namespace holds loopback alone (plus black-holed ranges
where connects time out as on a real network), every mount is read-only except the worktree
and the paths the caller names, and ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``HOME`` are
private and vanish with the namespace. In every mode the whole process tree is killed at the
time limit and when agentless dies (``kill -9`` included, see ``procs``), memory is capped
with ``RLIMIT_AS``, output is capped (head and tail kept), and the environment is rebuilt
from an allow-list so API keys and proxy settings never reach it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from agentless.errors import SandboxUnavailableError, lookup
from agentless.validate import _procs as procs
from agentless.validate._procs import scrub_environment

if TYPE_CHECKING:
    from agentless.config import ValidateConfig

log = logging.getLogger(__name__)

__all__ = [
    "MODES",
    "Fixture",
    "Sandbox",
    "SandboxProtocol",
    "SandboxResult",
    "scrub_environment",
]

# Addresses suites use to provoke a connect *timeout* (requests' and urllib3's TARPIT,
# the reserved class E range); never a name server, whose queries must fail at once.
BLACKHOLES = ("10.255.255.1/32", "240.0.0.0/4")
PRIVATE_HOME = "/tmp/home"
# Folders both isolated modes replace with empty private ones.
PRIVATE_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")
SCRATCH_PREFIX = "agentless-sbx-"


@dataclass(frozen=True)
class Fixture:
    """A helper server started inside the sandbox before the command (e.g. a local httpbin);
    the command runs once it listens on ``port`` (loopback of the sandbox's own network)."""

    argv: tuple[str, ...]
    port: int
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed command did. ``exit_code`` is ``None`` when it was killed;
    ``output`` is stdout and stderr together; ``isolation`` names how it was isolated (one of
    ``MODES``, or another sandbox's own name)."""

    argv: tuple[str, ...]
    exit_code: int | None
    output: str
    timed_out: bool
    truncated: bool
    duration: float
    isolation: str

    @property
    def ok(self) -> bool:
        """Exited by itself with status 0."""
        return self.exit_code == 0 and not self.timed_out


class SandboxProtocol(Protocol):
    """What the validators, the evaluator and the exercise runs need of a sandbox.

    ``run`` executes ``argv`` in ``cwd`` (writable) and returns what happened, for a failing
    or timed-out command too; it raises only when it cannot isolate the command
    (``SandboxUnavailableError``) or agentless is stopping. The command sees no network but
    loopback, the system read-only, ``env`` on top of an environment without secrets,
    ``readable`` folders (environments) read-only, and the ``fixtures`` (helper servers)
    listening before it starts; ``timeout`` seconds and ``memory_mb`` bound it (``None``: the
    sandbox's own limits), and nothing it starts outlives the call. ``isolation`` names the
    isolation in use; it raises as ``run`` does, so callers read it to fail before any work.
    """

    @property
    def isolation(self) -> str:
        """The isolation in use (a mode name)."""
        ...

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        readable: Sequence[Path] = (),
        fixtures: Sequence[Fixture] = (),
        memory_mb: int | None = None,
    ) -> SandboxResult:
        """Run ``argv`` isolated (see the class docstring)."""
        ...


@dataclass(frozen=True)
class Paths:
    """What a command may see besides the read-only system: ``writable`` folders (the first
    is its working directory) and ``readable`` ones (environments: needed when they sit in a
    folder the sandbox replaces, such as ``/tmp``)."""

    writable: list[Path]
    readable: list[Path]


@dataclass(frozen=True)
class Launch:
    """A wrapped command line and the variables its mode sets (``HOME``, ``TMPDIR``)."""

    argv: list[str]
    env: dict[str, str]


class Mode(Protocol):
    """One way of isolating a command."""

    tool: str

    def launch(
        self, argv: list[str], cwd: Path, paths: Paths, init: list[str], scratch: Path
    ) -> Launch: ...


def _init(*options: str) -> list[str]:
    return [sys.executable, "-I", "-S", str(procs.INIT_SCRIPT), *options]


class _Bwrap:
    tool = "bwrap"

    def launch(
        self, argv: list[str], cwd: Path, paths: Paths, init: list[str], scratch: Path
    ) -> Launch:
        args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        for folder in PRIVATE_FOLDERS:
            if Path(folder).is_dir():
                args += ["--tmpfs", folder]
        binds = [("--ro-bind", p) for p in paths.readable if p.is_dir()]
        binds += [("--bind", p) for p in paths.writable]
        for flag, path in sorted(binds, key=lambda bind: len(str(bind[1]))):
            args += [flag, str(path), str(path)]
        args += ["--dir", PRIVATE_HOME, "--unshare-net", "--unshare-pid", "--unshare-ipc"]
        args += [
            "--unshare-uts",
            "--die-with-parent",
            "--new-session",
            "--cap-add",
            "CAP_NET_ADMIN",
        ]
        args += ["--chdir", str(cwd), "--", *_init(*init), "--", *argv]
        return Launch(procs.guarded(args), {"HOME": PRIVATE_HOME, "TMPDIR": "/tmp"})


class _Unshare:
    tool = "unshare"

    def launch(
        self, argv: list[str], cwd: Path, paths: Paths, init: list[str], scratch: Path
    ) -> Launch:
        prefix = ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child"]
        if os.geteuid() != 0:
            prefix[1:1] = ["--user", "--map-root-user"]
        isolate = [arg for path in paths.writable for arg in ("--isolate-fs", str(path))]
        isolate += [arg for path in paths.readable for arg in ("--readable", str(path))]
        inner = _init(*isolate, "--loopback", *init, "--reap", "--", *argv)
        env = {"HOME": PRIVATE_HOME, "TMPDIR": "/tmp"}
        return Launch(procs.guarded([*prefix, "--", *inner]), env)


class _NoIsolation:
    tool = ""

    def launch(
        self, argv: list[str], cwd: Path, paths: Paths, init: list[str], scratch: Path
    ) -> Launch:
        # Routes would change this machine's own network: only the limits apply here.
        kept = _drop_option(init, "--blackhole")
        return Launch(procs.guarded(argv, *kept), {"HOME": str(scratch), "TMPDIR": str(scratch)})


def _resolved(paths: Sequence[Path]) -> list[Path]:
    return [Path(p).resolve() for p in paths]


def program_roots(argv: Sequence[str], search_path: str | None) -> list[Path]:
    """Folders inside ``PRIVATE_FOLDERS`` that running ``argv`` needs to see read-only.

    A checkout under ``/tmp`` (a CI clone, a scratch venv) would otherwise vanish behind the
    private ``/tmp``: our own interpreter and init script (the ``bwrap`` mode starts them inside
    the namespace) and the program ``argv`` names, each with its installation root (the
    virtual environment holding it, else the folder above its ``bin``)."""
    found = shutil.which(argv[0], path=search_path) if argv else None
    programs = [Path(sys.executable), procs.INIT_SCRIPT.parent]
    programs += [Path(sys.prefix), Path(sys.base_prefix)]
    if found:
        programs.append(Path(found))
    roots: list[Path] = []
    for program in programs:
        for path in dict.fromkeys([Path(os.path.abspath(program)), program.resolve()]):
            if _in_private_folder(path):
                roots.append(_installation_root(path))
    return list(dict.fromkeys(roots))


def _in_private_folder(path: Path) -> bool:
    return any(path.is_relative_to(Path(folder).resolve()) for folder in PRIVATE_FOLDERS)


def _installation_root(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if (parent / "pyvenv.cfg").is_file():
            return parent
    if path.parent.name == "bin":
        return path.parent.parent
    return path if path.is_dir() else path.parent


def _drop_option(options: list[str], name: str) -> list[str]:
    kept: list[str] = []
    skip = False
    for option in options:
        if skip:
            skip = False
        elif option == name:
            skip = True
        else:
            kept.append(option)
    return kept


MODES: dict[str, Mode] = {"bwrap": _Bwrap(), "unshare": _Unshare(), "none": _NoIsolation()}


def _mode(name: str) -> Mode:
    return lookup(MODES, name, "sandbox mode", hint=", or no mode (the strongest that works here)")


class Sandbox:
    """Runs commands isolated from the network and the file system, bounded in time, memory
    and output.

    ``isolation=False`` is the explicit opt-out: commands then run with the same limits but
    with the machine's network and file system, and a warning is logged once. ``mode`` pins
    one of ``MODES`` (an unknown name raises ``ConfigError`` here); by default the first of
    ``bwrap`` (unless ``use_bwrap=False``) and ``unshare`` that works on this machine.
    """

    def __init__(
        self,
        *,
        isolation: bool = True,
        mode: str | None = None,
        timeout: float = 1800.0,
        memory_mb: int = 8192,
        max_output_bytes: int = 16 * 1024 * 1024,
        use_bwrap: bool = True,
        blackholes: Sequence[str] = BLACKHOLES,
    ) -> None:
        self.timeout = timeout
        self.memory_bytes = max(0, memory_mb) * 1024 * 1024
        self.max_output_bytes = max_output_bytes
        self.blackholes = tuple(blackholes)
        self._wanted = isolation and mode != "none"
        self._pinned = mode
        if mode is not None:
            _mode(mode)  # an unknown name fails now, not at the first test run
        self._use_bwrap = use_bwrap
        self._mode: str | None = None
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
    def isolation(self) -> str:
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
        readable: Sequence[Path] = (),
        fixtures: Sequence[Fixture] = (),
        memory_mb: int | None = None,
    ) -> SandboxResult:
        """Run ``argv`` in ``cwd`` (writable, as are ``writable``; ``readable`` stay visible
        read-only) and return what happened; never raises for a failing command, only for a
        sandbox that cannot start (or ``procs.Stopped``). ``memory_mb`` overrides the memory
        cap for this command."""
        mode = self.isolation
        limit = self.timeout if timeout is None else timeout
        extra = {**(env or {}), **{k: v for f in fixtures for k, v in f.env.items()}}
        base_env = scrub_environment(extra)
        writes = list(dict.fromkeys(Path(p).resolve() for p in [cwd, *writable]))
        programs = program_roots(argv, base_env.get("PATH"))
        reads = [p for p in dict.fromkeys([*_resolved(readable), *programs]) if p not in writes]
        paths = Paths(writes, reads)
        memory = self.memory_bytes if memory_mb is None else max(0, memory_mb) * 1024 * 1024
        init = self._init_options(fixtures, memory)
        with _scratch(mode) as scratch:
            launch = _mode(mode).launch(list(argv), writes[0], paths, init, scratch)
            full_env = {**base_env, **launch.env}
            return self._execute(launch.argv, tuple(argv), writes[0], full_env, limit, mode)

    def _init_options(self, fixtures: Sequence[Fixture], memory_bytes: int) -> list[str]:
        options = ["--memory", str(memory_bytes)]
        for cidr in self.blackholes:
            options += ["--blackhole", cidr]
        for fixture in fixtures:
            options += ["--fixture", f"{fixture.port}:{json.dumps(list(fixture.argv))}"]
        return options

    # --- modes ----------------------------------------------------------------------------

    def _choose_mode(self) -> str:
        if not self._wanted:
            why = "mode 'none'" if self._pinned == "none" else "--no-isolation"
            log.warning(
                "sandbox isolation is OFF (%s): tests and scripts run with this machine's "
                "network and file system",
                why,
            )
            return "none"
        reasons: list[str] = []
        candidates = ["bwrap", "unshare"] if self._use_bwrap else ["unshare"]
        candidates = [self._pinned] if self._pinned else candidates
        for mode in candidates:
            problem = self.probe(mode)
            if problem is None:
                log.debug("sandbox: using %s", mode)
                return mode
            reasons.append(f"{mode}: {problem}")
        raise SandboxUnavailableError(
            "cannot isolate tests (network, file system and processes: "
            + "; ".join(reasons)
            + "). Install bubblewrap or util-linux `unshare` and allow user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1), or pass --no-isolation to run "
            "tests without isolation (unsafe)."
        )

    def probe(self, mode: str) -> str | None:
        """Why ``mode`` (one of ``MODES``) cannot isolate a command here (``None``: it works)."""
        tool = _mode(mode).tool
        if tool and shutil.which(tool) is None:
            return "not installed"
        with tempfile.TemporaryDirectory(prefix="agentless-probe-") as folder:
            work = Path(folder).resolve()
            argv = [sys.executable, "-I", "-S", "-c", "pass"]
            paths = Paths([work], program_roots(argv, None))
            launch = _mode(mode).launch(
                argv, work, paths, self._init_options((), self.memory_bytes), work
            )
            try:
                proc = procs.run_captured(
                    launch.argv, cwd=work, env={**scrub_environment(), **launch.env}, timeout=30
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                return str(exc)
        if proc.returncode != 0:
            return (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}")[-300:]
        return None

    # --- execution ------------------------------------------------------------------------

    def _execute(
        self,
        wrapped: list[str],
        argv: tuple[str, ...],
        cwd: Path,
        env: dict[str, str],
        limit: float,
        mode: str,
    ) -> SandboxResult:
        start = time.monotonic()
        capture = _CappedCapture(self.max_output_bytes)
        with procs.process_group(wrapped, cwd=cwd, env=env) as proc:
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
            procs.kill_tree(proc)  # at the limit, or stragglers the command left behind
            proc.wait()
            # Whatever still holds the pipe open (a process that escaped) must not block us.
            reader.join(timeout=2)
            stop.set()
            reader.join()
        procs.check_not_stopping()  # killed by a stop: not a result to record
        return SandboxResult(
            argv=argv,
            exit_code=None if timed_out else proc.returncode,
            output=capture.text(),
            timed_out=timed_out,
            truncated=capture.truncated,
            duration=time.monotonic() - start,
            isolation=mode,
        )


@contextlib.contextmanager
def _scratch(mode: str) -> Iterator[Path]:
    """A scratch home on this machine, for the unisolated mode only (the isolated modes
    have a private one). Named after our pid so that a killed run's is swept later."""
    if mode != "none":
        yield Path(PRIVATE_HOME)
        return
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as folder:
        yield Path(folder)


def sweep_scratch() -> list[Path]:
    """Remove scratch folders left by agentless processes that no longer run."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        match = re.match(rf"{SCRATCH_PREFIX}(\d+)-", folder.name)
        if match and not _alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
