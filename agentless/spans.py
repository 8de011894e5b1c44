"""Line spans (1-based, inclusive): the one helper localization and repair both use."""

from __future__ import annotations

from collections.abc import Iterable

Span = tuple[int, int]


def merge_spans(spans: Iterable[Span], margin: int, n_lines: int) -> list[Span]:
    """Widen each valid span by ``margin`` lines, clip to ``1..n_lines``, and merge the ones
    that overlap or touch; spans that are reversed or start past the end are dropped."""
    widened = sorted(
        (max(1, start - margin), min(n_lines, end + margin))
        for start, end in spans
        if start <= end and start <= n_lines
    )
    merged: list[Span] = []
    for start, end in widened:
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
