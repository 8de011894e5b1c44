"""The first program of every guarded child: ties it to agentless, then sets up isolation.

Run as ``python -I -S _sandbox_init.py [options] -- ARGV...``. It uses only the standard library
so that it starts fast under any interpreter, and it is a separate script (not a
``preexec_fn``) because ``preexec_fn`` is unsafe in a threaded parent. Options, applied in
this order:

``--parent PID``
    die (SIGKILL) when the thread that started us exits, and exit at once if ``PID`` is no
    longer our parent (it died before the death signal was armed).
``--isolate-fs PATH`` / ``--readable PATH`` (repeatable; inside a new mount namespace)
    every mount read-only, private tmpfs on ``/tmp``, ``/var/tmp`` and ``/dev/shm``, a fresh
    ``/proc``; each ``--isolate-fs`` path bound back writable and each ``--readable`` path
    read-only at its own place (paths under ``/tmp`` would be hidden otherwise).
``--loopback``
    bring ``lo`` up (a new network namespace starts with it down).
``--blackhole CIDR`` (repeatable; inside a new network namespace)
    route the range into ``lo``, where packets to non-local addresses are dropped: connects
    there time out as on a real network instead of failing with "network unreachable".
``--memory BYTES``
    ``RLIMIT_AS`` for the command.
``--fixture PORT:ARGV`` (repeatable; ``ARGV`` as JSON)
    start a helper server (e.g. a local httpbin) and wait until it listens on ``PORT``.
``--reap``
    stay as the namespace's init: run the command as a child, reap orphans, exit with the
    command's status (a command that is PID 1 would ignore default-action signals).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import resource
import signal
import socket
import struct
import sys
import time

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_SIOCADDRT = 0x890B
_IFF_UP = 0x1
_RTF_UP = 0x1
_PR_SET_PDEATHSIG = 1

_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_NOATIME = 1024
_MS_NODIRATIME = 2048
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_MS_RELATIME = 1 << 21
# statvfs flag -> mount flag: flags a user namespace locks must be kept on remount.
_KEPT_FLAGS = {2: _MS_NOSUID, 4: _MS_NODEV, 8: _MS_NOEXEC, 1024: _MS_NOATIME,
               2048: _MS_NODIRATIME, 4096: _MS_RELATIME}  # fmt: skip
_PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
# Mounts that cannot always be made read-only and hold nothing a test could leave behind.
_TOLERATED = ("/proc", "/sys")

# Exit codes chosen to stay clear of what test runners use (0-5) and of shells (126-127).
EXIT_SETUP_FAILED = 125
EXIT_NOT_FOUND = 127


class SetupError(Exception):
    """Isolation could not be set up; the command must not run."""


# --- tied to the parent -----------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise SetupError(f"prctl(PR_SET_PDEATHSIG): {os.strerror(ctypes.get_errno())}")
    if os.getppid() != parent:
        os._exit(EXIT_SETUP_FAILED)  # the parent died before the signal was armed


# --- file system ------------------------------------------------------------------------------


def _libc_mount(source: str | None, target: str, fstype: str | None, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.c_ulong, ctypes.c_void_p]  # fmt: skip
    args = [None if arg is None else os.fsencode(arg) for arg in (source, target, fstype)]
    if libc.mount(*args, flags, None) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount {source or ''} {target}: {os.strerror(code)}")


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            field = line.split()[4]  # octal escapes for space, tab, newline, backslash
            points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))
    return list(dict.fromkeys(points))


def _kept_flags(path: str) -> int:
    flags = os.statvfs(path).f_flag
    return sum(mount_flag for st_flag, mount_flag in _KEPT_FLAGS.items() if flags & st_flag)


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _remount_read_only(point: str) -> None:
    try:
        flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _kept_flags(point)
        _libc_mount(None, point, None, flags)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EACCES) or _under(point, _TOLERATED):
            return
        raise SetupError(f"cannot make {point} read-only: {exc.strerror}") from None


def _isolate_filesystem(writable: list[str], readable: list[str]) -> None:
    """Everything read-only but ``writable`` and private temporary folders."""
    cwd = os.getcwd()
    _libc_mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    wanted = {path: _MS_RDONLY for path in readable if os.path.isdir(path)}
    wanted.update(dict.fromkeys(writable, 0))
    handles = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in wanted}
    for point in sorted(_mount_points(), key=len):
        _remount_read_only(point)
    for folder in _PRIVATE_TMP:
        if os.path.isdir(folder):
            _libc_mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV)
            os.chmod(folder, 0o1777)
    for path in sorted(handles, key=len):
        os.makedirs(path, exist_ok=True)  # inside a private tmpfs it must be made again
        _libc_mount(f"/proc/self/fd/{handles[path]}", path, None, _MS_BIND | _MS_REC)
        _libc_mount(None, path, None, _MS_REMOUNT | _MS_BIND | _kept_flags(path) | wanted[path])
        os.close(handles[path])
    # A masked /proc (some containers) refuses a new one; the old one is read-only then.
    with contextlib.suppress(OSError):
        _libc_mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    # The working directory still points into the read-only mount below the new bind.
    os.chdir(cwd)


# --- network ----------------------------------------------------------------------------------


def _loopback_up() -> None:
    """Set IFF_UP on ``lo``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


class _RtEntry(ctypes.Structure):
    _fields_ = [  # the layout of struct rtentry
        ("rt_pad1", ctypes.c_ulong),
        ("rt_dst", ctypes.c_ubyte * 16),
        ("rt_gateway", ctypes.c_ubyte * 16),
        ("rt_genmask", ctypes.c_ubyte * 16),
        ("rt_flags", ctypes.c_ushort),
        ("rt_pad2", ctypes.c_short),
        ("rt_pad3", ctypes.c_ulong),
        ("rt_pad4", ctypes.c_void_p),
        ("rt_metric", ctypes.c_short),
        ("rt_dev", ctypes.c_char_p),
        ("rt_mtu", ctypes.c_ulong),
        ("rt_window", ctypes.c_ulong),
        ("rt_irtt", ctypes.c_ushort),
    ]


def _sockaddr(address: str) -> ctypes.Array[ctypes.c_ubyte]:
    raw = struct.pack("=H2s4s8x", socket.AF_INET, b"\0\0", socket.inet_aton(address))
    return (ctypes.c_ubyte * 16).from_buffer_copy(raw)


def _blackhole(cidr: str) -> None:
    """Route ``cidr`` into ``lo``: with forwarding off, such packets are dropped silently."""
    address, _, bits = cidr.partition("/")
    prefix = int(bits or 32)
    mask = socket.inet_ntoa(struct.pack("!I", (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF))
    entry = _RtEntry()
    entry.rt_dst, entry.rt_genmask = _sockaddr(address), _sockaddr(mask)
    entry.rt_flags = _RTF_UP
    entry.rt_dev = b"lo"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        fcntl.ioctl(sock, _SIOCADDRT, bytes(memoryview(entry).cast("B")))


# --- helpers and the command --------------------------------------------------------------------


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _start_fixture(spec: str) -> None:
    port_text, _, argv_json = spec.partition(":")
    argv = json.loads(argv_json)
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # its request log must not enter the test log
                os.dup2(devnull, fd)
            os.execvp(argv[0], argv)
        finally:
            os._exit(EXIT_NOT_FOUND)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", int(port_text))) == 0:
                return
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            raise SetupError(f"fixture {argv[0]} exited before listening on {port_text}")
        time.sleep(0.1)
    raise SetupError(f"fixture {argv[0]} did not listen on port {port_text} within 60 s")


def _run_as_init(command: list[str]) -> int:
    child = os.fork()
    if child == 0:
        _exec(command)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda signum, frame: os.kill(child, signum))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return EXIT_SETUP_FAILED
        except InterruptedError:
            continue
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code  # as a shell reports a signal


def _exec(command: list[str]) -> None:
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"sandbox: cannot run {command[0]!r}: {exc}\n")
    os._exit(EXIT_NOT_FOUND)


def _parse(argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    options: dict[str, list[str]] = {}
    flags = {"--loopback", "--reap"}
    while argv and argv[0] != "--":
        name = argv.pop(0)
        if name in flags:
            options.setdefault(name, []).append("")
        elif name in ("--parent", "--isolate-fs", "--readable", "--blackhole", "--memory",
                      "--fixture"):  # fmt: skip
            options.setdefault(name, []).append(argv.pop(0))
        else:
            raise SetupError(f"unknown option {name}")
    return options, argv[1:]


def _setup(options: dict[str, list[str]]) -> None:
    for parent in options.get("--parent", []):
        _die_with_parent(int(parent))
    if "--isolate-fs" in options:
        _isolate_filesystem(options["--isolate-fs"], options.get("--readable", []))
    if "--loopback" in options:
        _loopback_up()
    for cidr in options.get("--blackhole", []):
        _blackhole(cidr)
    if "--isolate-fs" in options:
        os.makedirs(os.environ.get("HOME", "/tmp/home"), exist_ok=True)
    for spec in options.get("--fixture", []):
        _start_fixture(spec)
    for memory in options.get("--memory", []):
        if int(memory) > 0:
            _limit_memory(int(memory))


def main(argv: list[str]) -> int:
    try:
        options, command = _parse(argv)
        if not command:
            raise SetupError("no command given")
        _setup(options)
    except (SetupError, OSError, ValueError) as exc:
        sys.stderr.write(f"sandbox: setup failed: {exc}\n")
        return EXIT_SETUP_FAILED
    if "--reap" in options:
        return _run_as_init(command)
    _exec(command)
    return EXIT_SETUP_FAILED  # pragma: no cover - _exec does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
