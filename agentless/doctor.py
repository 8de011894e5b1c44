"""``agentless doctor``: check that this machine and endpoint can run the pipeline.

Each check returns a ``Check``: OK with what was found, or a failure with a fix-it line.
Nothing here is hard-wired to one machine: tools and interpreters are discovered at run time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from agentless.config import ModelConfig
from agentless.errors import ConfigError, ModelError, ModelRequestError, ModelUnavailableError
from agentless.model import OpenAICompatibleModel, safe_url

_PYTHON_NAME = re.compile(r"^python(\d)\.(\d+)$")
_VERSION_PROBE = "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3]))"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # passes, but something deserves a look (shown as WARN with its fix)


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter found on this machine."""

    version: str
    path: Path

    @property
    def major_minor(self) -> tuple[int, int]:
        """``(3, 11)`` for ``3.11.7``."""
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)


def run_checks(config: ModelConfig) -> list[Check]:
    """All checks, endpoint first."""
    return [*check_endpoint(config), check_git(), *check_isolation(), check_pythons()]


def render(checks: list[Check]) -> Iterator[str]:
    """Report lines: ``OK``/``FAIL``, the check's name, what was found, and how to fix it."""
    width = max((len(c.name) for c in checks), default=0)
    for check in checks:
        label = "FAIL" if not check.ok else "WARN" if check.warn else "OK  "
        yield f"{label}  {check.name.ljust(width)}  {check.detail}"
        if (not check.ok or check.warn) and check.fix:
            yield f"      {' ' * width}  fix: {check.fix}"


# --- the model endpoint -------------------------------------------------------------------


def check_endpoint(config: ModelConfig) -> list[Check]:
    """List the server's models and make one tiny completion, timing the round trip."""
    if not config.name:
        return [Check("model", False, "no model configured", _MODEL_FIX)]
    # One attempt with short timeouts: the doctor reports, it does not wait out a budget.
    quick = config.model_copy(
        update={"max_attempts": 1, "timeout": min(config.timeout, 60.0), "connect_timeout": 5.0}
    )
    try:
        model = OpenAICompatibleModel.from_config(quick)
    except ConfigError as exc:
        return [Check("endpoint", False, str(exc), _URL_FIX)]
    with model:
        listed = _check_models(model, config)
        if listed is not None and not listed.ok and listed.name == "endpoint":
            return [listed]  # unreachable or refused: a completion would fail the same way
        checks = [listed] if listed is not None else []
        checks.append(_check_completion(model, config))
    return checks


_MODEL_FIX = "pass --model NAME, set AGENTLESS_MODEL, or set model.name in agentless.toml"
_URL_FIX = "pass --base-url URL, set OPENAI_BASE_URL, or set model.base_url in agentless.toml"


def _brief(exc: ModelError) -> str:
    # Our model errors end with "; <what to do>": the doctor prints its own fix line instead.
    return str(exc).rsplit("; ", 1)[0]


def _failure(name: str, exc: ModelError, config: ModelConfig) -> Check:
    if isinstance(exc, ModelUnavailableError):
        return Check(
            name,
            False,
            f"cannot reach the endpoint: {_brief(exc)}",
            f"start the model server, or point to the right one: {_URL_FIX}",
        )
    if exc.status in (401, 403):
        return Check(
            name,
            False,
            f"the server refused the API key: {_brief(exc)}",
            f"put a valid key in ${config.api_key_env} (or name another variable with "
            "--api-key-env)",
        )
    if exc.status == 404:
        return Check(name, False, _brief(exc), f"{_MODEL_FIX}; {_URL_FIX}")
    return Check(name, False, _brief(exc), "fix what the server's message names, then re-run")


def _check_models(model: OpenAICompatibleModel, config: ModelConfig) -> Check | None:
    try:
        ids = model.list_models()
    except ModelRequestError as exc:
        if exc.status == 404:
            return None  # some servers do not list models; the completion check decides
        return _failure("endpoint", exc, config)
    except ModelError as exc:
        return _failure("endpoint", exc, config)
    listed = f"{len(ids)} model(s) listed at {safe_url(model.base_url)}"
    if ids and config.name not in ids:
        # Not a failure by itself: llama.cpp's server lists its file path and answers any
        # name. The completion check below shows whether this server answers this name.
        shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
        return Check(
            "models",
            True,
            f"{listed}, not {config.name!r} (the completion check shows whether it answers)",
            f"if the server is llama.cpp's, start it with --model_alias {config.name} so the "
            f"names match (`agentless serve-local` does); else use one of: {shown} "
            f"({_MODEL_FIX})",
            warn=True,
        )
    return Check("models", True, listed)


def _check_completion(model: OpenAICompatibleModel, config: ModelConfig) -> Check:
    messages = [{"role": "user", "content": "Reply with the single word: ok"}]
    try:
        [completion] = model.complete(messages, max_tokens=16, temperature=0.0, stage="doctor")
    except ModelError as exc:
        return _failure("completion", exc, config)
    usage = completion.usage
    note = " (stopped at the token limit)" if completion.truncated else ""
    return Check(
        "completion",
        True,
        f"{config.name!r} answered in {usage.latency * 1000:.0f} ms "
        f"({usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens){note}",
    )


# --- tools --------------------------------------------------------------------------------


def _run(argv: list[str], timeout: float = 20.0) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_git() -> Check:
    """git must be on PATH and new enough for worktrees (2.5+)."""
    fix = "install git 2.5 or newer (e.g. apt-get install git) and put it on PATH"
    git = shutil.which("git")
    result = _run([git, "--version"]) if git else None
    if result is None or result.returncode != 0:
        return Check("git", False, "git not found or not working", fix)
    match = re.search(r"(\d+)\.(\d+)", result.stdout)
    if not match or (int(match[1]), int(match[2])) < (2, 5):
        return Check("git", False, f"too old: {result.stdout.strip()}", fix)
    return Check("git", True, result.stdout.strip())


_ISOLATION_FIX = (
    "install bubblewrap (apt-get install bubblewrap) or util-linux `unshare`, and run as "
    "root or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
    "user.max_user_namespaces > 0); in a container add --cap-add SYS_ADMIN"
)
# Run inside the sandbox: what it can reach, write and see.
_PROBE = """
import errno, os, socket, sys
sock = socket.socket()
sock.settimeout(3)
code = sock.connect_ex(("192.0.2.1", 80))
print("network", errno.errorcode.get(code, code))
try:
    open(sys.argv[1], "w").write("escaped")
    print("outside written")
except OSError as exc:
    print("outside", errno.errorcode.get(exc.errno, exc.errno))
print("pids", len([p for p in os.listdir("/proc") if p.isdigit()]))
"""


def check_isolation() -> list[Check]:
    """Network, file-system and process isolation, as a probe inside the sandbox finds them."""
    import sys
    import tempfile

    from agentless.errors import SandboxUnavailableError
    from agentless.repo import default_cache_dir
    from agentless.validate import Sandbox

    sandbox = Sandbox(timeout=60)
    try:
        mode = sandbox.isolation
    except SandboxUnavailableError as exc:
        return [Check("isolation", False, str(exc).split(". Install")[0], _ISOLATION_FIX)]
    cache = default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="doctor-", dir=cache) as folder:
        worktree = Path(folder) / "worktree"
        worktree.mkdir()
        outside = Path(folder) / "outside.txt"
        result = sandbox.run([sys.executable, "-c", _PROBE, str(outside)], cwd=worktree)
        escaped = outside.exists()
    found = dict(line.split(" ", 1) for line in result.output.splitlines() if " " in line)
    return [
        _network_check(mode, found.get("network", "")),
        _filesystem_check(mode, escaped, found.get("outside", "")),
        _process_check(mode, found.get("pids", "")),
    ]


def _network_check(mode: str, verdict: str) -> Check:
    if verdict == "ENETUNREACH":
        return Check("network", True, f"loopback only ({mode}): outside addresses unreachable")
    return Check(
        "network", False, f"a sandboxed connect gave {verdict or 'nothing'}", _ISOLATION_FIX
    )


def _filesystem_check(mode: str, escaped: bool, verdict: str) -> Check:
    if escaped or verdict == "written":
        return Check(
            "filesystem", False, f"a sandboxed write outside the worktree landed ({mode})",
            _ISOLATION_FIX,
        )  # fmt: skip
    return Check(
        "filesystem",
        True,
        f"read-only outside the worktree, private /tmp and HOME ({mode}; a write gave {verdict})",
    )


def _process_check(mode: str, pids: str) -> Check:
    count = int(pids) if pids.isdigit() else -1
    if 0 < count <= 10:
        return Check(
            "processes",
            True,
            f"own PID namespace ({count} processes visible), killed with agentless ({mode})",
        )
    return Check(
        "processes", False, f"{pids or 'no'} processes visible in the sandbox", _ISOLATION_FIX
    )


# --- Python interpreters ------------------------------------------------------------------


def _candidates() -> Iterator[Path]:
    """Executables named ``pythonX.Y`` on PATH and in pyenv's versions folder."""
    folders = [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    pyenv_root = os.environ.get("PYENV_ROOT")
    pyenv = shutil.which("pyenv")
    if not pyenv_root and pyenv:
        result = _run([pyenv, "root"], timeout=10)
        if result is not None and result.returncode == 0:
            pyenv_root = result.stdout.strip()
    if pyenv_root:
        versions = Path(pyenv_root) / "versions"
        if versions.is_dir():
            folders += sorted(v / "bin" for v in versions.iterdir())
    for folder in folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if _PYTHON_NAME.match(entry.name) and os.access(entry, os.X_OK) and entry.is_file():
                yield entry


def _is_launcher(path: Path) -> bool:
    # pyenv shims and similar wrappers are scripts that re-dispatch to a real interpreter.
    try:
        with path.open("rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return True


def _probe(path: Path) -> Interpreter | None:
    result = _run([str(path), "-c", _VERSION_PROBE], timeout=20)
    if result is None or result.returncode != 0:
        return None
    version = result.stdout.strip()
    return Interpreter(version, path) if re.fullmatch(r"\d+\.\d+\.\d+", version) else None


def discover_pythons() -> list[Interpreter]:
    """Working Python interpreters, one per X.Y.Z version, oldest first."""
    unique: dict[Path, Path] = {}
    for path in _candidates():
        if not _is_launcher(path):
            unique.setdefault(path.resolve(), path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = list(pool.map(_probe, unique.values()))
    found: dict[str, Interpreter] = {}
    for interp in probed:
        if interp is not None:
            found.setdefault(interp.version, interp)
    return sorted(found.values(), key=lambda i: tuple(int(x) for x in i.version.split(".")))


def check_pythons() -> Check:
    """At least one interpreter to build test environments with."""
    interpreters = discover_pythons()
    if not interpreters:
        return Check(
            "python",
            False,
            "no pythonX.Y interpreter found on PATH or in pyenv",
            "install the CPython versions your repositories need (e.g. pyenv install 3.9)",
        )
    versions = ", ".join(i.version for i in interpreters)
    return Check("python", True, f"{len(interpreters)} interpreter(s): {versions}")
