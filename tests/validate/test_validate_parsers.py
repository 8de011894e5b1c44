"""Log parsers on recorded logs of each format, checked against SWE-bench's parsing rules.

``pytest_rA.log``, ``pytest_color.log``, ``unittest.log`` and ``junit.xml`` were recorded from
real runs of small sample suites (paths rewritten); ``django.log`` and ``sympy.log`` follow the
runners' documented output formats.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentless.errors import ValidationError
from agentless.validate._parsers import (
    get_parser,
    parse_django,
    parse_junit_xml,
    parse_pytest,
    parse_pytest_options,
    parse_pytest_v2,
    parse_sympy,
    parse_unittest,
    suite_ran,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "validate"
P = "test_sample.py::"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


PYTEST_EXPECTED = {
    f"{P}test_pass": "PASSED",
    f"{P}test_param[/data/files/a.dcm]": "PASSED",
    f"{P}test_param[rel/b.dcm]": "PASSED",
    f"{P}TestGroup::test_method": "PASSED",
    f"{P}TestGroup::test_method_param[1]": "PASSED",
    f"{P}test_xfail": "XFAIL",
    f"{P}test_error": "ERROR",
    # The " - message" tail is dropped even when the message itself contains " - ".
    f"{P}test_fail": "FAILED",
    f"{P}TestGroup::test_method_param[2]": "FAILED",
    # "SKIPPED [1] file:line: reason" names no test; XPASS is not a graded status; the
    # "____ ERROR at setup of test_error ____" banner does not start with a status word.
}


def test_pytest_summary_lines() -> None:
    assert parse_pytest(fixture("pytest_rA.log")) == PYTEST_EXPECTED


def test_pytest_options_shortens_absolute_paths_in_parameters() -> None:
    statuses = parse_pytest_options(fixture("pytest_rA.log"))
    assert statuses[f"{P}test_param[/a.dcm]"] == "PASSED"
    assert statuses[f"{P}test_param[rel/b.dcm]"] == "PASSED"  # relative: unchanged
    assert f"{P}test_param[/data/files/a.dcm]" not in statuses
    assert len(statuses) == len(PYTEST_EXPECTED)
    assert parse_pytest_options("PASSED t.py::x[//net/share]") == {"t.py::x[//net/share]": "PASSED"}


def test_pytest_v2_reads_coloured_verbose_logs() -> None:
    log = fixture("pytest_color.log")
    assert "\x1b[" in log
    statuses = parse_pytest_v2(log)
    # As swebench's v2 parser: only FAILED lines lose their " - message" tail, so the
    # ERROR and XFAIL ids keep it (the datasets' ids for these repositories are written so).
    expected = {k: v for k, v in PYTEST_EXPECTED.items() if v not in ("ERROR", "XFAIL")}
    expected[f"{P}test_error - RuntimeError: fixture broke"] = "ERROR"
    expected[f"{P}test_xfail - known bug"] = "XFAIL"
    assert statuses == expected
    # The plain parser misses the coloured summary lines.
    assert parse_pytest(log) != statuses


def test_unittest_verbose_output() -> None:
    statuses = parse_unittest(fixture("unittest.log"))
    name = "(sample_unittest.T.{})".format
    assert statuses == {
        f"test_error {name('test_error')}": "ERROR",
        f"test_expected {name('test_expected')}": "XFAIL",
        f"test_fail {name('test_fail')}": "FAILED",
        f"test_noisy {name('test_noisy')}": "PASSED",  # "ok" on its own line after output
        f"test_ok {name('test_ok')}": "PASSED",
        f"test_skipped {name('test_skipped')}": "SKIPPED",
    }


def test_django_runner_output() -> None:
    statuses = parse_django(fixture("django.log"))
    cls = "(queries.tests.QuerysetOrderedTests)"
    assert statuses == {
        f"test_basic {cls}": "PASSED",
        f"test_cleared_default_ordering {cls}": "PASSED",
        f"test_empty_queryset {cls}": "SKIPPED",
        f"test_annotated_ordering {cls}": "FAILED",
        f"test_order_by_extra {cls}": "ERROR",
        "test_noisy (queries.tests.LoggingTests)": "PASSED",
        "Tests that a docstring line is shown instead of the id": "PASSED",
        # FAIL: / ERROR: headers record the bare name, as SWE-bench's parser does.
        "test_annotated_ordering": "FAILED",
        "test_order_by_extra": "ERROR",
        # "... expected failure" is none of the recognised verdicts: absent.
    }


def test_django_output_between_dots_and_ok() -> None:
    log = (
        "test_a (m.T) ... System check identified no issues (0 silenced)\nok\n"
        "test_b (m.T) ... Internal Server Error: /wrong/\nok\n"
    )
    statuses = parse_django(log)
    assert statuses["test_a (m.T)"] == "PASSED"
    assert statuses["test_b (m.T)"] == "PASSED"


def test_sympy_bin_test_output() -> None:
    statuses = parse_sympy(fixture("sympy.log"))
    path = "sympy/printing/tests/test_latex.py"
    assert statuses == {
        "test_printmethod": "PASSED",
        "test_latex_basic": "FAILED",
        "test_latex_builtins": "ERROR",
        f"{path}:test_latex_builtins": "FAILED",  # from the failure headers
        f"{path}:test_latex_basic": "FAILED",
    }


def test_junit_xml_report() -> None:
    statuses = parse_junit_xml("noise before\n" + fixture("junit.xml") + "\nnoise after")
    assert statuses["test_sample::test_pass"] == "PASSED"
    assert statuses["test_sample::test_fail"] == "FAILED"
    assert statuses["test_sample::test_error"] == "ERROR"
    assert statuses["test_sample::test_skip"] == "SKIPPED"
    assert statuses["test_sample::test_xfail"] == "XFAIL"
    assert statuses["test_sample.TestGroup::test_method_param[2]"] == "FAILED"
    assert len(statuses) == 11
    assert parse_junit_xml("<testsuite><testcase name='broken'") == {}


def test_registry_resolves_dataset_parser_names() -> None:
    assert get_parser("parse_log_sqlfluff") is get_parser("pytest")
    assert get_parser("parse_log_pydicom") is parse_pytest_options
    assert get_parser("parse_log_astropy") is parse_pytest_v2
    assert get_parser("parse_log_django") is parse_django
    assert get_parser("sympy") is parse_sympy
    with pytest.raises(ValidationError, match="unknown log parser 'cobol'; choose one of ") as bad:
        get_parser("parse_log_cobol")
    assert "django, " in str(bad.value) and "pytest" in str(bad.value)


def test_suite_ran_needs_results_or_a_runner_summary() -> None:
    assert suite_ran(fixture("pytest_rA.log"), {})
    assert suite_ran("collected 0 items\n", {})
    assert suite_ran("Ran 0 tests in 0.000s\n", {})
    assert not suite_ran("Traceback (most recent call last):\nImportError: no module\n", {})
    assert suite_ran("", {"t": "PASSED"})
