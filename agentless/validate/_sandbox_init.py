"""First program run inside the sandbox: set limits, bring loopback up, exec the command.

Run as ``python -I -S _sandbox_init.py [--memory BYTES] [--loopback] -- ARGV...``. It uses only
the standard library so that it starts fast under any interpreter. It is a separate script
(not a ``preexec_fn``) because ``preexec_fn`` is unsafe in a threaded parent.
"""

from __future__ import annotations

import fcntl
import os
import resource
import socket
import struct
import sys

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

# Exit codes chosen to stay clear of what test runners use (0-5) and of shells (126-127).
EXIT_SETUP_FAILED = 125
EXIT_NOT_FOUND = 127


def _loopback_up() -> None:
    """Set IFF_UP on ``lo`` (a fresh network namespace starts with it down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> int:
    memory = 0
    loopback = False
    while argv and argv[0] != "--":
        flag = argv.pop(0)
        if flag == "--memory":
            memory = int(argv.pop(0))
        elif flag == "--loopback":
            loopback = True
        else:
            sys.stderr.write(f"sandbox: unknown option {flag}\n")
            return EXIT_SETUP_FAILED
    command = argv[1:]
    if not command:
        sys.stderr.write("sandbox: no command given\n")
        return EXIT_SETUP_FAILED
    try:
        if loopback:
            _loopback_up()
        if memory > 0:
            _limit_memory(memory)
    except OSError as exc:
        sys.stderr.write(f"sandbox: setup failed: {exc}\n")
        return EXIT_SETUP_FAILED
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"sandbox: cannot run {command[0]!r}: {exc}\n")
        return EXIT_NOT_FOUND
    return EXIT_SETUP_FAILED  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
