"""Test environments: one shared dependency environment per (repository, environment key,
Python), and per task a light layer with the repository installed at the task's own commit.

The shared environment is built from the repository at its environment commit (SWE-bench's
``environment_setup_commit``; else the task's commit): a venv from the recipe's interpreter,
the recipe's packages, the requirement files found in the source, then (unless the recipe
says otherwise) the install command, run in a copy of the source kept beside the venv.

A task's code is never imported from that copy. ``EnvironmentManager.installed`` gives the
task a source tree at its own commit, installed by the recipe's install command into a venv
of its own whose site-packages chain to the shared one: version files, compiled extensions,
entry points and dependencies are those of the code under test, as SWE-bench's images have
them. Layers are cached per (environment, commit); the tests run in the layer's tree.

Builds need the package registry, so they run outside the sandbox (in a PID namespace tied to
agentless's life, see ``procs``); the tests that later use an environment run inside it.

Layout under the cache folder::

    <repo-key>/<env-name>/venv/               the shared virtualenv
    <repo-key>/<env-name>/src/                the source the shared install ran in
    <repo-key>/<env-name>/ready.json          written last: the environment is complete
    <repo-key>/<env-name>/layers/<commit>/    src/ (installed tree), venv/, ready.json
    <repo-key>/<env-name>.build.log           every build step's command and output (kept)
    <repo-key>/<env-name>.lock                held while building
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from agentless.errors import EnvironmentBuildError, RepoError
from agentless.repo import (
    clone,
    exclude_missing,
    file_lock,
    missing_paths,
    open_repo,
    safe_component,
)
from agentless.validate import _procs as procs
from agentless.validate._interpreters import find_python
from agentless.validate._recipes import BUILD_INPUTS, Recipe

if TYPE_CHECKING:
    import git

# The layer's link to the shared site-packages. A fresh ``known_paths`` makes site add the
# shared folder (and run its .pth files) even when pip's isolated builds re-run this file,
# so that those builds drop it again as a system folder and stay isolated.
_CHAIN_PTH = "zzz-agentless-shared.pth"
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "agentless",
    "GIT_AUTHOR_EMAIL": "agentless@localhost",
    "GIT_COMMITTER_NAME": "agentless",
    "GIT_COMMITTER_EMAIL": "agentless@localhost",
}


def default_env_dir() -> Path:
    """``envs/`` in the user's agentless cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    from agentless.repo import default_cache_dir

    return default_cache_dir() / "envs"


@dataclass(frozen=True)
class EnvSpec:
    """What identifies an environment: the repository, an environment key and a recipe."""

    repo: str
    key: str
    recipe: Recipe

    @property
    def name(self) -> str:
        safe_key = safe_component(self.key, "default")[:40]
        return f"{safe_key}-py{self.recipe.python}-{self.recipe.digest()}"

    @property
    def repo_dir(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.+-]+", "+", self.repo.strip("/"))[-80:] or "repo"


@dataclass(frozen=True)
class Environment:
    """A ready environment. ``build_seconds`` is 0 when an existing one was reused.

    ``installed`` means the code under test is installed in it (a task layer): nothing is put
    on ``PYTHONPATH``. Otherwise (a shared environment, or a local interpreter) the worktree
    is put first on ``PYTHONPATH``.
    """

    path: Path
    python: Path
    recipe: Recipe
    build_seconds: float = 0.0
    reused: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    installed: bool = False
    shared: Path | None = None

    @property
    def folders(self) -> tuple[Path, ...]:
        """What a sandboxed command needs to see of this environment (read-only)."""
        own = self.path if self.installed else self.bin_dir.parent
        return (own,) if self.shared is None else (own, self.shared)

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
        env = {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "VIRTUAL_ENV": str(self.bin_dir.parent) if self.is_venv else "",
            "PYTHONNOUSERSITE": "1",
            # Several candidates run in one worktree; bytecode cached by one run could be
            # taken for a same-sized candidate's source written within the same second.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if not self.installed:
            roots = self.recipe.import_roots or detect_import_roots(worktree)
            paths = [str(worktree / root) if root != "." else str(worktree) for root in roots]
            env["PYTHONPATH"] = os.pathsep.join(paths)
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


@dataclass
class InstalledTree:
    """A task's source at its commit, installed into a layer over a shared environment.

    ``seconds`` is what installing cost (0.0 when the layer was reused). ``reset`` puts the
    tree back at its commit while keeping what the install produced; ``reinstall`` runs the
    install again (a patch changed build inputs, or the install is not editable) and makes
    the layer be rebuilt at its next use.
    """

    tree: Path
    env: Environment
    seconds: float
    reused: bool
    products: tuple[str, ...]
    _builder: _Builder
    dirty: bool = False

    def reset(self) -> None:
        """Tracked changes undone, untracked files removed, build products kept."""
        keep = [arg for path in self.products for arg in ("-e", "/" + _escape_glob(path))]
        with _git_repo("reset", self.tree) as repo:
            repo.head.reset("HEAD", working_tree=True, quiet=True, kill_after_timeout=_GIT_TIMEOUT)
        with _git_repo("clean", self.tree) as repo:
            repo.git.clean("-ffdxq", *keep, kill_after_timeout=_GIT_TIMEOUT)

    def needs_reinstall(self, patch: str) -> bool:
        """The patch touches build inputs, or the install copies the code (not editable)."""
        from agentless.validate._testrun import files_in_patch

        touched = files_in_patch(patch)
        if not touched:
            return False
        return not self.env.recipe.editable or any(BUILD_INPUTS.search(p) for p in touched)

    def reinstall(self) -> float:
        """Install the tree as it is now; returns the seconds it took."""
        start = time.monotonic()
        self.dirty = True
        self._builder.install(self.env.python, self.tree)
        return round(time.monotonic() - start, 2)


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
        with self._lock(self.root / spec.repo_dir / f"{spec.name}.lock"):
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

    @contextlib.contextmanager
    def installed(
        self, spec: EnvSpec, shared: Environment, source: Path, commit: str
    ) -> Iterator[InstalledTree]:
        """The task's tree at ``commit``, installed in a layer over ``shared`` (built on
        first use, then cached), held exclusively for the block and reset after it."""
        folder = self.path_for(spec) / "layers" / commit
        with self._lock(folder.with_name(f"{commit}.lock")):
            layer = self._open_layer(spec, shared, folder, source, commit)
            try:
                yield layer
            finally:
                if layer.dirty:
                    (folder / "ready.json").unlink(missing_ok=True)
                else:
                    with contextlib.suppress(EnvironmentBuildError):
                        layer.reset()

    # --- building -------------------------------------------------------------------------

    def _lock(self, path: Path) -> contextlib.AbstractContextManager[None]:
        # Waiting for another worker's long build must not outlast a stop.
        return file_lock(path, while_waiting=procs.check_not_stopping)

    def _open_layer(
        self, spec: EnvSpec, shared: Environment, folder: Path, source: Path, commit: str
    ) -> InstalledTree:
        log_path = folder.with_name(f"{commit}.build.log")
        ready = folder / "ready.json"
        reused = ready.is_file()
        start = time.monotonic()
        if not reused:
            with log_path.open("w", encoding="utf-8") as log:
                builder = _Builder(spec.recipe, folder, log, self.install_timeout)
                try:
                    info = builder.build_layer(shared, source, commit)
                except EnvironmentBuildError as exc:
                    log.write(f"\n# FAILED: {exc}\n")
                    raise EnvironmentBuildError(
                        f"installing {spec.repo} at {commit[:12]} failed: {exc}; see {log_path}",
                        log_path=str(log_path),
                    ) from None
            ready.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        info = json.loads(ready.read_text(encoding="utf-8"))
        env = Environment(
            path=folder,
            python=_venv_python(folder / "venv"),
            recipe=spec.recipe,
            installed=True,
            shared=shared.path,
        )
        builder = _Builder(spec.recipe, folder, None, self.install_timeout)
        layer = InstalledTree(
            tree=folder / "src",
            env=env,
            seconds=0.0 if reused else round(time.monotonic() - start, 2),
            reused=reused,
            products=tuple(info.get("products", ())),
            _builder=builder,
        )
        if reused:
            try:
                layer.reset()  # a run killed before its own reset left changes behind
            except EnvironmentBuildError:
                ready.unlink()  # a layer that cannot be put back is built again
                return self._open_layer(spec, shared, folder, source, commit)
        return layer

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

    def __init__(self, recipe: Recipe, target: Path, log: IO[str] | None, timeout: float) -> None:
        self.recipe = recipe
        self.target = target
        self.venv = target / "venv"
        self.src = target / "src"
        self.log = log
        self.timeout = timeout

    # --- the shared environment ---

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
        python = _venv_python(self.venv)
        with self._constraints(self.venv) as env:
            if self.recipe.upgrade_pip:
                self._pip(python, ["install", "--upgrade", _newest_pip(recipe.python)], env)
            if self.recipe.packages:
                self._pip(python, ["install", *self.recipe.packages], env)
            for name in self.recipe.requirements:
                if (self.src / name).is_file():
                    self._pip(python, ["install", "-r", self._filtered(name)], env)
            if self.recipe.install and self.recipe.install_in_base:
                for argv in self._install_argvs(python):
                    self._step(argv, cwd=self.src, env=env)
        if needs_pip:
            freeze = self._step([str(python), "-m", "pip", "freeze"], cwd=self.target)
            (self.target / "freeze.txt").write_text(freeze, encoding="utf-8")
        shutil.rmtree(self.src / ".git", ignore_errors=True)
        return {"python": self.recipe.python, "commit": commit, "seconds": time.monotonic() - start}

    # --- a task's layer ---

    def build_layer(self, shared: Environment, source: Path, commit: str) -> dict[str, object]:
        start = time.monotonic()
        if self.target.exists():
            shutil.rmtree(self.target)  # a half-built leftover from an interrupted build
        self.target.mkdir(parents=True)
        self._copy_source(source, commit)
        self._make_layer_venv(shared)
        self.install(_venv_python(self.venv), self.src)
        self._current_env_for_tox()
        with _git_repo("ls-files", self.src) as repo:
            listing = repo.git.ls_files(
                "--others", "--ignored", "--exclude-standard", "--directory"
            )
        products = listing.splitlines()
        return {
            "commit": commit,
            "shared": str(shared.path),
            "seconds": round(time.monotonic() - start, 2),
            "products": [p.rstrip("/") for p in products if p],
        }

    def install(self, python: Path, tree: Path) -> None:
        with self._constraints(self.venv) as env:
            for argv in self._install_argvs(python):
                self._step(argv, cwd=tree, env=env)

    def _make_layer_venv(self, shared: Environment) -> None:
        base = find_python(self.recipe.python)
        self._step([str(base), "-m", "venv", "--without-pip", str(self.venv)], cwd=self.target)
        python = _venv_python(self.venv)
        code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        layer_site = Path(self._step([str(python), "-c", code], cwd=self.target).strip())
        shared_site = self._step([str(shared.python), "-c", code], cwd=self.target).strip()
        chain = f"import site; site.addsitedir({shared_site!r}, set())\n"
        (layer_site / _CHAIN_PTH).write_text(chain, encoding="utf-8")
        _mirror_scripts(shared.bin_dir, self.venv / "bin")

    def _current_env_for_tox(self) -> None:
        """``tox --current-env`` runs ``.tox/<env>/bin/python``, a link to the running
        interpreter. From that path a venv's interpreter does not find its pyvenv.cfg and
        loses its site-packages (SWE-bench's conda interpreter has none to lose): give the
        tox environment the venv's pyvenv.cfg and library folder."""
        for name in self.recipe.tox_envs:
            env_dir = self.src / ".tox" / name
            env_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.venv / "pyvenv.cfg", env_dir / "pyvenv.cfg")
            if not (env_dir / "lib").exists():
                (env_dir / "lib").symlink_to(self.venv / "lib", target_is_directory=True)
            self._write(f"# tox environment {name} points at the layer's interpreter\n")

    # --- steps ---

    def _copy_source(self, source: Path, commit: str) -> None:
        # A full clone (objects hard-linked when possible) keeps tags, which version tools
        # such as setuptools_scm read during the install.
        self._write(f"\n$ git clone --no-checkout {shlex.quote(str(source))} {self.src}\n")
        clone(
            str(source),
            self.src,
            "--no-checkout",
            what="git clone",
            raise_as=_build_error("clone", source),
        )
        missing = missing_paths(self.src / ".git", commit)
        if missing:
            self._write(f"# left out, missing from the mirror: {', '.join(missing)}\n")
            try:
                exclude_missing(self.src, missing)
            except RepoError as exc:
                raise EnvironmentBuildError(str(exc)) from None
        self._write(f"\n$ git checkout --quiet {commit}\n")
        with _git_repo("checkout", self.src) as repo:
            repo.git(c="advice.detachedHead=false").checkout("--quiet", commit)
        self._pre_install()

    def _pre_install(self) -> None:
        """The recipe's edits, committed so that every reset keeps them (as the edited
        checkout of SWE-bench's images does)."""
        changed_any = False
        changed_last = False
        for edit in self.recipe.pre_install:
            path = self.src / edit.path
            if (edit.fallback and changed_last) or not path.is_file():
                changed_last = changed_last if edit.fallback else False
                continue
            before = path.read_text(encoding="utf-8")
            after = edit.apply(before)
            changed_last = after != before
            if changed_last:
                path.write_text(after, encoding="utf-8")
                changed_any = True
                self._write(f"# pre-install: {edit.path}: {edit.old!r} -> {edit.new!r}\n")
        if changed_any:
            self._write("\n$ git commit --quiet --no-verify -am 'agentless: pre-install'\n")
            with _git_repo("commit", self.src) as repo:
                message = "agentless: pre-install"
                repo.git.commit("--quiet", "--no-verify", "-am", message, env=_GIT_IDENTITY)

    @contextlib.contextmanager
    def _constraints(self, venv: Path) -> Iterator[dict[str, str]]:
        env = procs.build_environment(venv)
        # setuptools' newer editable installs import a flat-layout project through a finder
        # hook, under which some suites resolve modules differently (pylint's tests do);
        # "compat" puts the project folder on sys.path, as SWE-bench's installs did.
        env.setdefault("PIP_CONFIG_SETTINGS", "editable_mode=compat")
        files: list[str] = []
        try:
            for variable, pins in (
                ("PIP_CONSTRAINT", (*self.recipe.constraints, *self.recipe.build_constraints)),
                ("PIP_BUILD_CONSTRAINT", self.recipe.build_constraints),
            ):
                if not pins:
                    continue
                with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
                    fh.write("\n".join(pins) + "\n")
                files.append(fh.name)
                env[variable] = fh.name
                self._write(f"# {variable}: {', '.join(pins)}\n")
            yield env
        finally:
            for name in files:
                os.unlink(name)

    def _filtered(self, name: str) -> str:
        """``name`` without editable lines and the recipe's excluded projects."""
        original = self.src / name
        excluded = {_project(x) for x in self.recipe.exclude}
        lines = original.read_text(encoding="utf-8", errors="replace").splitlines()
        kept = [
            line
            for line in lines
            if _project(line) not in excluded and not re.match(r"\s*(-e|--editable)\b", line)
        ]
        if kept == lines:
            return name
        copy = original.with_name(f".agentless-{original.name}")
        copy.write_text("\n".join(kept) + "\n", encoding="utf-8")
        self._write(f"# {name}: left out {len(lines) - len(kept)} line(s)\n")
        return str(copy.relative_to(self.src))

    def _install_argvs(self, python: Path) -> list[list[str]]:
        argvs = []
        for command in self.recipe.install.split("\n"):
            argv = shlex.split(command)
            if argv and argv[0] in ("python", "python3"):
                argv[0] = str(python)
            elif argv and argv[0] in ("pip", "pip3"):
                argv = [str(python), "-m", "pip", *argv[1:]]
            if argv:
                argvs.append(argv)
        return argvs

    def _pip(self, python: Path, args: list[str], env: dict[str, str]) -> None:
        self._step([str(python), "-m", "pip", *args], cwd=self.src, env=env)

    def _write(self, text: str) -> None:
        if self.log is not None:
            self.log.write(text)
            self.log.flush()

    def _step(
        self, argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> str:
        self._write(f"\n$ {shlex.join(argv)}\n")
        try:
            proc = procs.run_captured(
                build_argv(argv),
                cwd=cwd,
                env=env or procs.build_environment(self.venv),
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise EnvironmentBuildError(
                f"`{shlex.join(argv[:4])} ...` took more than {self.timeout:.0f}s"
            ) from None
        except OSError as exc:
            raise EnvironmentBuildError(f"cannot run {argv[0]}: {exc}") from None
        self._write(proc.stdout + proc.stderr + f"# exit {proc.returncode}\n")
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [""]
            raise EnvironmentBuildError(
                f"`{shlex.join(argv[:6])}` exited with {proc.returncode}: {last[0][:300]}"
            )
        return proc.stdout


def build_argv(argv: Sequence[str]) -> list[str]:
    """An install step behind the launcher, in a PID namespace of its own when this machine
    allows one: when agentless dies, the namespace's init dies and takes pip's build
    backends and compilers with it. The network stays the machine's (installs need it)."""
    prefix = _pid_namespace()
    return procs.guarded([*prefix, *argv])


@functools.cache
def _pid_namespace() -> tuple[str, ...]:
    if shutil.which("unshare") is None:
        return ()
    prefix = ["unshare", "--pid", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    prefix.append("--")
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return tuple(prefix) if probe.returncode == 0 else ()


def _mirror_scripts(shared_bin: Path, layer_bin: Path) -> None:
    """The shared environment's console scripts, pointed at the layer's interpreter (a
    ``pytest`` that ran the shared interpreter would not see the layer)."""
    shared_python = str(shared_bin / "python")
    layer_python = str(layer_bin / "python")
    for script in sorted(shared_bin.iterdir()):
        if script.name.startswith(("python", "activate", "Activate")) or not script.is_file():
            continue
        try:
            text = script.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found = _interpreter_line(text, shared_python)
        if found is None:
            continue
        suffix, body = found
        target = layer_bin / script.name
        target.write_text(_script_header(layer_python + suffix) + body, "utf-8")
        target.chmod(0o755)


def _interpreter_line(text: str, python: str) -> tuple[str, str] | None:
    """``(what follows the interpreter's path, the script after its header)`` when the
    script's header runs ``python``: ``#!<python>``, or past the kernel's 127-byte limit
    the ``/bin/sh`` form pip writes instead."""
    first, _, rest = text.partition("\n")
    if first.startswith(f"#!{python}"):
        return first[len(python) + 2 :], rest
    exec_line, _, after = rest.partition("\n")
    close, _, body = after.partition("\n")
    if first != _SH_OPEN or close != _SH_CLOSE or not exec_line.startswith(_SH_EXEC_START):
        return None
    command = exec_line.removeprefix(_SH_EXEC_START)
    # pip quotes the path only when it holds a space.
    path = command[1:].partition('"')[0] if command.startswith('"') else command.split(" ")[0]
    return (path[len(python) :], body) if path.startswith(python) else None


# pip's header for an interpreter path too long for a #! line: sh runs the second line,
# which execs Python on the script; Python reads those lines as one string and goes on.
_SH_OPEN = "#!/bin/sh"
_SH_EXEC_START = "'''exec' "
_SH_EXEC = _SH_EXEC_START + '"{python}" "$0" "$@"'
_SH_CLOSE = "' '''"


def _script_header(python: str) -> str:
    if len(f"#!{python}") < 128:
        return f"#!{python}\n"
    return "\n".join((_SH_OPEN, _SH_EXEC.format(python=python), _SH_CLOSE, ""))


# Resets and cleans of a large tree are bounded like any other build step.
_GIT_TIMEOUT = 600.0


def _build_error(step: str, cwd: Path) -> Callable[[str], Exception]:
    return lambda message: EnvironmentBuildError(f"git {step} in {cwd}: {message[-300:]}")


def _git_repo(step: str, tree: Path) -> contextlib.AbstractContextManager[git.Repo]:
    """The git repository of ``tree``; git's failures become ``EnvironmentBuildError``."""
    return open_repo(tree, raise_as=_build_error(step, tree))


def _escape_glob(path: str) -> str:
    return re.sub(r"([*?\[\]\\!#])", r"\\\1", path)


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
