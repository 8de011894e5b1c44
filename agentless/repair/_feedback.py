"""A second try for candidates that validation rejected: what the tests printed goes back.

When no candidate both breaks no test and shows the issue fixed, the most promising ones (see
``agentless.select.second_try_targets``) each get one follow-up: their repair conversation goes
on with the names of the tests that broke or still fail, the part of the test output about
them, the reproduction script's verdict when it still reports the issue, and the code as the
candidate left it. The reply edits that code; its patch, taken against the original files, is
one more candidate, validated and voted on like the others. A small model that averaged the
two middle values for every length learns from ``assert 1.5 == 2`` in ``test_median_odd``
what it broke, which no reading of the issue had told it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from agentless.config import RepairConfig
from agentless.model import Model
from agentless.repair._context import Window, code_windows
from agentless.repair._sample import Message, RepairSample, apply_with_reflection
from agentless.repo import parser_for, walk_elements
from agentless.spans import Span
from agentless.templates import render

# pytest's header of one test's failure section: "____ test_name ____" (or "____ ERROR at
# setup of test_name ____"); a line of "=" opens the next part of the report.
_SECTION = re.compile(r"^_{3,} (?:ERROR at \w+ of )?(.+?) _{3,}$")
_PART = re.compile(r"^={3,}")
# A function longer than this is shown around the change only, not whole.
_WHOLE_FUNCTION_LINES = 80


@dataclass(frozen=True)
class TestReport:
    """What validation found about one candidate, as the follow-up tells it."""

    __test__ = False  # not a pytest test class

    broken: tuple[str, ...] = ()
    still_failing: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    test_output: str = ""
    reproduction_script: str = ""
    reproduction_output: str = ""

    @property
    def has_news(self) -> bool:
        """Something failed that the model can be told about."""
        return bool(self.broken or self.still_failing or self.reproduction_output)


def repair_after_tests(
    model: Model,
    sample: RepairSample,
    files: Mapping[str, str],
    report: TestReport,
    config: RepairConfig,
) -> RepairSample:
    """One follow-up of ``sample`` with its test report; a new sample (patch against ``files``)."""
    start = patched_files(files, sample.new_files)
    windows = changed_windows(files, sample.new_files, config.context_margin)
    message = feedback_message(report, windows, config.feedback_output_chars)
    conversation: list[Message] = [*sample.conversation, {"role": "user", "content": message}]
    [reply] = model.complete(
        conversation,
        n=1,
        temperature=config.feedback_temperature,
        max_tokens=config.max_tokens,
        stage="repair.feedback",
    )
    conversation.append({"role": "assistant", "content": reply.text})
    follow_up = apply_with_reflection(model, conversation, files, start, config)
    return replace(follow_up, location_set=sample.location_set, sample=sample.sample)


def patched_files(files: Mapping[str, str], new_files: Mapping[str, str | None]) -> dict[str, str]:
    """``files`` as a candidate leaves them (deleted files gone)."""
    current = dict(files)
    for path, text in new_files.items():
        if text is None:
            current.pop(path, None)
        else:
            current[path] = text
    return current


def feedback_message(report: TestReport, windows: Sequence[Window], output_chars: int) -> str:
    """The follow-up's text: what failed, the output about it, the code as it now reads."""
    named = [*report.broken, *report.still_failing]
    return render(
        "repair_feedback.j2",
        broken=report.broken,
        still_failing=report.still_failing,
        fixed=report.fixed,
        output=failure_excerpt(report.test_output, named, output_chars) if named else "",
        script=_cut(report.reproduction_script, output_chars) if report.reproduction_output else "",
        script_output=_cut(report.reproduction_output, output_chars // 2),
        windows=windows,
    )


def failure_excerpt(output: str, tests: Sequence[str], limit: int) -> str:
    """The parts of a test log about ``tests``: their pytest failure sections and summary
    lines; for other runners (or when no section names them), the end of the log. At most
    ``limit`` characters."""
    names = {_short_name(test) for test in tests}
    lines = output.splitlines()
    kept: list[str] = []
    inside = False
    for line in lines:
        header = _SECTION.match(line)
        if header:
            inside = _short_name(header.group(1)) in names
        elif _PART.match(line):
            inside = False
        summary = line.startswith(("FAILED ", "ERROR ")) and any(t in line for t in tests)
        if inside or summary:
            kept.append(line)
    text = "\n".join(kept) if kept else output.strip()
    return _cut(text, limit)


def _short_name(test: str) -> str:
    """``tests/test_x.py::TestA::test_b[1]`` and pytest's section title ``TestA.test_b[1]``
    both give ``test_b[1]``."""
    return re.split(r"::|\.(?![^\[]*\])", test)[-1].strip()


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters: the head and the tail, where a failure's assertion and
    its summary are."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + "\n... (cut) ...\n" + text[-(limit - head) :]


def changed_windows(
    files: Mapping[str, str], new_files: Mapping[str, str | None], margin: int
) -> list[Window]:
    """The code a candidate changed, as it now reads: each changed line widened to the
    function around it (when that is short), else by ``margin`` lines."""
    current = patched_files(files, new_files)
    locations: dict[str, list[Span]] = {}
    for path, text in new_files.items():
        if text is None:
            continue
        spans = _changed_lines(files.get(path, ""), text)
        locations[path] = [_widen(path, text, span) for span in spans]
    return code_windows(current, locations, margin)


def _changed_lines(old: str, new: str) -> list[Span]:
    """Lines of ``new`` that differ from ``old`` (a deletion marks the line after it)."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    n_lines = max(1, len(new.splitlines()))
    spans = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            start = min(j1 + 1, n_lines)
            spans.append((start, max(start, j2)))
    return spans


def _widen(path: str, text: str, span: Span) -> Span:
    """The innermost short function or method holding ``span``, else ``span`` itself."""
    parser = parser_for(path)
    if parser is None:
        return span
    holding = [
        (element.start, element.end)
        for element in walk_elements(parser(text))
        if element.kind in ("function", "method")
        and element.start <= span[0]
        and span[1] <= element.end
        and element.end - element.start < _WHOLE_FUNCTION_LINES
    ]
    return min(holding, key=lambda s: s[1] - s[0]) if holding else span
