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
        for start, end in ranges:
            body = "".join(lines[start - 1 : end]).rstrip("\r\n")
            windows.append(Window(path, start, end, body))
    return windows
