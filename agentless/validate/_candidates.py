"""Check candidate patches with the pipeline validators, once per distinct patch.

The caller groups candidates (by normalized patch) and passes one patch per group; results come
back per group key. Everything here returns data: a validator that cannot run leaves its field
``None`` with a note, and selection then falls back past that step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agentless._jsonform import JSONMapping
from agentless.errors import TaskError
from agentless.validate._environments import Environment
from agentless.validate._sandbox import SandboxProtocol
from agentless.validate._testrun import TestCommand, marked_output, parse_command
from agentless.validate._validators import (
    ScriptRun,
    SuiteRun,
    check_reproduction,
    patched,
    run_regression,
    run_reproduction,
    run_test_files,
)


@dataclass
class PatchChecks:
    """What the validators said about one patch.

    ``broken`` names the tests that passed before the patch and do not after it (so
    ``regression_failures`` is their count); ``fixed`` counts tests that did not pass before
    and pass after (``fixed_tests`` names them); ``still_failing`` names those that fail
    before and after. All compare
    test by test, never totals: a patch that fixes one test and breaks another is not "as
    good as" the original. ``test_output`` and ``reproduction_output`` keep what the runs
    printed when the patch left something failing (paths relative to the tree), so that
    repair can show the model what went wrong."""

    regression_failures: int | None = None
    reproduction_passed: bool | None = None
    broken: tuple[str, ...] = ()
    fixed: int | None = None
    still_failing: tuple[str, ...] = ()
    fixed_tests: tuple[str, ...] = ()
    test_output: str = ""
    reproduction_output: str = ""
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: JSONMapping) -> PatchChecks:
        """Read back what ``dataclasses.asdict`` wrote (JSON turns tuples into lists)."""
        tuples = {
            name: tuple(data.get(name, ())) for name in ("broken", "still_failing", "fixed_tests")
        }
        return cls(**{**data, **tuples})


@dataclass(frozen=True)
class ValidationPlan:
    """How to validate a task's candidates in one worktree."""

    tree: Path
    env: Environment
    sandbox: SandboxProtocol
    regression_tests: tuple[str, ...] = ()
    test_command: TestCommand | None = None
    reproduction_script: str = ""
    timeout: float | None = None
    # Puts the tree back at its commit, untracked files removed: each run then starts clean,
    # whatever the previous run (or the code it ran) left behind.
    reset: Callable[[], None] | None = None
    # Hears what is about to run ("regression tests: candidate 2/5"), for progress displays.
    progress: Callable[[str], None] | None = None

    def clean(self) -> None:
        """Reset the tree before a run, when the plan knows how."""
        if self.reset is not None:
            self.reset()

    def announce(self, what: str, number: int = 0, total: int = 0) -> None:
        """Say which run comes next: the original code (``number`` 0) or candidate ``number``."""
        if self.progress is not None:
            which = f"candidate {number}/{total}" if number else "original code"
            self.progress(f"{what}: {which}")


def user_test_command(line: str) -> TestCommand:
    """A user's test command; pytest gets ``-rA`` so every test's status can be parsed.
    Raises ``TaskError`` for a line that names no command or does not split into words."""
    try:
        command = parse_command(line)
    except ValueError as exc:
        raise TaskError(
            f"cannot read the test command {line!r} ({exc}); check its quoting"
        ) from None
    argv = list(command.argv)
    is_pytest = "pytest" in argv[:3] or any(a.endswith("pytest") for a in argv[:1])
    if is_pytest and not any(re.match(r"-r[A-Za-z]*$", a) for a in argv):
        argv.append("-rA")
    return TestCommand(tuple(argv), command.env)


def compare_runs(baseline: SuiteRun, run: SuiteRun) -> tuple[tuple[str, ...], int]:
    """``(broken, fixed)`` between two runs of the same tests: the tests that passed before
    and do not pass now (failing, erroring, or gone: a broken import hides a whole file), and
    how many tests pass now that did not before. Without parsed statuses on either side the
    exit statuses stand in for one test named after the command."""
    if not baseline.statuses and not run.statuses:
        before_ok, after_ok = baseline.exit_code == 0, run.exit_code == 0
        return (("(test command exit status)",) if before_ok and not after_ok else ()), int(
            after_ok and not before_ok
        )
    broken = tuple(sorted(baseline.passed - run.passed))
    fixed = len(run.passed - baseline.passed)
    return broken, fixed


def still_failing(baseline: SuiteRun, run: SuiteRun) -> tuple[str, ...]:
    """Tests that did not pass before and do not pass now (failing, erroring or gone)."""
    seen = set(baseline.statuses) | set(run.statuses)
    return tuple(sorted(seen - baseline.passed - run.passed))


# The output kept for repair's feedback: the end of a long log is where runners summarize.
OUTPUT_KEPT = 12_000


_SCRIPT_FOLDER = re.compile(r"/\S*?agentless-repro-[^/\s]+/")
_DURATION = re.compile(r"\b(in|took) \d+(?:\.\d+)?\s?s\b")


def kept_output(text: str, tree: Path) -> str:
    """``text`` without what changes from one run to the next (the checkout's and the
    script's temporary paths, durations), at most ``OUTPUT_KEPT`` characters from its end:
    repair quotes it to the model, and a prompt that differs on every run would never be
    answered from the store when a run resumes."""
    text = text.replace(f"{tree}/", "").replace(str(tree), ".")
    text = _DURATION.sub(r"\1 ?s", _SCRIPT_FOLDER.sub("", text))
    return text[-OUTPUT_KEPT:]


def check_patches(plan: ValidationPlan, patches: Mapping[str, str]) -> dict[str, PatchChecks]:
    """Run the plan's validators on each patch; results keyed like ``patches``."""
    results = {key: PatchChecks() for key in patches}
    if plan.test_command is not None:
        _check_with_command(plan, patches, results)
    elif plan.regression_tests:
        _check_regression(plan, patches, results)
    if plan.reproduction_script:
        _check_reproduction(plan, patches, results)
    return results


def _check_with_command(
    plan: ValidationPlan, patches: Mapping[str, str], results: dict[str, PatchChecks]
) -> None:
    # The user's own test command: fewer failing tests after the patch is better, which also
    # rewards a patch that makes a failing test pass.
    def run_command() -> SuiteRun:
        return run_test_files(
            plan.tree, plan.env, [], sandbox=plan.sandbox, timeout=plan.timeout, command=command
        )

    command = plan.test_command
    plan.announce("test command")
    plan.clean()
    baseline = run_command()
    for number, (key, patch) in enumerate(patches.items(), 1):
        plan.announce("test command", number, len(patches))
        plan.clean()
        with patched(plan.tree, patch) as (applied, message):
            if not applied:
                results[key].notes.append(f"patch did not apply: {message}")
                continue
            run = run_command()
        if run.timed_out:
            results[key].notes.append("tests timed out")
            continue
        _record_comparison(results[key], baseline, run, plan.tree)


def _record_comparison(checks: PatchChecks, baseline: SuiteRun, run: SuiteRun, tree: Path) -> None:
    checks.broken, checks.fixed = compare_runs(baseline, run)
    checks.regression_failures = len(checks.broken)
    checks.still_failing = still_failing(baseline, run)
    checks.fixed_tests = tuple(sorted(run.passed - baseline.passed))
    if checks.broken or checks.still_failing or run.exit_code:
        checks.test_output = kept_output(marked_output(run.log) or run.log, tree)


def _check_regression(
    plan: ValidationPlan, patches: Mapping[str, str], results: dict[str, PatchChecks]
) -> None:
    plan.announce("regression tests")
    plan.clean()
    baseline = run_test_files(
        plan.tree, plan.env, plan.regression_tests, sandbox=plan.sandbox, timeout=plan.timeout
    )
    for number, (key, patch) in enumerate(patches.items(), 1):
        plan.announce("regression tests", number, len(patches))
        plan.clean()
        outcome = run_regression(
            plan.tree,
            plan.env,
            patch,
            plan.regression_tests,
            sandbox=plan.sandbox,
            baseline=baseline,
            timeout=plan.timeout,
        )
        if outcome.error or outcome.after is None or outcome.before is None:
            results[key].notes.append(f"regression: {outcome.error}")
            continue
        _record_comparison(results[key], outcome.before, outcome.after, plan.tree)


def _check_reproduction(
    plan: ValidationPlan, patches: Mapping[str, str], results: dict[str, PatchChecks]
) -> None:
    plan.announce("reproduction script")
    plan.clean()
    original: ScriptRun = check_reproduction(
        plan.tree, plan.env, plan.reproduction_script, sandbox=plan.sandbox, timeout=plan.timeout
    )
    if original.verdict != "reproduced":
        for checks in results.values():
            checks.notes.append("reproduction script does not show the issue; not used")
        return
    for number, (key, patch) in enumerate(patches.items(), 1):
        plan.announce("reproduction script", number, len(patches))
        plan.clean()
        outcome = run_reproduction(
            plan.tree,
            plan.env,
            plan.reproduction_script,
            patch,
            sandbox=plan.sandbox,
            original=original,
            timeout=plan.timeout,
        )
        results[key].reproduction_passed = outcome.passed
        if outcome.passed is False and outcome.candidate is not None:
            results[key].reproduction_output = kept_output(outcome.candidate.output, plan.tree)
        if outcome.error:
            results[key].notes.append(f"reproduction: {outcome.error}")
