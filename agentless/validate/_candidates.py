"""``check``: the one validation entry point, for ``run`` and ``eval`` alike.

``check(plan, patches)`` runs every patch (key -> unified diff) through the checks the plan
names and returns a frozen ``PatchVerdict`` per key. The pipeline groups its candidates (by
normalized patch) and passes one patch per group, with the validators that need no gold tests
(the user's test command or regression tests, a reproduction script), each compared with the
original code; selection then reads the verdicts. ``eval`` passes a plan with ``grading``
(SWE-bench's own check: the test patch, the task's command, FAIL_TO_PASS / PASS_TO_PASS) and
one patch. Every run goes through the same steps: a clean tree, the patch applied (and the
code installed again when the plan holds an installed layer and the patch needs it), the
tests in the sandbox, the tree put back.

Everything here returns data: a check that cannot run leaves its fields ``None`` with a note,
and selection then falls back past that step. Infrastructure trouble (``ValidationError``,
``RepoError``) is raised.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from agentless._jsonform import JSONMapping, JSONObject
from agentless.errors import TaskError
from agentless.validate._environments import Environment, InstalledTree
from agentless.validate._grading import Grade, grade_log
from agentless.validate._patching import ApplyResult
from agentless.validate._sandbox import SandboxProtocol
from agentless.validate._testrun import (
    TestCommand,
    TestRun,
    marked_output,
    parse_command,
    run_tests,
)
from agentless.validate._validators import (
    SuiteRun,
    check_reproduction,
    patched,
    run_script,
    run_test_files,
)


@dataclass(frozen=True)
class GradedRun:
    """A patch under the task's own tests, graded as SWE-bench grades (``eval``'s check).

    ``problem`` says why no test ran (the patch or the test patch did not apply; then
    ``run`` and ``grade`` are ``None``); ``reinstall_seconds`` is the install after the patch,
    ``None`` when none was needed."""

    apply_method: str = ""
    problem: str = ""
    reinstall_seconds: float | None = None
    run: TestRun | None = None
    grade: Grade | None = None

    @property
    def resolved(self) -> bool:
        return self.grade is not None and self.grade.resolved


@dataclass(frozen=True)
class PatchVerdict:
    """What validation found about one patch.

    ``broken`` names the tests that passed before the patch and do not after it (so
    ``regression_failures`` is their count); ``fixed`` counts tests that did not pass before
    and pass after (``fixed_tests`` names them); ``still_failing`` names those that fail
    before and after. All compare test by test, never totals: a patch that fixes one test and
    breaks another is not "as good as" the original. ``None`` means the check did not run.
    ``test_output`` and ``reproduction_output`` keep what the runs printed when the patch left
    something failing (paths relative to the tree), so that repair can show the model what
    went wrong. ``graded`` is SWE-bench's verdict, when the plan asked for it."""

    regression_failures: int | None = None
    reproduction_passed: bool | None = None
    broken: tuple[str, ...] = ()
    fixed: int | None = None
    still_failing: tuple[str, ...] = ()
    fixed_tests: tuple[str, ...] = ()
    test_output: str = ""
    reproduction_output: str = ""
    notes: tuple[str, ...] = ()
    graded: GradedRun | None = None

    def noted(self, note: str) -> PatchVerdict:
        """This verdict with ``note`` added (once)."""
        return self if note in self.notes else replace(self, notes=(*self.notes, note))

    def to_dict(self) -> JSONObject:
        """A JSON-ready mapping of the pipeline's checks, for the journal (``graded`` is
        ``eval``'s, which writes its own files, and is not kept)."""
        return {
            "regression_failures": self.regression_failures,
            "reproduction_passed": self.reproduction_passed,
            "broken": list(self.broken),
            "fixed": self.fixed,
            "still_failing": list(self.still_failing),
            "fixed_tests": list(self.fixed_tests),
            "test_output": self.test_output,
            "reproduction_output": self.reproduction_output,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: JSONMapping) -> PatchVerdict:
        """Read back what ``to_dict`` wrote."""
        return cls(
            regression_failures=data.get("regression_failures"),
            reproduction_passed=data.get("reproduction_passed"),
            broken=tuple(data.get("broken", ())),
            fixed=data.get("fixed"),
            still_failing=tuple(data.get("still_failing", ())),
            fixed_tests=tuple(data.get("fixed_tests", ())),
            test_output=str(data.get("test_output", "")),
            reproduction_output=str(data.get("reproduction_output", "")),
            notes=tuple(data.get("notes", ())),
        )


@dataclass(frozen=True)
class Grading:
    """SWE-bench's check of a patch: the ``reset_files`` put back at the tree's commit, the
    ``test_patch`` applied, the task's ``command`` run, its log graded on ``fail_to_pass`` and
    ``pass_to_pass`` with the ``parser`` (the same ``grade_log`` as everywhere)."""

    command: TestCommand
    parser: str
    fail_to_pass: tuple[str, ...]
    pass_to_pass: tuple[str, ...]
    test_patch: str = ""
    reset_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationPlan:
    """How to validate patches in one worktree, and which checks run: the ``test_command``
    (else the ``regression_tests``) and the ``reproduction_script``, each against the
    original code, and ``grading``."""

    tree: Path
    env: Environment
    sandbox: SandboxProtocol
    regression_tests: tuple[str, ...] = ()
    test_command: TestCommand | None = None
    reproduction_script: str = ""
    grading: Grading | None = None
    timeout: float | None = None
    # Puts the tree back at its commit, untracked files removed: each run then starts clean,
    # whatever the previous run (or the code it ran) left behind.
    reset: Callable[[], None] | None = None
    # Puts the named files back at the tree's commit (``Workspace.restore``); grading needs
    # it when it names reset files.
    restore: Callable[[Sequence[str]], None] | None = None
    # When given, a patch that needs it (build inputs changed, or a non-editable install) is
    # installed again before its tests run, as eval does.
    layer: InstalledTree | None = None
    # Hears what is about to run ("regression tests: candidate 2/5"), for progress displays.
    progress: Callable[[str], None] | None = None
    # Hears what each grading step did, as it happens (eval's ``run_instance.log``).
    record: Callable[[str], None] | None = None

    def clean(self) -> None:
        """Reset the tree before a run, when the plan knows how."""
        if self.reset is not None:
            self.reset()

    def announce(self, what: str, number: int = 0, total: int = 0) -> None:
        """Say which run comes next: the original code (``number`` 0) or candidate ``number``."""
        if self.progress is not None:
            which = f"candidate {number}/{total}" if number else "original code"
            self.progress(f"{what}: {which}")

    def note(self, text: str) -> None:
        if self.record is not None:
            self.record(text)


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


def check(plan: ValidationPlan, patches: Mapping[str, str]) -> dict[str, PatchVerdict]:
    """Run the plan's checks on each patch; one frozen verdict per key of ``patches``.

    Raises ``ValueError`` for a plan that grades with reset files but cannot restore them;
    ``ValidationError`` / ``RepoError`` when the infrastructure fails."""
    if plan.grading is not None and plan.grading.reset_files and plan.restore is None:
        raise ValueError("a plan that grades with reset files needs restore")
    verdicts = {key: PatchVerdict() for key in patches}
    if not verdicts:
        return verdicts  # no baseline run for nothing to compare
    installs = _Installs(plan.layer)
    if plan.test_command is not None:
        _check_tests(plan, patches, verdicts, installs, "test command", plan.test_command)
    elif plan.regression_tests:
        _check_tests(plan, patches, verdicts, installs, "regression tests")
    if plan.reproduction_script:
        _check_reproduction(plan, patches, verdicts, installs)
    if plan.grading is not None:
        _check_graded(plan, plan.grading, patches, verdicts, installs)
    return verdicts


class _Installs:
    """Keeps the layer's install in step with the tree: after a patch was installed, the next
    run installs again (else it would test the previous patch's build)."""

    def __init__(self, layer: InstalledTree | None) -> None:
        self.layer = layer
        self.stale = False

    def refresh(self, patch: str) -> float | None:
        """Install again when ``patch`` (or the previous run) needs it; the seconds, or
        ``None`` when nothing was installed."""
        if self.layer is None:
            return None
        needed = bool(patch) and self.layer.needs_reinstall(patch)
        if not (needed or self.stale):
            return None
        self.stale = needed
        return self.layer.reinstall()


_ORIGINAL = ApplyResult(True, "", "")


@contextlib.contextmanager
def _applied(
    plan: ValidationPlan, patch: str, installs: _Installs
) -> Iterator[tuple[ApplyResult, float | None]]:
    """The tree, clean, with ``patch`` applied for the block ('' is the original code) and
    installed again if needed; yields how it applied and the install's seconds."""
    plan.clean()
    with contextlib.ExitStack() as stack:
        applied = stack.enter_context(patched(plan.tree, patch)) if patch else _ORIGINAL
        yield applied, installs.refresh(patch) if applied.applied else None


def _check_tests(
    plan: ValidationPlan,
    patches: Mapping[str, str],
    verdicts: dict[str, PatchVerdict],
    installs: _Installs,
    label: str,
    command: TestCommand | None = None,
) -> None:
    # The user's own command is compared even when it fails on the original (fewer failing
    # tests after the patch is better); regression tests must run there to mean anything.
    def run_suite() -> SuiteRun:
        return run_test_files(
            plan.tree,
            plan.env,
            [] if command else plan.regression_tests,
            sandbox=plan.sandbox,
            timeout=plan.timeout,
            command=command,
        )

    plan.announce(label)
    with _applied(plan, "", installs):
        baseline = run_suite()
    if command is None and not baseline.ran:
        for key in patches:
            verdicts[key] = verdicts[key].noted("regression: the tests do not run on the original")
        return
    prefix = "regression" if command is None else label
    for number, (key, patch) in enumerate(patches.items(), 1):
        plan.announce(label, number, len(patches))
        with _applied(plan, patch, installs) as (applied, _):
            if not applied.applied:
                verdicts[key] = verdicts[key].noted(
                    f"{prefix}: patch did not apply: {applied.message}"
                )
                continue
            run = run_suite()
        if run.timed_out:
            verdicts[key] = verdicts[key].noted(f"{prefix}: the tests timed out")
            continue
        verdicts[key] = _compared(verdicts[key], baseline, run, plan.tree)


def _compared(verdict: PatchVerdict, baseline: SuiteRun, run: SuiteRun, tree: Path) -> PatchVerdict:
    broken, fixed = compare_runs(baseline, run)
    failing = still_failing(baseline, run)
    shown = broken or failing or run.exit_code
    return replace(
        verdict,
        regression_failures=len(broken),
        broken=broken,
        fixed=fixed,
        still_failing=failing,
        fixed_tests=tuple(sorted(run.passed - baseline.passed)),
        test_output=kept_output(marked_output(run.log) or run.log, tree) if shown else "",
    )


def _check_reproduction(
    plan: ValidationPlan,
    patches: Mapping[str, str],
    verdicts: dict[str, PatchVerdict],
    installs: _Installs,
) -> None:
    script = plan.reproduction_script
    plan.announce("reproduction script")
    with _applied(plan, "", installs):
        original = check_reproduction(
            plan.tree, plan.env, script, sandbox=plan.sandbox, timeout=plan.timeout
        )
    if original.verdict != "reproduced":
        for key in patches:
            verdicts[key] = verdicts[key].noted(
                "reproduction script does not show the issue; not used"
            )
        return
    for number, (key, patch) in enumerate(patches.items(), 1):
        plan.announce("reproduction script", number, len(patches))
        with _applied(plan, patch, installs) as (applied, _):
            if not applied.applied:
                verdicts[key] = replace(verdicts[key], reproduction_passed=False).noted(
                    f"reproduction: patch did not apply: {applied.message}"
                )
                continue
            run = run_script(
                plan.tree, plan.env, script, sandbox=plan.sandbox, timeout=plan.timeout
            )
        passed = run.verdict == "resolved"
        verdicts[key] = replace(
            verdicts[key],
            reproduction_passed=passed,
            reproduction_output="" if passed else kept_output(run.output, plan.tree),
        )


def _check_graded(
    plan: ValidationPlan,
    grading: Grading,
    patches: Mapping[str, str],
    verdicts: dict[str, PatchVerdict],
    installs: _Installs,
) -> None:
    for number, (key, patch) in enumerate(patches.items(), 1):
        plan.announce("the task's tests", number, len(patches))
        graded = _graded_run(plan, grading, patch, installs)
        verdicts[key] = replace(verdicts[key], graded=graded)
        if graded.problem:
            verdicts[key] = verdicts[key].noted(graded.problem)


def _graded_run(
    plan: ValidationPlan, grading: Grading, patch: str, installs: _Installs
) -> GradedRun:
    with _applied(plan, patch, installs) as (applied, seconds):
        if not applied.applied:
            plan.note(">>>>> Patch Apply Failed\n" + applied.message)
            return GradedRun(problem=f"the patch did not apply: {applied.message[-500:]}")
        plan.note(f"patch applied with {applied.method}")
        if seconds is not None:
            plan.note(f"installed again after the patch in {seconds:.1f}s")
        facts = GradedRun(applied.method, reinstall_seconds=seconds)
        with contextlib.ExitStack() as stack:
            if grading.test_patch.strip():
                # As SWE-bench does: the test files go back to the base commit first, so a
                # patch's own edits to them neither block nor change the test patch.
                if grading.reset_files and plan.restore is not None:
                    plan.restore(list(grading.reset_files))
                tests = stack.enter_context(patched(plan.tree, grading.test_patch, fallbacks=False))
                if not tests.applied:
                    plan.note(">>>>> Test Patch Apply Failed\n" + tests.message)
                    problem = f"the test patch did not apply: {tests.message[-500:]}"
                    return replace(facts, problem=problem)
            run = run_tests(
                plan.sandbox, plan.env, plan.tree, grading.command, timeout=plan.timeout
            )
    plan.note(f"ran {grading.command.display()} in {run.duration:.1f}s: exit {run.exit_code}")
    grade = grade_log(run.log, grading.parser, grading.fail_to_pass, grading.pass_to_pass)
    return replace(facts, run=run, grade=grade)
