"""Test environments: one virtualenv per (repository, environment key, Python), built once.

An environment is built from the repository at its environment commit (SWE-bench's
``environment_setup_commit``; else the task's commit): a venv from the recipe's interpreter,
the recipe's packages, the requirement files found in the source, then the install command run
in a copy of the source kept beside the venv. Builds need the package registry, so they run
outside the sandbox; the tests that later use the environment run inside it.

The code under test does not come from that copy: at test time the task's worktree is put first
on ``PYTHONPATH``, so one environment serves every task that shares its key, concurrently.

Layout under the cache folder::

    <repo-key>/<env-name>/venv/      the virtualenv
    <repo-key>/<env-name>/src/       the source the install command ran in
    <repo-key>/<env-name>/ready.json written last: the environment is complete
    <repo-key>/<env-name>.build.log  every build step's command and output (kept)
    <repo-key>/<env-name>.lock       held while building
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from agentless.errors import EnvironmentBuildError
from agentless.repo.locks import file_lock
from agentless.validate.interpreters import find_python
from agentless.validate.recipes import Recipe

_SECRET_NAME = re.compile(r"(API_KEY|TOKEN|SECRET|PASSW|CREDENTIAL)", re.IGNORECASE)


def default_env_dir() -> Path:
    """``envs/`` in the user's agentless cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    from agentless.repo.workspace import default_cache_dir

    return default_cache_dir() / "envs"


@dataclass(frozen=True)
class EnvSpec:
    """What identifies an environment: the repository, an environment key and a recipe."""

    repo: str
    key: str
    recipe: Recipe

    @property
    def name(self) -> str:
        safe_key = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.key)[:40] or "default"
        return f"{safe_key}-py{self.recipe.python}-{self.recipe.digest()}"

    @property
    def repo_dir(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.+-]+", "+", self.repo.strip("/"))[-80:] or "repo"


@dataclass(frozen=True)
class Environment:
    """A ready environment. ``build_seconds`` is 0 when an existing one was reused."""

    path: Path
    python: Path
    recipe: Recipe
    build_seconds: float = 0.0
    reused: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def bin_dir(self) -> Path:
        return self.python.parent

    @property
    def is_venv(self) -> bool:
        return (self.bin_dir.parent / "pyvenv.cfg").is_file()

    @classmethod
    def from_python(cls, python: Path, recipe: Recipe | None = None) -> Environment:
        """Use an existing interpreter as is (e.g. for a local repository)."""
        python = Path(python)
        version = recipe.python if recipe else ""
        return cls(path=python.parent, python=python, recipe=recipe or Recipe(python=version))

    def test_env(self, worktree: Path) -> dict[str, str]:
        """Variables that make ``worktree``'s code the code under test in this environment."""
        roots = self.recipe.import_roots or detect_import_roots(worktree)
        path_entries = [str(worktree / root) if root != "." else str(worktree) for root in roots]
        env = {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "VIRTUAL_ENV": str(self.bin_dir.parent) if self.is_venv else "",
            "PYTHONPATH": os.pathsep.join(path_entries),
            "PYTHONNOUSERSITE": "1",
            # Several candidates run in one worktree; bytecode cached by one run could be
            # taken for a same-sized candidate's source written within the same second.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(self.recipe.test_env)
        env.update(self.extra_env)
        return {k: v for k, v in env.items() if v}


def detect_import_roots(worktree: Path) -> list[str]:
    """The folders to import the repository's code from: ``.`` plus ``src`` in a src layout."""
    roots = ["."]
    src = worktree / "src"
    if src.is_dir() and any((child / "__init__.py").is_file() for child in src.iterdir()):
        roots.insert(0, "src")
    return roots


class EnvironmentManager:
    """Builds environments on first request and hands out the cached ones afterwards."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        install_timeout: float = 3600.0,
    ) -> None:
        self.root = Path(root) if root is not None else default_env_dir()
        self.install_timeout = install_timeout
        # Builds that failed in this process: the tasks sharing them fail at once instead of
        # each repeating a long failing build (a new process tries again).
        self._failed: dict[str, EnvironmentBuildError] = {}

    def path_for(self, spec: EnvSpec) -> Path:
        return self.root / spec.repo_dir / spec.name

    def log_path(self, spec: EnvSpec) -> Path:
        return self.root / spec.repo_dir / f"{spec.name}.build.log"

    def lookup(self, spec: EnvSpec) -> Environment | None:
        """The environment when it is already built, else ``None``."""
        path = self.path_for(spec)
        if not (path / "ready.json").is_file():
            return None
        return Environment(path=path, python=_venv_python(path / "venv"), recipe=spec.recipe)

    def get(self, spec: EnvSpec, source: Path, commit: str) -> Environment:
        """The environment for ``spec``, building it from ``source`` (a git repository that
        holds ``commit``) when missing. Raises ``EnvironmentBuildError`` with the log path."""
        found = self.lookup(spec)
        if found is not None:
            return found
        with self._lock(spec):
            found = self.lookup(spec)  # another worker may have built it meanwhile
            if found is not None:
                return found
            if spec.name in self._failed:
                raise self._failed[spec.name]
            start = time.monotonic()
            try:
                self._build(spec, source, commit)
            except EnvironmentBuildError as exc:
                self._failed[spec.name] = exc
                raise
            seconds = time.monotonic() - start
        path = self.path_for(spec)
        return Environment(
            path=path,
            python=_venv_python(path / "venv"),
            recipe=spec.recipe,
            build_seconds=seconds,
            reused=False,
        )

    # --- building -------------------------------------------------------------------------

    def _lock(self, spec: EnvSpec) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.root / spec.repo_dir / f"{spec.name}.lock")

    def _build(self, spec: EnvSpec, source: Path, commit: str) -> None:
        target = self.path_for(spec)
        log_path = self.log_path(spec)
        if target.exists():
            shutil.rmtree(target)  # a half-built leftover from an interrupted build
        target.mkdir(parents=True)
        with log_path.open("w", encoding="utf-8") as log:
            log.write(f"# environment {spec.repo} {spec.key} recipe {spec.recipe}\n")
            try:
                info = _Builder(spec.recipe, target, log, self.install_timeout).build(
                    source, commit
                )
            except EnvironmentBuildError as exc:
                log.write(f"\n# FAILED: {exc}\n")
                shutil.rmtree(target, ignore_errors=True)
                raise EnvironmentBuildError(
                    f"building the {spec.repo} environment ({spec.name}) failed: {exc}; "
                    f"see {log_path}",
                    log_path=str(log_path),
                ) from None
        info.update({"repo": spec.repo, "key": spec.key, "log": str(log_path)})
        (target / "ready.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


class _Builder:
    """The steps of one build, each logged with its command and output."""

    def __init__(self, recipe: Recipe, target: Path, log: IO[str], timeout: float) -> None:
        self.recipe = recipe
        self.target = target
        self.venv = target / "venv"
        self.src = target / "src"
        self.log = log
        self.timeout = timeout

    def build(self, source: Path, commit: str) -> dict[str, object]:
        start = time.monotonic()
        base = find_python(self.recipe.python)
        self._copy_source(source, commit)
        recipe = self.recipe
        # ensurepip costs seconds; skip it when no step uses pip.
        needs_pip = bool(recipe.packages or recipe.requirements or "pip" in recipe.install)
        needs_pip = needs_pip or recipe.upgrade_pip
        venv_args = [] if needs_pip else ["--without-pip"]
        self._step([str(base), "-m", "venv", *venv_args, str(self.venv)], cwd=self.target)
        python = str(_venv_python(self.venv))
        with self._constraints() as env:
            if self.recipe.upgrade_pip:
                self._pip(python, ["install", "--upgrade", _newest_pip(recipe.python)], env)
            if self.recipe.packages:
                self._pip(python, ["install", *self.recipe.packages], env)
            for name in self.recipe.requirements:
                if (self.src / name).is_file():
                    self._pip(python, ["install", "-r", self._filtered(name)], env)
            if self.recipe.install:
                self._step(self._install_argv(python), cwd=self.src, env=env)
        if needs_pip:
            freeze = self._step([python, "-m", "pip", "freeze"], cwd=self.target)
            (self.target / "freeze.txt").write_text(freeze, encoding="utf-8")
        shutil.rmtree(self.src / ".git", ignore_errors=True)
        return {"python": self.recipe.python, "commit": commit, "seconds": time.monotonic() - start}

    def _copy_source(self, source: Path, commit: str) -> None:
        # A full clone (objects hard-linked when possible) keeps tags, which version tools
        # such as setuptools_scm read during the install.
        self._step(["git", "clone", "--quiet", "--no-checkout", str(source), str(self.src)])
        self._step(["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", commit],
                   cwd=self.src)  # fmt: skip

    @contextlib.contextmanager
    def _constraints(self) -> Iterator[dict[str, str]]:
        env = _install_env(self.venv)
        if not self.recipe.constraints:
            yield env
            return
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("\n".join(self.recipe.constraints) + "\n")
        self.log.write(f"# constraints: {', '.join(self.recipe.constraints)}\n")
        try:
            yield {**env, "PIP_CONSTRAINT": fh.name}
        finally:
            os.unlink(fh.name)

    def _filtered(self, name: str) -> str:
        """``name`` without the recipe's excluded projects (a filtered copy beside it)."""
        if not self.recipe.exclude:
            return name
        original = self.src / name
        excluded = {_project(x) for x in self.recipe.exclude}
        lines = original.read_text(encoding="utf-8", errors="replace").splitlines()
        kept = [line for line in lines if _project(line) not in excluded]
        copy = original.with_name(f".agentless-{original.name}")
        copy.write_text("\n".join(kept) + "\n", encoding="utf-8")
        self.log.write(f"# {name}: left out {sorted(excluded)}\n")
        return str(copy.relative_to(self.src))

    def _install_argv(self, python: str) -> list[str]:
        argv = shlex.split(self.recipe.install)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = python
        elif argv and argv[0] in ("pip", "pip3"):
            argv = [python, "-m", "pip", *argv[1:]]
        return argv

    def _pip(self, python: str, args: list[str], env: dict[str, str]) -> None:
        self._step([python, "-m", "pip", *args], cwd=self.src, env=env)

    def _step(
        self, argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> str:
        self.log.write(f"\n$ {shlex.join(argv)}\n")
        self.log.flush()
        try:
            proc = _run_group(argv, cwd, env or _install_env(self.venv), self.timeout)
        except subprocess.TimeoutExpired:
            raise EnvironmentBuildError(
                f"`{shlex.join(argv[:4])} ...` took more than {self.timeout:.0f}s"
            ) from None
        except OSError as exc:
            raise EnvironmentBuildError(f"cannot run {argv[0]}: {exc}") from None
        self.log.write(proc.stdout + proc.stderr)
        self.log.write(f"# exit {proc.returncode}\n")
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [""]
            raise EnvironmentBuildError(
                f"`{shlex.join(argv[:6])}` exited with {proc.returncode}: {last[0][:300]}"
            )
        return proc.stdout


def _run_group(
    argv: list[str], cwd: Path | None, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` in a process group of its own: at the time limit the whole group is
    killed (pip's build backends included), then ``TimeoutExpired`` is raised."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except BaseException:  # the time limit, or an interrupt: nothing may outlive us
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


# The last pip release for old interpreters (indexes without Requires-Python data would
# otherwise offer a pip that cannot run there).
_LAST_PIP = {"3.6": "pip<22", "3.7": "pip<24.1", "3.8": "pip<25.1"}


def _newest_pip(python: str) -> str:
    return _LAST_PIP.get(python, "pip")


def _project(requirement: str) -> str:
    """The normalized project name a requirement line starts with ('' for none)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement.split("#", 1)[0])
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _install_env(venv: Path) -> dict[str, str]:
    """The build environment: the caller's (registry access may need its proxy settings),
    minus API keys, with the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
    for name in ("PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV", "PIP_USER"):
        env.pop(name, None)
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env
