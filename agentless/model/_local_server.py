"""The embedded model server: llama.cpp's OpenAI-compatible server (llama-cpp-python) on
127.0.0.1, serving a GGUF file under an alias so that ``/v1/models`` lists the name asked for.

``with local_server("qwen2.5-coder-1.5b") as endpoint:`` starts it (a free port unless one is
given), waits until ``/v1/models`` answers, and stops it on exit. The server is in its own
process group and is told to die with the process that started it (Linux's parent-death
signal), so neither Ctrl-C nor a killed parent leaves it running.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from agentless.errors import ConfigError, ModelUnavailableError
from agentless.model._local_models import resolve_model

log = logging.getLogger(__name__)

DEFAULT_CTX = 8192
_INSTALL_HINT = (
    "the embedded model server needs the `local` extra: pip install 'agentless-repair[local]' "
    '(it builds llama.cpp from source; set CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" '
    "and CMAKE_BUILD_PARALLEL_LEVEL to your core count), or `make demo` / `make test`, "
    "which do it"
)


@dataclass(frozen=True)
class LocalEndpoint:
    """A running embedded server: where to reach it and what it serves."""

    base_url: str
    model: str
    model_path: Path
    ctx: int
    pid: int
    log_path: Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_threads() -> int:
    """Half the cores, as llama-cpp-python itself defaults: llama.cpp's threads wait for each
    other by spinning, so when other work shares the cores a thread per core loses badly (here,
    with the load average near 16 on 2 cores: 23 s for a short request with one thread; with
    two it had not finished after eight minutes)."""
    return max(1, (os.cpu_count() or 2) // 2)


def server_available() -> bool:
    """True when llama-cpp-python's server can be imported by this interpreter."""
    return importlib.util.find_spec("llama_cpp") is not None


def server_argv(model_path: Path, alias: str, port: int, ctx: int, threads: int) -> list[str]:
    """The command that starts llama-cpp-python's server for one model."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
    ]


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel to kill it when the parent goes
    # away, however the parent ends (PR_SET_PDEATHSIG = 1). SIGKILL, not SIGTERM: on SIGTERM
    # the server finishes the request in progress first, which can take many minutes, and
    # nobody is left to read the answer.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


@contextlib.contextmanager
def local_server(
    model: str = "qwen2.5-coder-1.5b",
    *,
    port: int | None = None,
    ctx: int = DEFAULT_CTX,
    threads: int | None = None,
    cache_dir: Path | None = None,
    startup_timeout: float = 300.0,
    server_args: Sequence[str] = (),
) -> Iterator[LocalEndpoint]:
    """Serve ``model`` (a registry name, fetched and verified, or a .gguf path) on 127.0.0.1
    for the duration of the block; ``server_args`` go to llama-cpp-python's server as they are
    (e.g. ``["--cache", "True"]``)."""
    if not server_available():
        raise ConfigError(_INSTALL_HINT)
    model_path, alias = resolve_model(model, cache_dir)
    port = port or free_port()
    threads = threads or default_threads()
    argv = [*server_argv(model_path, alias, port, ctx, threads), *server_args]
    with tempfile.NamedTemporaryFile(
        "w+b", prefix="agentless-llama-", suffix=".log", delete=False
    ) as log_file:
        log_path = Path(log_file.name)
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # only prctl: safe between fork and exec
        )
    endpoint = LocalEndpoint(
        f"http://127.0.0.1:{port}/v1", alias, model_path, ctx, process.pid, log_path
    )
    try:
        _wait_until_ready(process, endpoint, startup_timeout)
        log.info("local model %s served at %s", alias, endpoint.base_url)
        yield endpoint
    finally:
        stop(process)
        with contextlib.suppress(OSError):
            log_path.unlink()


def _wait_until_ready(
    process: subprocess.Popen[bytes], endpoint: LocalEndpoint, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    url = f"{endpoint.base_url}/models"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ModelUnavailableError(
                f"the local model server exited with status {process.returncode} while "
                f"starting: {_tail(endpoint.log_path)}",
                url=url,
            )
        try:
            if httpx.get(url, timeout=2.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ModelUnavailableError(
        f"the local model server did not answer {url} within {timeout:.0f} s: "
        f"{_tail(endpoint.log_path)}",
        url=url,
    )


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(line for line in text.strip().splitlines()[-lines:]) or "(empty log)"
