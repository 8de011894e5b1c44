"""Patch validators for the repair pipeline (no gold tests involved). Outcomes are data.

- *Regression*: existing tests relevant to the edited files (found statically: test files
  that import an edited module, or are named after one) run before and after a candidate;
  tests that passed before must still pass. ``RegressionResult.failures`` counts those that no
  longer do.
- *Reproduction*: a model-written script that shows the issue. It must fail on the original
  code ("reproduced") and is then run on each candidate ("resolved" = the candidate fixes it).
  Scripts report with the lines ``Issue reproduced`` / ``Issue resolved`` / ``Other issues``;
  without them, exit status 0 reads as resolved and any other status as reproduced.

Both run in the sandbox with the task's environment, in the caller's worktree, which is put
back exactly as it was (files the patch touched are restored byte for byte).
"""

from __future__ import annotations

import ast
import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agentless.repo import NOT_PROJECT_DIRS, is_test_file
from agentless.validate._environments import Environment
from agentless.validate._parsers import StatusMap, TestStatus, get_parser, suite_ran
from agentless.validate._patching import ApplyResult, apply_patch
from agentless.validate._sandbox import SandboxProtocol
from agentless.validate._testrun import (
    TestCommand,
    build_test_command,
    marked_output,
    patch_files,
    run_tests,
)

# Test files under build outputs are copies of the real ones.
_SKIP_DIRS = NOT_PROJECT_DIRS | {"build", "dist"}
_OK = {TestStatus.PASSED.value, TestStatus.XFAIL.value}


# --- finding relevant tests ------------------------------------------------------------------


def module_names(path: str) -> set[str]:
    """Import names a file can be known by: ``src/pkg/a.py`` -> ``pkg.a`` (and ``src.pkg.a``)."""
    stem = path.removesuffix(".py").removesuffix("/__init__")
    dotted = stem.replace("/", ".")
    names = {dotted}
    for prefix in ("src.", "lib."):
        if dotted.startswith(prefix):
            names.add(dotted[len(prefix) :])
    return names


def _imports(source: str) -> set[str]:
    """Every module a file imports, with ``from m import n`` also giving ``m.n``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _repo_test_files(root: Path) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            rel = Path(folder, name).relative_to(root).as_posix()
            if is_test_file(rel):
                yield rel


def find_regression_tests(root: Path, edited: Sequence[str], *, limit: int = 20) -> list[str]:
    """Test files relevant to the ``edited`` paths: named after an edited module first, then
    those importing one; at most ``limit``."""
    modules = {name for path in edited if path.endswith(".py") for name in module_names(path)}
    stems = {Path(path).stem for path in edited if path.endswith(".py")}
    by_name: list[str] = []
    by_import: list[str] = []
    for rel in _repo_test_files(Path(root)):
        if rel in edited:
            continue
        stem = Path(rel).stem
        if stem.removeprefix("test_") in stems or stem.removesuffix("_test") in stems:
            by_name.append(rel)
            continue
        text = (Path(root) / rel).read_text(encoding="utf-8", errors="replace")
        if _imports(text) & modules:
            by_import.append(rel)
    return (by_name + by_import)[:limit]


# --- running tests on a worktree ---------------------------------------------------------------


@dataclass(frozen=True)
class SuiteRun:
    """One run of some tests: statuses parsed from the marked log."""

    statuses: StatusMap
    exit_code: int | None
    timed_out: bool
    ran: bool
    duration: float
    log: str = field(repr=False, default="")

    @property
    def passed(self) -> set[str]:
        return {test for test, status in self.statuses.items() if status in _OK}


def run_test_files(
    workspace_path: Path,
    env: Environment,
    tests: Sequence[str],
    *,
    sandbox: SandboxProtocol,
    timeout: float | None = None,
    command: TestCommand | None = None,
) -> SuiteRun:
    """Run ``tests`` (files) in ``workspace_path`` with the environment's recipe command."""
    command = command or build_test_command(env.recipe, tests)
    run = run_tests(sandbox, env, Path(workspace_path), command, timeout=timeout)
    output = marked_output(run.log) or ""
    statuses = get_parser(env.recipe.log_parser)(output)
    return SuiteRun(
        statuses=statuses,
        exit_code=run.exit_code,
        timed_out=run.timed_out,
        ran=not run.timed_out and suite_ran(output, statuses),
        duration=run.duration,
        log=run.log,
    )


@contextlib.contextmanager
def patched(workspace_path: Path, patch: str, *, fallbacks: bool = True) -> Iterator[ApplyResult]:
    """Apply ``patch`` for the block's duration (``apply_patch``; its fallbacks only when
    ``fallbacks``): yields how it applied; afterwards every file the patch names is back to
    its former bytes (or gone, if it was new)."""
    root = Path(workspace_path)
    saved: dict[Path, bytes | None] = {}
    for sides in patch_files(patch):
        for rel in filter(None, sides):
            path = root / rel
            if path.is_dir() or not path.resolve().is_relative_to(root.resolve()):
                continue  # not a file the patch can change (git refuses paths outside)
            saved.setdefault(path, path.read_bytes() if path.is_file() else None)
    result = apply_patch(root, patch, fallbacks=fallbacks)
    try:
        yield result
    finally:
        for path, content in saved.items():
            if content is None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)


# --- regression --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegressionResult:
    """Tests that passed before the patch and fail after it (``broken``)."""

    tests: tuple[str, ...]
    applied: bool
    before: SuiteRun | None = None
    after: SuiteRun | None = None
    broken: tuple[str, ...] = ()
    error: str | None = None

    @property
    def failures(self) -> int | None:
        """How many formerly passing tests fail now; ``None`` when it could not be told."""
        return None if self.error else len(self.broken)

    @property
    def ok(self) -> bool:
        return self.failures == 0


def run_regression(
    workspace_path: Path,
    env: Environment,
    patch: str,
    tests: Sequence[str],
    *,
    sandbox: SandboxProtocol,
    baseline: SuiteRun | None = None,
    timeout: float | None = None,
) -> RegressionResult:
    """Run ``tests`` before (unless ``baseline`` is given) and after ``patch``."""
    tests = tuple(tests)
    if not tests:
        return RegressionResult(tests, applied=True, error="no regression tests to run")
    before = baseline or run_test_files(
        workspace_path, env, tests, sandbox=sandbox, timeout=timeout
    )
    if not before.ran:
        return RegressionResult(tests, True, before, error="the tests do not run on the original")
    with patched(workspace_path, patch) as applied:
        if not applied.applied:
            error = f"patch did not apply: {applied.message}"
            return RegressionResult(tests, False, before, error=error)
        after = run_test_files(workspace_path, env, tests, sandbox=sandbox, timeout=timeout)
    if after.timed_out:
        return RegressionResult(tests, True, before, after, error="the tests timed out")
    broken = tuple(sorted(before.passed - after.passed))
    return RegressionResult(tests, True, before, after, broken)


# --- reproduction ------------------------------------------------------------------------------

Verdict = Literal["reproduced", "resolved", "other"]


@dataclass(frozen=True)
class ScriptRun:
    """One run of a reproduction script."""

    verdict: Verdict
    exit_code: int | None
    timed_out: bool
    output: str
    duration: float


def script_verdict(output: str, exit_code: int | None, timed_out: bool) -> Verdict:
    """Markers printed by the script decide; else the exit status does."""
    if timed_out:
        return "other"
    for marker, verdict in (
        ("Issue reproduced", "reproduced"),
        ("Issue resolved", "resolved"),
        ("Other issues", "other"),
    ):
        if marker in output:
            return verdict  # type: ignore[return-value]
    return "resolved" if exit_code == 0 else "reproduced"


def run_script(
    workspace_path: Path,
    env: Environment,
    script: str,
    *,
    sandbox: SandboxProtocol,
    timeout: float | None = None,
) -> ScriptRun:
    """Run ``script`` (Python source) with the environment's interpreter in the worktree."""
    with tempfile.TemporaryDirectory(prefix="agentless-repro-") as folder:
        path = Path(folder) / "reproduce.py"
        path.write_text(script, encoding="utf-8")
        variables = env.test_env(Path(workspace_path))
        result = sandbox.run(
            ["python", str(path)],
            cwd=Path(workspace_path),
            env=variables,
            timeout=timeout,
            readable=[*env.folders, Path(folder)],
        )
    verdict = script_verdict(result.output, result.exit_code, result.timed_out)
    return ScriptRun(verdict, result.exit_code, result.timed_out, result.output, result.duration)


@dataclass(frozen=True)
class ReproductionResult:
    """The script on the original code, and on the candidate."""

    original: ScriptRun
    candidate: ScriptRun | None = None
    applied: bool = True
    error: str | None = None

    @property
    def reproduces(self) -> bool:
        """The script shows the issue on the original code (else it proves nothing)."""
        return self.original.verdict == "reproduced"

    @property
    def passed(self) -> bool | None:
        """The candidate fixes the issue per the script; ``None`` when the script is unusable."""
        if not self.reproduces:
            return None
        if self.candidate is None:
            return False
        return self.candidate.verdict == "resolved"


def check_reproduction(
    workspace_path: Path,
    env: Environment,
    script: str,
    *,
    sandbox: SandboxProtocol,
    timeout: float | None = None,
) -> ScriptRun:
    """Run the script on the original code (it should report the issue)."""
    return run_script(workspace_path, env, script, sandbox=sandbox, timeout=timeout)


def run_reproduction(
    workspace_path: Path,
    env: Environment,
    script: str,
    patch: str,
    *,
    sandbox: SandboxProtocol,
    original: ScriptRun | None = None,
    timeout: float | None = None,
) -> ReproductionResult:
    """Run the script on the original (unless ``original`` is given) and on ``patch``."""
    original = original or check_reproduction(
        workspace_path, env, script, sandbox=sandbox, timeout=timeout
    )
    if original.verdict != "reproduced":
        return ReproductionResult(original, error="the script does not reproduce the issue")
    with patched(workspace_path, patch) as applied:
        if not applied.applied:
            return ReproductionResult(
                original, applied=False, error=f"patch did not apply: {applied.message}"
            )
        candidate = run_script(workspace_path, env, script, sandbox=sandbox, timeout=timeout)
    return ReproductionResult(original, candidate)
