"""Code windows shown to the repair model: edit locations widened by a margin and merged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agentless.spans import Span, merge_spans


@dataclass(frozen=True)
class Window:
    """A contiguous slice of one file, exactly as it is on disk (no line numbers added)."""

    path: str
    start: int
    end: int
    text: str


def code_windows(
    files: Mapping[str, str], locations: Mapping[str, Sequence[Span]], margin: int
) -> list[Window]:
    """Windows for every located file, in the order the locations name them.

    A file named without spans is shown whole (the localizer had nothing finer).
    """
    windows: list[Window] = []
    for path, spans in locations.items():
        text = files.get(path)
        if text is None:
            continue
        lines = text.splitlines(keepends=True)
        ranges = merge_spans(spans, margin, len(lines)) if spans else [(1, len(lines))]
        for start, end in (_trim_margins(lines, r, spans) for r in ranges):
            body = "".join(lines[start - 1 : end]).rstrip("\r\n")
            windows.append(Window(path, start, end, body))
    return windows


def _trim_margins(lines: Sequence[str], window: Span, spans: Sequence[Span]) -> Span:
    """Cut the margins of a window at a blank line, so that it does not open or close in the
    middle of a neighbouring definition: a fragment of another function's body (its last
    lines, without its ``def``) led small models to edit that function instead."""
    start, end = window
    inside = [(a, b) for a, b in spans if a <= end and b >= start]
    if not inside:
        return window
    core_start = max(start, min(a for a, _ in inside))
    core_end = min(end, max(b for _, b in inside))
    for number in range(core_start - 1, start - 1, -1):
        if not lines[number - 1].strip():
            start = number + 1
            break
    for number in range(core_end + 1, end + 1):
        if not lines[number - 1].strip():
            end = number - 1
            break
    return start, end
