"""Grading with SWE-bench's semantics, and its ``report.json`` schema.

- A FAIL_TO_PASS test succeeds when PASSED or XFAIL; it fails when FAILED, ERROR, SKIPPED or
  absent from the log.
- A PASS_TO_PASS test succeeds when PASSED, XFAIL or SKIPPED; it fails when FAILED, ERROR or
  absent.
- Resolved ("FULL") only when every FAIL_TO_PASS and every PASS_TO_PASS test succeeds (an
  empty list counts as met); some but not all FAIL_TO_PASS is "PARTIAL" (not resolved).
- A log without both markers (patch did not apply, timeout) is not graded; neither is a log
  that shows no sign of a test run, nor a non-zero exit with no failing test in the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agentless.validate.parsers import StatusMap, TestStatus, get_parser, suite_ran
from agentless.validate.testrun import exit_code_of, marked_output

FAIL_TO_PASS = "FAIL_TO_PASS"
PASS_TO_PASS = "PASS_TO_PASS"
FAIL_TO_FAIL = "FAIL_TO_FAIL"
PASS_TO_FAIL = "PASS_TO_FAIL"

Resolution = Literal["FULL", "PARTIAL", "NO"]
TestsStatus = dict[str, dict[str, list[str]]]

_PASSED = {TestStatus.PASSED.value, TestStatus.XFAIL.value}
_FAILED = {TestStatus.FAILED.value, TestStatus.ERROR.value}


def _split(tests: Sequence[str], statuses: StatusMap, accepted: set[str]) -> dict[str, list[str]]:
    success: list[str] = []
    failure: list[str] = []
    for test in tests:
        (success if statuses.get(test) in accepted else failure).append(test)
    return {"success": success, "failure": failure}


def status_report(
    statuses: StatusMap, fail_to_pass: Sequence[str], pass_to_pass: Sequence[str]
) -> TestsStatus:
    """SWE-bench's ``tests_status`` block for one status map."""
    return {
        FAIL_TO_PASS: _split(fail_to_pass, statuses, _PASSED),
        PASS_TO_PASS: _split(pass_to_pass, statuses, _PASSED | {TestStatus.SKIPPED.value}),
        FAIL_TO_FAIL: {"success": [], "failure": []},
        PASS_TO_FAIL: {"success": [], "failure": []},
    }


def _rate(block: dict[str, list[str]]) -> float:
    total = len(block["success"]) + len(block["failure"])
    return 1.0 if total == 0 else len(block["success"]) / total


def resolution(report: TestsStatus) -> Resolution:
    """FULL when both rates are 1, PARTIAL when some FAIL_TO_PASS pass and all PASS_TO_PASS do."""
    f2p, p2p = _rate(report[FAIL_TO_PASS]), _rate(report[PASS_TO_PASS])
    if f2p == 1 and p2p == 1:
        return "FULL"
    if 0 < f2p < 1 and p2p == 1:
        return "PARTIAL"
    return "NO"


@dataclass(frozen=True)
class Grade:
    """A graded (or ungradable) test log. ``problem`` says why a log was not graded."""

    statuses: StatusMap = field(default_factory=dict)
    tests_status: TestsStatus | None = None
    resolved: bool = False
    problem: str | None = None

    @property
    def graded(self) -> bool:
        return self.problem is None


def grade_log(
    log: str, parser: str, fail_to_pass: Sequence[str], pass_to_pass: Sequence[str]
) -> Grade:
    """Parse and grade a marked test log (see ``testrun.TestRun.log``)."""
    output = marked_output(log)
    if output is None:
        return Grade(problem="the test log has no start/end markers (timeout or setup failure)")
    statuses = get_parser(parser)(output)
    if not suite_ran(output, statuses):
        return Grade(statuses, problem="the log shows no sign that the test suite ran")
    exit_code = exit_code_of(log)
    if exit_code not in (0, None) and not _FAILED.intersection(statuses.values()):
        return Grade(
            statuses,
            problem=f"exit code {exit_code} but no failing test in the log (unreliable log)",
        )
    report = status_report(statuses, fail_to_pass, pass_to_pass)
    return Grade(statuses, report, resolution(report) == "FULL")


def instance_report(
    instance_id: str,
    *,
    patch: str | None,
    applied: bool,
    grade: Grade | None,
) -> dict[str, Any]:
    """``report.json`` content in SWE-bench's schema for one instance."""
    entry: dict[str, Any] = {
        "patch_is_None": patch is None,
        "patch_exists": bool(patch and patch.strip()),
        "patch_successfully_applied": applied,
        "resolved": bool(grade and grade.resolved),
    }
    if grade is not None and grade.tests_status is not None:
        entry["tests_status"] = grade.tests_status
    return {instance_id: entry}
