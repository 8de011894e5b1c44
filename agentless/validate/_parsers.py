"""Test-log parsers: pure functions ``log -> {test id: status}``, found by name in a registry.

The rules give the status maps swebench 5.0.2's own parsers give on the same log (the parity
tests compare them on every stored log), so that the ids are those its datasets list in
``FAIL_TO_PASS`` / ``PASS_TO_PASS``:

- pytest ``-rA``: a line that starts with a status word; the id is the next word (a FAILED
  line's `` - `` is dropped; ``SKIPPED [3] file:line`` counts are not tests). The ``v2``
  variant strips colour codes, keeps ids with spaces and also reads ``id STATUS`` lines.
- Django and unittest: ``name (module.Class) ... ok`` and friends, ``FAIL:`` / ``ERROR:``
  headers, a lone ``ok`` that belongs to the previous ``...`` line.
- SymPy ``bin/test``: ``test_x ok|F|E`` lines and ``____ file.py:test ____`` failure headers.
- JUnit XML: ``<testcase classname name>`` with ``failure`` / ``error`` / ``skipped`` children.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from enum import Enum

from agentless.errors import ValidationError, lookup


class TestStatus(str, Enum):
    """The statuses SWE-bench grades on (an XPASS is none of them: it counts as absent)."""

    __test__ = False  # not a pytest test class

    PASSED = "PASSED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    ERROR = "ERROR"
    XFAIL = "XFAIL"


StatusMap = dict[str, str]
LogParser = Callable[[str], StatusMap]

_STATUS_PREFIXES = tuple(status.value for status in TestStatus)
_SKIP_COUNT = re.compile(r"^\[\d+\]$")
_ANSI_COLOUR = re.compile(r"\[(\d+)m")
_CONTROL = str.maketrans("", "", "".join(chr(c) for c in range(1, 32)))


def _status_line(line: str) -> list[str] | None:
    """The words of a line that starts with a status word (a FAILED line's `` - `` joins
    its message as one more word), else ``None``."""
    if not line.startswith(_STATUS_PREFIXES):
        return None
    if line.startswith(TestStatus.FAILED.value):
        line = line.replace(" - ", " ")
    words = line.split()
    if len(words) <= 1 or (words[0] == TestStatus.SKIPPED.value and _SKIP_COUNT.match(words[1])):
        return None  # "SKIPPED [2] path:line: reason" summarises skips, names no test
    return words


def parse_pytest(log: str) -> StatusMap:
    """pytest run with ``-rA``: lines that start with a status word; the id is the next word."""
    statuses: StatusMap = {}
    for line in log.split("\n"):
        words = _status_line(line)
        if words:
            statuses[words[1]] = words[0]
    return statuses


def _shorten_path_option(test: str) -> str:
    """``test[/abs/path/to/file.dcm]`` -> ``test[/file.dcm]``: absolute paths in parameter ids
    differ between machines, their last part does not."""
    match = re.search(r"(.*?)\[(.*)\]", test)
    if not match:
        return test
    name, option = match.groups()
    if option.startswith("/") and not option.startswith("//") and "*" not in option:
        option = "/" + option.split("/")[-1]
    return f"{name}[{option}]"


def parse_pytest_options(log: str) -> StatusMap:
    """pytest ``-rA`` with machine-specific paths in parameter ids (pydicom, requests, pylint)."""
    statuses: StatusMap = {}
    for line in log.split("\n"):
        words = _status_line(line)
        if words:
            statuses[_shorten_path_option(words[1])] = words[0]
    return statuses


def parse_pytest_v2(log: str) -> StatusMap:
    """pytest ``-rA`` with colour codes and control characters removed first; ids may hold
    spaces, and an old pytest's ``id STATUS`` lines count too (astropy, sphinx, ...)."""
    statuses: StatusMap = {}
    for raw in log.split("\n"):
        line = _ANSI_COLOUR.sub("", raw).translate(_CONTROL)
        if line.startswith(_STATUS_PREFIXES):
            if line.startswith(TestStatus.FAILED.value):
                line = line.split(" - ", 1)[0]
            words = line.split()
            skip_count = words[:1] == [TestStatus.SKIPPED.value] and _SKIP_COUNT.match(
                words[1] if len(words) > 1 else ""
            )
            if len(words) >= 2 and not skip_count:
                statuses[" ".join(words[1:])] = words[0]
        elif line.endswith(_STATUS_PREFIXES):
            words = line.split()
            if len(words) >= 2:
                statuses[" ".join(words[:-1])] = words[-1]
    return statuses


def parse_matplotlib(log: str) -> StatusMap:
    """pytest ``-rA`` where enum reprs in ids are written as their values."""
    log = log.replace("MouseButton.LEFT", "1").replace("MouseButton.RIGHT", "3")
    return parse_pytest(log)


def parse_seaborn(log: str) -> StatusMap:
    """seaborn's pytest output: FAILED summaries and ``id PASSED`` lines only."""
    statuses: StatusMap = {}
    for line in log.split("\n"):
        parts = line.split()
        if len(parts) < 2:
            continue
        if line.startswith(TestStatus.FAILED.value):
            statuses[parts[1]] = TestStatus.FAILED.value
        elif " PASSED " in line:
            if parts[1] == TestStatus.PASSED.value:
                statuses[parts[0]] = TestStatus.PASSED.value
        elif line.startswith(TestStatus.PASSED.value):
            statuses[parts[1]] = TestStatus.PASSED.value
    return statuses


_DJANGO_PASS = (" ... ok", " ... OK", " ...  OK")
# Output printed by a test can sit between its "..." and its "ok" (three known messages).
_DJANGO_INTERRUPTED_OK = (
    re.compile(
        r"^(.*?)\s\.\.\.\sTesting against Django installed in (?s:.*?) silenced\)\.\nok$", re.M
    ),
    re.compile(r"^(.*?)\s\.\.\.\sInternal Server Error: /(.*)/\nok$", re.M),
    re.compile(r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$", re.M),
)


def parse_django(log: str) -> StatusMap:
    """Django's ``runtests.py --verbosity 2``."""
    statuses: StatusMap = {}
    previous: str | None = None
    for raw in log.split("\n"):
        line = raw.strip()
        if "--version is equivalent to version" in line:
            statuses["--version is equivalent to version"] = TestStatus.PASSED.value
        if " ... " in line:
            previous = line.split(" ... ")[0]
        for suffix in _DJANGO_PASS:
            if line.endswith(suffix):
                statuses[_after_migration_output(line).rsplit(suffix, 1)[0]] = "PASSED"
                break
        if " ... skipped" in line:
            statuses[line.split(" ... skipped")[0]] = TestStatus.SKIPPED.value
        if line.endswith(" ... FAIL"):
            statuses[line.split(" ... FAIL")[0]] = TestStatus.FAILED.value
        if line.startswith("FAIL:") and len(line.split()) > 1:
            statuses[line.split()[1].strip()] = TestStatus.FAILED.value
        if line.endswith(" ... ERROR"):
            statuses[line.split(" ... ERROR")[0]] = TestStatus.ERROR.value
        if line.startswith("ERROR:") and len(line.split()) > 1:
            statuses[line.split()[1].strip()] = TestStatus.ERROR.value
        if line.startswith("ok") and previous is not None:
            # Output printed between "..." and the verdict pushes "ok" onto its own line.
            statuses[previous] = TestStatus.PASSED.value
    for pattern in _DJANGO_INTERRUPTED_OK:
        for match in pattern.finditer(log):
            statuses[match.group(1)] = TestStatus.PASSED.value
    return statuses


def _after_migration_output(line: str) -> str:
    """A migration's progress line can run into the test name (django-7188)."""
    if line.startswith("Applying sites.0002_alter_domain_unique...test_no_migrations"):
        return line.split("...", 1)[-1].strip()
    return line


_UNITTEST_LINE = re.compile(r"^(?P<test>\S+ \([\w.]+\))(?: .*?)? \.\.\. (?P<verdict>.*)$")
_UNITTEST_VERDICTS = {
    "ok": TestStatus.PASSED.value,
    "FAIL": TestStatus.FAILED.value,
    "ERROR": TestStatus.ERROR.value,
    "expected failure": TestStatus.XFAIL.value,
}


def parse_unittest(log: str) -> StatusMap:
    """``python -m unittest -v``: ``name (module.Class) ... ok|FAIL|ERROR|skipped ...``."""
    statuses: StatusMap = {}
    previous: str | None = None
    for raw in log.split("\n"):
        line = raw.strip()
        match = _UNITTEST_LINE.match(line)
        if match:
            previous = match.group("test")
            verdict = match.group("verdict").strip()
            if verdict.startswith("skipped"):
                statuses[previous] = TestStatus.SKIPPED.value
            elif verdict in _UNITTEST_VERDICTS:
                statuses[previous] = _UNITTEST_VERDICTS[verdict]
            continue
        header = re.match(r"^(FAIL|ERROR): (\S+ \([\w.]+\))", line)
        if header:
            statuses[header.group(2)] = _UNITTEST_VERDICTS[header.group(1)]
        elif line in _UNITTEST_VERDICTS and previous is not None:
            statuses[previous] = _UNITTEST_VERDICTS[line]
    return statuses


_SYMPY_FAILURE_HEADER = re.compile(r"(_*) (.*)\.py:(.*) (_*)")


def parse_sympy(log: str) -> StatusMap:
    """SymPy's ``bin/test -C --verbose``."""
    statuses: StatusMap = {}
    for match in _SYMPY_FAILURE_HEADER.findall(log):
        statuses[f"{match[1]}.py:{match[2]}"] = TestStatus.FAILED.value
    for raw in log.split("\n"):
        line = raw.strip()
        if not line.startswith("test_"):
            continue
        name = line.split()[0]
        if line.endswith(" E"):
            statuses[name] = TestStatus.ERROR.value
        if line.endswith(" F"):
            statuses[name] = TestStatus.FAILED.value
        if line.endswith(" ok"):
            statuses[name] = TestStatus.PASSED.value
    return statuses


_JUNIT_BLOCKS = (
    re.compile(r"<testsuites\b.*?</testsuites>", re.S),
    re.compile(r"<testsuite\b.*?</testsuite>", re.S),
)


def parse_junit_xml(log: str) -> StatusMap:
    """JUnit XML reports found in the log (``classname::name`` ids)."""
    statuses: StatusMap = {}
    blocks = _JUNIT_BLOCKS[0].findall(log) or _JUNIT_BLOCKS[1].findall(log)
    for block in blocks:
        try:
            root = ET.fromstring(block)
        except ET.ParseError:
            continue
        for case in root.iter("testcase"):
            name = case.get("name", "")
            classname = case.get("classname", "")
            test = f"{classname}::{name}" if classname else name
            statuses[test] = _junit_status(case)
    return statuses


def _junit_status(case: ET.Element) -> str:
    tags = {child.tag for child in case}
    if "error" in tags:
        return TestStatus.ERROR.value
    if "failure" in tags:
        return TestStatus.FAILED.value
    if "skipped" in tags:
        skipped = case.find("skipped")
        kind = skipped.get("type", "") if skipped is not None else ""
        return TestStatus.XFAIL.value if "xfail" in kind else TestStatus.SKIPPED.value
    return TestStatus.PASSED.value


PARSERS: dict[str, LogParser] = {
    "pytest": parse_pytest,
    "pytest_options": parse_pytest_options,
    "pytest_v2": parse_pytest_v2,
    "django": parse_django,
    "unittest": parse_unittest,
    "sympy": parse_sympy,
    "junit_xml": parse_junit_xml,
    "matplotlib": parse_matplotlib,
    "seaborn": parse_seaborn,
}

# SWE-bench datasets name a parser per repository (the rows' ``log_parser`` field).
_DATASET_ALIASES = {
    **dict.fromkeys(
        ("astroid", "flask", "marshmallow", "pvlib", "pyvista", "sqlfluff", "xarray"), "pytest"
    ),
    **dict.fromkeys(("pydicom", "requests", "pylint"), "pytest_options"),
    **dict.fromkeys(("astropy", "scikit", "sphinx"), "pytest_v2"),
}


def get_parser(name: str) -> LogParser:
    """Look a parser up by name: ``pytest``, ``django``..., or a dataset's ``parse_log_<x>``."""
    key = name.removeprefix("parse_log_")
    key = _DATASET_ALIASES.get(key, key)
    return lookup(PARSERS, key, "log parser", error=ValidationError)


_RAN_SIGNS = (
    re.compile(r"^collected \d+ items?", re.M),  # pytest
    re.compile(r"^=+ .*\bin [\d.]+s", re.M),  # pytest final line
    re.compile(r"^Ran \d+ tests? in ", re.M),  # unittest / Django
    re.compile(r"tests finished: \d+ passed", re.M),  # SymPy
    re.compile(r"<testsuites?\b"),  # JUnit XML
)


def suite_ran(log: str, statuses: StatusMap) -> bool:
    """True when the log shows a test runner actually ran (some result, or its summary)."""
    return bool(statuses) or any(sign.search(log) for sign in _RAN_SIGNS)
