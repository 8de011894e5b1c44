"""Grading with SWE-bench's semantics, and its ``report.json`` schema (swebench 5.0.2).

- A log is graded only when it has both markers, none of the harness's failure markers
  (patch apply / reset failed, tests errored or timed out), parsed statuses (between the
  markers, else anywhere in the log) or another sign that a suite ran, and no non-zero
  test exit code without a failing test.
- A FAIL_TO_PASS test succeeds when PASSED or XFAIL; it fails when FAILED, ERROR, SKIPPED or
  absent from the log. A PASS_TO_PASS test also succeeds when SKIPPED. A listed id truncated
  inside its parameters (more ``[`` than ``]``) matches the log's ids it starts, when they
  agree on pass or fail.
- Resolved ("FULL") only when every FAIL_TO_PASS and every PASS_TO_PASS test succeeds (an
  empty list counts as met); some but not all FAIL_TO_PASS is "PARTIAL" (not resolved).
- An ungradable log is classified (environment or ambiguous failure) by the signatures
  swebench uses, advisory only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from agentless._jsonform import JSONObject
from agentless.validate._parsers import StatusMap, TestStatus, get_parser
from agentless.validate._testrun import END_MARKER, START_MARKER, TIMEOUT_MARKER, exit_code_of

FAIL_TO_PASS = "FAIL_TO_PASS"
PASS_TO_PASS = "PASS_TO_PASS"
FAIL_TO_FAIL = "FAIL_TO_FAIL"
PASS_TO_FAIL = "PASS_TO_FAIL"

Resolution = Literal["FULL", "PARTIAL", "NO"]
TestsStatus = dict[str, dict[str, list[str]]]

_PASSED = {TestStatus.PASSED.value, TestStatus.XFAIL.value}
_FAILED = {TestStatus.FAILED.value, TestStatus.ERROR.value}
_HARNESS_FAILURES = (
    ">>>>> Patch Apply Failed",
    ">>>>> Reset Failed",
    ">>>>> Tests Errored",
    TIMEOUT_MARKER,
)
# Signs that a runner executed although nothing was parsed (swebench's list: test runners
# of other languages print these; every count must be non-zero).
_SUITE_RAN = re.compile(
    r"Executed [1-9]\d* of \d+|TOTAL: [1-9]\d* (?:SUCCESS|FAILED)|[1-9]\d* passing"
    r"|Tests:\s+[1-9]\d*|Test Suites:\s+(?:\d+ \w+, )*[1-9]\d* total|^# tests [1-9]\d*"
    r"|[1-9]\d* specs?, \d+ failures?|': ok$",
    re.M,
)
# (reason, tier, pattern): why an ungradable log probably failed, first match wins.
ENVIRONMENT = "environment"
AMBIGUOUS = "ambiguous"
_FAILURE_SIGNS = (
    ("browser_launch_failed", ENVIRONMENT, r"Failed to launch|Failed to connect to the bus"),
    ("display_unavailable", ENVIRONMENT,
     r"cannot open display|Missing X server|unable to open X display"),
    ("out_of_memory", ENVIRONMENT, r"Cannot allocate memory|OutOfMemoryError|^Killed$"),
    ("container_unavailable", ENVIRONMENT,
     r"Error response from daemon|Cannot connect to the Docker daemon"),
    ("network_unreachable", ENVIRONMENT,
     r"Could not resolve host|Temporary failure in name resolution"),
    ("missing_module", AMBIGUOUS, r"Cannot find module|MODULE_NOT_FOUND|ModuleNotFoundError"),
    ("no_tests_collected", AMBIGUOUS, r"no tests ran|collected 0 items"),
    ("tests_timed_out", AMBIGUOUS, r"Timeout error: \d+ seconds exceeded"),
)  # fmt: skip


def classify_failure(text: str) -> tuple[str, str] | None:
    """``(reason, tier)`` of the first failure signature found in ``text``, else ``None``."""
    for reason, tier, pattern in _FAILURE_SIGNS:
        if text and re.search(pattern, text, re.M):
            return reason, tier
    return None


def _key(test: str, statuses: StatusMap) -> str | None:
    """The log's id for a listed test: itself, or for an id cut off inside its parameters,
    the ids it starts when they agree on pass or fail."""
    if test in statuses:
        return test
    if test.count("[") > test.count("]"):
        matches = [key for key in statuses if key.startswith(test)]
        if matches and len({statuses[key] in _PASSED for key in matches}) == 1:
            return matches[0]
    return None


def _split(tests: Sequence[str], statuses: StatusMap, accepted: set[str]) -> dict[str, list[str]]:
    success: list[str] = []
    failure: list[str] = []
    for test in tests:
        key = _key(test, statuses)
        status = statuses.get(key) if key is not None else None
        if status in accepted:
            success.append(test)
        elif status is None or status in _FAILED or status == TestStatus.SKIPPED.value:
            failure.append(test)
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
    """A graded (or ungradable) test log. ``problem`` says why a log was not graded;
    ``failure`` is its ``(reason, tier)`` classification, when one matched."""

    statuses: StatusMap = field(default_factory=dict)
    tests_status: TestsStatus | None = None
    resolved: bool = False
    problem: str | None = None
    failure: tuple[str, str] | None = None

    @property
    def graded(self) -> bool:
        return self.problem is None


def grade_log(
    log: str, parser: str, fail_to_pass: Sequence[str], pass_to_pass: Sequence[str]
) -> Grade:
    """Parse and grade a marked test log (see ``testrun.TestRun.log``)."""
    problem, statuses = _read_log(log, parser)
    if problem is not None:
        return Grade(statuses, problem=problem, failure=classify_failure(log))
    report = status_report(statuses, fail_to_pass, pass_to_pass)
    return Grade(statuses, report, resolution(report) == "FULL")


def _read_log(log: str, parser: str) -> tuple[str | None, StatusMap]:
    """The log's status map, or why it cannot be graded."""
    parse = get_parser(parser)
    failed = [marker for marker in _HARNESS_FAILURES if marker in log]
    if failed:
        return f"the log says {failed[0].strip('> ')}", {}
    if START_MARKER not in log or END_MARKER not in log:
        return "the test log has no start/end markers (setup failure)", {}
    statuses = parse(log.split(START_MARKER)[1].split(END_MARKER)[0])
    if not statuses:
        statuses = parse(log)  # some runners print results outside the markers
    if not statuses and not _SUITE_RAN.search(log):
        return "the log shows no test result and no sign that the test suite ran", {}
    exit_code = exit_code_of(log)
    if exit_code not in (0, None) and statuses and not _FAILED.intersection(statuses.values()):
        return f"exit code {exit_code} but no failing test in the log (unreliable log)", statuses
    return None, statuses


def instance_report(
    instance_id: str,
    *,
    patch: str | None,
    grade: Grade | None,
) -> JSONObject:
    """``report.json`` content in swebench's schema for one instance whose tests ran (a
    missing ``grade`` is a log that could not be graded)."""
    entry: JSONObject = {
        "patch_is_None": patch is None,
        "patch_exists": patch is not None,
        "patch_successfully_applied": bool(grade and grade.graded),
        "resolved": bool(grade and grade.resolved),
        "infra_failure": False,
    }
    if patch is None:
        entry["patch_exists"] = False
        return {instance_id: entry}
    if grade is None or not grade.graded:
        if grade is not None and grade.failure is not None:
            reason, tier = grade.failure
            entry["infra_failure"] = tier == ENVIRONMENT
            entry["infra_failure_reason"] = reason
        return {instance_id: entry}
    entry["tests_status"] = grade.tests_status
    return {instance_id: entry}
