"""The languages exercises come in: how to make their tests runnable, and how to run them.

Each entry answers four questions. Is the toolchain here (``toolchain``: "" or why not)? What
must be installed before the sandbox, where the network still is (``setup``: npm packages,
library jars, crates)? How does a fresh work copy become testable (``prepare``: tests the track
ships switched off are switched on, build settings written)? Which commands run the tests
(``commands``)? Tests run in the sandbox with no network; everything they need is ready before.

Libraries that the registries reachable here do not offer are taken from Debian's packages,
where Debian installs them (``/usr/share/java`` for jars, ``/usr/share/cargo/registry`` for
crates); what is missing is reported with the package that provides it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import ClassVar

from agentless.errors import EnvironmentBuildError
from agentless.repo import file_lock
from agentless.tasks import Exercise
from agentless.validate import build_environment, guarded, run_captured

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Argv = list[str]

DEBIAN_JARS = Path("/usr/share/java")
DEBIAN_CRATES = Path("/usr/share/cargo/registry")


@dataclass(frozen=True)
class Setup:
    """What one exercise's tests need beyond its own files, made ready outside the sandbox.

    ``links`` maps names in the work copy to shared folders (read-only in the sandbox);
    ``unavailable`` says why the exercise cannot run here ("" when it can).
    """

    links: Mapping[str, Path] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    unavailable: str = ""


class Language:
    """One language track. Subclasses fill in the four steps; instances are shared by threads."""

    name: ClassVar[str] = ""
    fence: ClassVar[str] = ""
    #: Test output lines that show the code does not parse (counted as syntax errors).
    syntax_error: ClassVar[re.Pattern[str] | None] = None
    #: ... and those that show an indentation error (Python's IndentationError, TabError).
    indentation_error: ClassVar[re.Pattern[str] | None] = None
    #: Folders the build writes into the work copy (removed once the exercise is done).
    build_outputs: ClassVar[tuple[str, ...]] = ()
    memory_mb: ClassVar[int] = 8192

    def __init__(
        self, cache_dir: Path, *, python: Path | None = None, install_timeout: float = 1800
    ):
        self.cache_dir = cache_dir
        self.python = python
        self.install_timeout = install_timeout
        self._lock = threading.Lock()
        self._toolchain: str | None = None

    def toolchain(self) -> str:
        """ "" when this machine can run the language's tests, else why not (checked once)."""
        with self._lock:
            if self._toolchain is None:
                self._toolchain = self._check_toolchain()
            return self._toolchain

    def _check_toolchain(self) -> str:
        raise NotImplementedError

    def setup(self, exercise: Exercise) -> Setup:
        """Install what ``exercise``'s tests need (outside the sandbox)."""
        return Setup()

    def prepare(self, work: Path, exercise: Exercise) -> None:
        """Make a fresh work copy testable (before its protected files are recorded)."""

    def commands(self, work: Path, exercise: Exercise) -> list[Argv]:
        """The commands that build and run the tests, in order, from the work folder."""
        raise NotImplementedError

    def test_env(self, setup: Setup) -> dict[str, str]:
        """Variables the test commands need (on top of the sandbox's scrubbed environment)."""
        return dict(setup.env)

    def readable(self, setup: Setup) -> list[Path]:
        """Folders the test commands read (kept visible, read-only, where the sandbox hides
        their parent, as it hides ``/tmp``): the installs linked into the work copy."""
        return [target.resolve() for target in setup.links.values()]


def _missing_tools(*tools: str) -> str:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    return f"{', '.join(missing)} not found on PATH" if missing else ""


def _rewrite(path: Path, change: Callable[[str], str]) -> None:
    text = path.read_text(encoding="utf-8")
    new = change(text)
    if new != text:
        path.write_text(new, encoding="utf-8")


# --- Python --------------------------------------------------------------------------------


# Where the interpreter's files are (its virtualenv, the installation under it, pytest's).
_PREFIXES = (
    "import os, sys, pytest\n"
    "folders = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(pytest.__file__))}\n"
    "print('\\n'.join(sorted(os.path.realpath(f) for f in folders)))"
)


class Python(Language):
    name = "python"
    fence = "python"
    syntax_error = re.compile(r"\bSyntaxError\b")
    indentation_error = re.compile(r"\b(IndentationError|TabError)\b")

    def __init__(
        self, cache_dir: Path, *, python: Path | None = None, install_timeout: float = 1800
    ):
        super().__init__(cache_dir, python=python, install_timeout=install_timeout)
        self._prefixes: list[Path] = []

    @property
    def interpreter(self) -> str:
        return str(self.python or sys.executable)

    def _check_toolchain(self) -> str:
        try:
            proc = subprocess.run(
                [self.interpreter, "-c", _PREFIXES],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"cannot run {self.interpreter}: {exc}"
        if proc.returncode != 0:
            return f"pytest is not installed for {self.interpreter} (pip install pytest)"
        self._prefixes = [Path(line) for line in proc.stdout.splitlines() if line.strip()]
        return ""

    def readable(self, setup: Setup) -> list[Path]:
        # The interpreter and its packages: a virtualenv under /tmp is hidden otherwise.
        return [*super().readable(setup), *self._prefixes]

    def test_env(self, setup: Setup) -> dict[str, str]:
        # pytest alone: plugins the interpreter happens to have (random order, timeouts,
        # hypothesis profiles) would change what an exercise's tests do from one machine to
        # the next, and loading them costs more than the tests themselves. No bytecode: a
        # fix of the same size written within the second of the last run would otherwise
        # be tested as its stale .pyc.
        env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        return {**env, **setup.env}

    def commands(self, work: Path, exercise: Exercise) -> list[Argv]:
        tests = [t for t in exercise.tests if t.endswith(".py") and "test" in PurePosixPath(t).name]
        return [
            [self.interpreter, "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider"]
            + (tests or list(exercise.tests))
        ]


# --- JavaScript ----------------------------------------------------------------------------

_SKIPPED_JS = re.compile(r"\bx(test|it|describe)(\s*\()")


class JavaScript(Language):
    """Jest and Babel from the npm registry, installed once per set of devDependencies."""

    name = "javascript"
    fence = "javascript"
    syntax_error = re.compile(r"\bSyntaxError\b")
    build_outputs = ("node_modules",)
    # V8 reserves large address ranges per isolate (worker threads each get one) without
    # using the memory; a tight address-space cap kills such tests at start.
    memory_mb = 65536

    def _check_toolchain(self) -> str:
        return _missing_tools("node", "npm")

    def setup(self, exercise: Exercise) -> Setup:
        manifest = exercise.folder / "package.json"
        if not manifest.is_file():
            return Setup(unavailable="no package.json (jest and babel come from it)")
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return Setup(unavailable=f"package.json is not readable JSON: {exc}")
        deps = {
            "dependencies": dict(sorted((data.get("dependencies") or {}).items())),
            "devDependencies": dict(sorted((data.get("devDependencies") or {}).items())),
        }
        return Setup(links={"node_modules": self._installed(deps)})

    def _installed(self, deps: dict[str, dict[str, str]]) -> Path:
        key = hashlib.sha256(json.dumps(deps, sort_keys=True).encode()).hexdigest()[:16]
        folder = self.cache_dir / "node" / key
        stamp = folder / ".installed"
        with file_lock(folder.with_suffix(".lock")):
            if not stamp.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                manifest = {"name": "agentless-exercise-deps", "private": True, **deps}
                (folder / "package.json").write_text(json.dumps(manifest, indent=2), "utf-8")
                argv = ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts"]
                _install(argv, folder, self.install_timeout)
                stamp.write_text("ok\n", "utf-8")
        return folder / "node_modules"

    def prepare(self, work: Path, exercise: Exercise) -> None:
        for test in exercise.tests:
            _rewrite(work / test, lambda text: _SKIPPED_JS.sub(r"\1\2", text))

    def commands(self, work: Path, exercise: Exercise) -> list[Argv]:
        # Jest's own 5 s limit per test is for an idle machine; the sandbox's limit still holds.
        jest = ["node", "node_modules/jest/bin/jest.js", "--ci", "--colors=false"]
        jest.append("--testTimeout=60000")
        return [[*jest, *exercise.tests]]


# --- Java ----------------------------------------------------------------------------------

_DISABLED = re.compile(r"^[ \t]*@Disabled(\([^)]*\))?[ \t]*\r?\n", re.MULTILINE)
_GRADLE_DEP = re.compile(r"^\s*(?:implementation|testImplementation)\s+['\"]([^'\"]+)['\"]", re.M)

# Maven coordinates the tracks' build.gradle files name -> the Debian jar with that API and the
# package that installs it. Test libraries come first: every exercise needs them.
_JAVA_TEST_JARS = (
    ("junit-platform-console-standalone.jar", "junit5"),
    ("assertj-core.jar", "libassertj-core-java"),
    ("byte-buddy.jar", "libbyte-buddy-java"),
)
_JAVA_LIBRARY_JARS: dict[str, tuple[str, str] | None] = {
    "org.junit.jupiter:junit-jupiter": None,  # inside the console launcher
    "org.assertj:assertj-core": None,
}
# Libraries Debian packages only in a form the exercises cannot use.
_JAVA_UNUSABLE = {
    "org.json:json": "Debian's libandroid-json-java is not a drop-in org.json (its "
    "JSONException is a checked exception)",
}


class Java(Language):
    """Compiled with javac and run with JUnit's console launcher, jars from Debian's packages.

    The tracks build with Gradle wrappers, which download Gradle itself at run time from a
    host that is not a package registry; javac plus the launcher runs the same JUnit tests.
    """

    name = "java"
    fence = "java"
    syntax_error = re.compile(
        r"error: (?:'.' expected|';' expected|illegal start of|reached end of file while parsing"
        r"|class, interface, enum, or record expected|unclosed |<identifier> expected)"
    )
    build_outputs = ("build",)

    def _check_toolchain(self) -> str:
        missing = _missing_tools("javac", "java")
        if missing:
            return f"{missing} (apt-get install default-jdk-headless)"
        absent = [pkg for jar, pkg in _JAVA_TEST_JARS if not (DEBIAN_JARS / jar).is_file()]
        if absent:
            return f"JUnit 5 / AssertJ jars missing (apt-get install {' '.join(absent)})"
        return ""

    def setup(self, exercise: Exercise) -> Setup:
        gradle = exercise.folder / "build.gradle"
        text = gradle.read_text(encoding="utf-8") if gradle.is_file() else ""
        for coordinate in _GRADLE_DEP.findall(text):
            group_artifact = ":".join(coordinate.split(":")[:2])
            if group_artifact in _JAVA_UNUSABLE:
                return Setup(
                    unavailable=f"needs {coordinate}: Maven Central is not reachable and "
                    + _JAVA_UNUSABLE[group_artifact]
                )
            if group_artifact not in _JAVA_LIBRARY_JARS:
                return Setup(
                    unavailable=f"needs {coordinate}, which no package registry reachable "
                    "here provides (Maven Central is not reachable; Debian has no package)"
                )
            entry = _JAVA_LIBRARY_JARS[group_artifact]
            if entry is not None and not (DEBIAN_JARS / entry[0]).is_file():
                return Setup(unavailable=f"needs {coordinate} (apt-get install {entry[1]})")
        return Setup()

    def prepare(self, work: Path, exercise: Exercise) -> None:
        for test in exercise.tests:
            _rewrite(work / test, lambda text: _DISABLED.sub("", text))

    def _classpath(self, work: Path) -> list[str]:
        jars = [str(DEBIAN_JARS / jar) for jar, _ in _JAVA_TEST_JARS]
        gradle = work / "build.gradle"
        text = gradle.read_text(encoding="utf-8") if gradle.is_file() else ""
        for coordinate in _GRADLE_DEP.findall(text):
            entry = _JAVA_LIBRARY_JARS.get(":".join(coordinate.split(":")[:2]))
            if entry is not None:
                jars.append(str(DEBIAN_JARS / entry[0]))
        return jars

    def commands(self, work: Path, exercise: Exercise) -> list[Argv]:
        sources = sorted(
            str(p.relative_to(work)) for p in (work / "src").rglob("*.java") if p.is_file()
        )
        classpath = ":".join(self._classpath(work))
        compile_ = ["javac", "-J-Xmx512m", "-encoding", "UTF-8", "-nowarn", "-d", "build/classes"]
        run = ["java", "-Xmx1g", "-jar", str(DEBIAN_JARS / _JAVA_TEST_JARS[0][0])]
        run += ["--class-path", f"build/classes:{classpath}", "--scan-class-path"]
        run += ["--disable-banner", "--disable-ansi-colors", "--details=tree"]
        run += ["--fail-if-no-tests"]
        return [[*compile_, "-cp", classpath, *sources], run]


# --- Go ------------------------------------------------------------------------------------


class Go(Language):
    name = "go"
    fence = "go"
    syntax_error = re.compile(r"syntax error")

    def _check_toolchain(self) -> str:
        missing = _missing_tools("go")
        return f"{missing} (apt-get install golang)" if missing else ""

    def commands(self, work: Path, exercise: Exercise) -> list[Argv]:
        return [["go", "test", "-count=1", "./..."]]

    def test_env(self, setup: Setup) -> dict[str, str]:
        # No module downloads (there is no network), no cgo (no C compiler needed).
        return {"GOPROXY": "off", "CGO_ENABLED": "0", **setup.env}


# --- Rust ----------------------------------------------------------------------------------

_CARGO_CONFIG = """\
# Written by agentless: crates come from Debian's packaged registry (no network in tests).
[source.crates-io]
replace-with = "debian-packages"

[source.debian-packages]
directory = "{registry}"

[net]
offline = true
"""


class Rust(Language):
    """``cargo test --offline``; the few crates exercises use come from Debian's registry."""

    name = "rust"
    fence = "rust"
    syntax_error = re.compile(
        r"error: (?:expected |unexpected closing delimiter|mismatched closing delimiter"
        r"|this file contains an unclosed delimiter|unknown start of token)"
    )
    build_outputs = ("target",)

    def _check_toolchain(self) -> str:
        missing = _missing_tools("cargo", "rustc")
        if missing:
            return f"{missing} (apt-get install cargo, or rustup)"
        return "" if self._sysroot_bin() else "rustc --print sysroot failed"

    def _sysroot_bin(self) -> Path | None:
        # The rustup proxies look for their toolchains under $HOME, which the sandbox replaces;
        # the toolchain's own binaries need nothing from $HOME.
        try:
            proc = subprocess.run(
                ["rustc", "--print", "sysroot"], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        path = Path(proc.stdout.strip()) / "bin"
        return path if proc.returncode == 0 and (path / "cargo").exists() else None

    def setup(self, exercise: Exercise) -> Setup:
        missing = missing_crates(exercise.folder / "Cargo.toml")
        if missing:
            return Setup(unavailable=missing)
        bin_dir = self._sysroot_bin()
        path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
        return Setup(env={"PATH": path})

    def prepare(self, work: Path, exercise: Exercise) -> None:
        if _crate_dependencies(work / "Cargo.toml"):
            (work / ".cargo").mkdir(exist_ok=True)
            config = _CARGO_CONFIG.format(registry=DEBIAN_CRATES)
            (work / ".cargo" / "config.toml").write_text(config, "utf-8")

    def commands(self, work: Path, exercise: Exercise) -> list[Argv]:
        return [["cargo", "test", "--offline", "--color", "never", "--", "--include-ignored"]]


def missing_crates(manifest: Path) -> str:
    """Why the crates ``manifest`` depends on cannot be had here ("" when they all can)."""
    wanted = _crate_requirements(manifest)
    missing = [f"{name} {req}" for name, req in wanted.items() if not _debian_crate(name, req)]
    if not missing:
        return ""
    packages = " ".join(f"librust-{name.replace('_', '-')}-dev" for name in wanted)
    return (
        f"needs crates {', '.join(missing)}; crates.io is not reachable and Debian's registry "
        f"here has no matching version (apt-get install {packages})"
    )


def _crate_dependencies(manifest: Path) -> list[str]:
    return list(_crate_requirements(manifest))


def _crate_requirements(manifest: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    wanted: dict[str, str] = {}
    for table in ("dependencies", "dev-dependencies"):
        for name, spec in (data.get(table) or {}).items():
            version = spec.get("version", "*") if isinstance(spec, dict) else str(spec)
            wanted[name] = version
    return wanted


def _debian_crate(name: str, requirement: str) -> bool:
    if not DEBIAN_CRATES.is_dir():
        return False
    versions = [p.name[len(name) + 1 :] for p in DEBIAN_CRATES.glob(f"{name}-[0-9]*")]
    return any(_caret_match(requirement, v) for v in versions)


def _caret_match(requirement: str, version: str) -> bool:
    """Cargo's default (caret) requirement: ``0.4.4`` accepts 0.4.4 up to, not with, 0.5.0."""
    if requirement.strip() in ("*", ""):
        return True
    want = _numbers(requirement.lstrip("^= "))
    have = _numbers(version)
    if not want or len(have) < 3:
        return False
    # The leftmost non-zero part (or the last one given) must be equal; the rest at least.
    significant = next((i for i, n in enumerate(want) if n != 0), len(want) - 1)
    prefix = want[: significant + 1]
    return have[: len(prefix)] == prefix and have[: len(want)] >= want


def _numbers(text: str) -> list[int]:
    parts = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    return [int(g) for g in parts.groups() if g is not None] if parts else []


# --- C++ -----------------------------------------------------------------------------------


class Cpp(Language):
    """CMake builds the tests and runs them as part of the build (the tracks' CMakeLists)."""

    name = "cpp"
    fence = "cpp"
    syntax_error = re.compile(r"error: (?:expected |stray |missing terminating)")
    build_outputs = ("build",)

    def _check_toolchain(self) -> str:
        missing = _missing_tools("cmake", "make")
        if not missing and not (shutil.which("c++") or shutil.which("g++")):
            missing = "a C++ compiler"
        return f"{missing} (apt-get install cmake g++)" if missing else ""

    def setup(self, exercise: Exercise) -> Setup:
        cmake = exercise.folder / "CMakeLists.txt"
        text = cmake.read_text(encoding="utf-8") if cmake.is_file() else ""
        wanted = re.search(r"find_package\(Boost\b[^)]*COMPONENTS\s+([\w ]+)\)", text)
        if wanted and not Path("/usr/include/boost").is_dir():
            packages = " ".join(
                f"libboost-{c.replace('_', '-')}-dev" for c in wanted.group(1).split()
            )
            return Setup(unavailable=f"needs Boost (apt-get install {packages})")
        return Setup()

    def commands(self, work: Path, exercise: Exercise) -> list[Argv]:
        configure = ["cmake", "-S", ".", "-B", "build", "-DEXERCISM_RUN_ALL_TESTS=1"]
        return [configure, ["cmake", "--build", "build"]]


# --- registry and installs -------------------------------------------------------------------

LANGUAGES: dict[str, type[Language]] = {
    cls.name: cls for cls in (Python, JavaScript, Java, Go, Rust, Cpp)
}

_SHARED: dict[tuple[str, Path, Path | None, float], Language] = {}
_SHARED_LOCK = threading.Lock()


def language_for(
    name: str, cache_dir: Path, *, python: Path | None = None, install_timeout: float = 1800
) -> Language | None:
    """The language ``name`` with these settings, one instance per process (its toolchain is
    checked once), or ``None`` when there is no such language."""
    if name not in LANGUAGES:
        return None
    key = (name, Path(cache_dir), python, install_timeout)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = LANGUAGES[name](
                Path(cache_dir), python=python, install_timeout=install_timeout
            )
        return _SHARED[key]


def fence_for(path: str, language: Language) -> str:
    """The info string of a code fence showing ``path``."""
    suffix = PurePosixPath(path).suffix
    return {".toml": "toml", ".json": "json", ".md": "markdown", ".gradle": "groovy"}.get(
        suffix, language.fence
    )


def _install(argv: Sequence[str], cwd: Path, timeout: float) -> None:
    """Run an install step outside the sandbox (it needs the registry); failures raise."""
    log = cwd / "install.log"
    try:
        proc = run_captured(guarded(argv), cwd=cwd, env=build_environment(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EnvironmentBuildError(
            f"`{' '.join(argv)}` in {cwd} took more than {timeout:.0f}s", log_path=str(log)
        ) from None
    except OSError as exc:
        raise EnvironmentBuildError(f"cannot run {argv[0]}: {exc}") from None
    log.write_text(proc.stdout + proc.stderr, "utf-8")
    if proc.returncode != 0:
        raise EnvironmentBuildError(
            f"`{' '.join(argv)}` in {cwd} exited with {proc.returncode}; see {log}",
            log_path=str(log),
        )
