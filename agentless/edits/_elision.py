"""``...`` elision lines in a SEARCH section: "the lines in between, unchanged".

With the same number of ``...`` lines in SEARCH and REPLACE, each pair of segments is its own
edit and the segments must appear in order. With none in REPLACE, everything from the first
segment to the last is replaced. Each segment must be found uniquely (after the previous one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agentless.edits._locate import Located, Placement, View, build, locate, match

_MARK = re.compile(r"^(#+|//+|/\*+|--|<!--|;+)?\s*(\.\.\.|…)(.{0,60}?)(\*+/|-->)?$")


def is_elision(line: str) -> bool:
    """``...``, ``# ...``, ``// ... existing code ...`` and the like."""
    m = _MARK.match(line.strip())
    if not m:
        return False
    rest = m.group(3).strip()
    return not rest or rest.endswith(("...", "…"))


def has_elision(lines: Sequence[str]) -> bool:
    return any(is_elision(line) for line in lines)


def segments(lines: Sequence[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for line in lines:
        if is_elision(line):
            out.append([])
        else:
            out[-1].append(line)
    return out


def locate_elided(
    view: View, before: Sequence[str], after: Sequence[str]
) -> tuple[list[Placement], str]:
    """Placements for an elided SEARCH block, or ``([], why it failed)``; the reason starts
    with ``ambiguous:`` when a segment matches several places."""
    old, new = segments(before), segments(after)
    if len(new) == len(old):
        return _pairwise(view, old, new)
    if len(new) == 1:
        return _range(view, old, after)
    return [], "REPLACE must have the same `...` lines as SEARCH (or none at all)."


def _in_order(view: View, seg: Sequence[str], rep: Sequence[str], floor: int) -> Located:
    return locate(view, seg, rep, accept=lambda p: p.at >= floor)


def _pairwise(
    view: View, old: list[list[str]], new: list[list[str]]
) -> tuple[list[Placement], str]:
    placements: list[Placement] = []
    floor = 0
    for seg, rep in zip(old, new, strict=True):
        if not any(line.strip() for line in seg):
            if any(line.strip() for line in rep):
                return [], "a `...` segment of SEARCH is empty but its REPLACE segment is not."
            continue
        found = _in_order(view, seg, rep, floor)
        if found.placement is None:
            return [], _segment_problem(seg, found)
        placements.append(found.placement)
        floor = found.placement.at + len(seg)
    return placements, ""


def _range(view: View, old: list[list[str]], after: Sequence[str]) -> tuple[list[Placement], str]:
    parts = [seg for seg in old if any(line.strip() for line in seg)]
    if not parts:
        return [], "SEARCH holds nothing but `...`."
    floor = 0
    matches: list[Placement] = []
    for seg in parts:
        found = _in_order(view, seg, seg, floor)
        if found.placement is None:
            return [], _segment_problem(seg, found)
        matches.append(found.placement)
        floor = found.placement.at + len(seg)
    first = matches[0]
    reindent = match(view, first.at, parts[0], first.how, after)
    if reindent is None:
        return [], "the first `...` segment could not be re-indented."
    quoted = [line for seg in parts for line in seg]
    positions = [m.at + k for m, seg in zip(matches, parts, strict=True) for k in range(len(seg))]
    placement = build(
        view, first.at, quoted, after, reindent, first.how, end=floor, positions=positions
    )
    if placement is None:
        return [], "the replacement could not be re-indented to match the file."
    return [placement], ""


def _segment_problem(seg: Sequence[str], found: Located) -> str:
    first = next((line.strip() for line in seg if line.strip()), "")
    if found.ambiguous:
        lines = ", ".join(str(c + 1) for c in found.candidates)
        return f"ambiguous: the part of SEARCH starting {first!r} matches at lines {lines}."
    return f"the part of SEARCH starting {first!r} was not found after the part before it."
