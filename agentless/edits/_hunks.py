"""Placing unified-diff hunks: the ladder, then shrinking context, then splitting.

A hunk whose full text matches nowhere is retried with context lines dropped from its edges,
fewest first, while the match stays unique. Dropping a line is how *missing* context is
tolerated (the model skipped unchanged lines between an edge line and the change), so every
dropped line must still be in the file, in order, on its side of the match and near it; a
dropped line that is not there *contradicts* the file, and the hunk fails with both lines
quoted. A hunk that still matches nowhere is split at its inner context runs into one piece
per group of changes (models skip unchanged lines in the middle of a hunk, or start a second
hunk without a header); each piece must then be found, uniquely, after the previous one.
Every placement found after the full hunk failed is fuzzy (see ``locate.Placement``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agentless.edits._locate import Accept, Located, Placement, View, fuzzy, locate

Lines = Sequence[tuple[str, str]]

#: Unchanged file lines a model may skip between a dropped edge context line and the match.
MAX_SKIPPED = 20


@dataclass(frozen=True)
class Contradiction:
    """A context line of the hunk that is not in the file where the match puts it."""

    line: str  # as the model wrote it
    at: int  # 0-based file line it stands for (the nearest one on its side of the match)


@dataclass
class HunkPlacement:
    """What ``locate_hunk`` found: placements, or competing match starts, or neither; and any
    context lines that contradicted the file on the way (for the feedback)."""

    placements: list[Placement] = field(default_factory=list)
    candidates: tuple[int, ...] = ()
    contradictions: list[Contradiction] = field(default_factory=list)


def sides(lines: Lines) -> tuple[list[str], list[str]]:
    """The old and new lines of tagged hunk lines."""
    return [t for tag, t in lines if tag != "+"], [t for tag, t in lines if tag != "-"]


def locate_hunk(view: View, lines: Lines, hint: int | None) -> HunkPlacement:
    """Placements for a hunk (several when it had to be split), or the competing match starts
    when it is ambiguous (neither when it matches nowhere)."""
    out = HunkPlacement()
    found = locate(view, *sides(lines), hint=hint)
    if found.placement is None and not found.ambiguous:
        found = _space_restored(view, lines, hint)
    if found.placement is None and not found.ambiguous:
        found = _shrunk(view, lines, hint, None, out.contradictions)
    if found.placement is not None:
        out.placements = [found.placement]
    elif found.ambiguous:
        out.candidates = found.candidates
    else:
        out.placements = _split(view, lines, hint, out.contradictions)
    return out


def _space_restored(view: View, lines: Lines, hint: int | None) -> Located:
    """The hunk read as if its context lines that sit one space off the file's indentation
    grid had lost their leading space marker (``"    x"`` meant as context ``"    x"``, not
    ``"   x"``). Only a unique match counts."""
    width = len(view.unit) if view.unit and set(view.unit) == {" "} else 4
    restored = [
        (tag, " " + text if tag == " " and _off_grid(text, width) else text) for tag, text in lines
    ]
    if restored == list(lines):
        return Located()
    found = locate(view, *sides(restored), hint=hint)
    return Located(fuzzy(found.placement)) if found.placement is not None else Located()


def _off_grid(text: str, width: int) -> bool:
    indent = len(text) - len(text.lstrip(" "))
    return bool(text.strip()) and indent % width == width - 1 and text[indent : indent + 1] != "\t"


def _whole_or_shrunk(
    view: View,
    lines: Lines,
    hint: int | None,
    accept: Accept | None,
    contradictions: list[Contradiction],
) -> Located:
    found = locate(view, *sides(lines), hint=hint, accept=accept)
    if found.placement is not None or found.ambiguous:
        return found
    return _shrunk(view, lines, hint, accept, contradictions)


def _shrunk(
    view: View,
    lines: Lines,
    hint: int | None,
    accept: Accept | None,
    contradictions: list[Contradiction],
) -> Located:
    """Drop context lines at the edges, fewest first, until the hunk matches: one match wins;
    several (at the same number of dropped lines, or any at all) are ambiguous. A match whose
    dropped lines contradict the file does not count (it is noted in ``contradictions``)."""
    lead = _context_run(lines)
    trail = _context_run(lines[::-1]) if lead < len(lines) else 0
    if not _core_in_file(view, lines[lead : len(lines) - trail]):
        # Every shrunk part keeps these lines: trying hundreds of trims would only fail slower.
        return Located()
    for dropped in range(1, lead + trail + 1):
        placements: list[Placement] = []
        for front in range(max(0, dropped - trail), min(lead, dropped) + 1):
            back = dropped - front
            part = lines[front : len(lines) - back]
            if not _anchored(part) or _loose_edge(lines, part):
                continue
            old, new = sides(part)
            shrunk = locate(
                view, old, new, hint=None if hint is None else hint + front, accept=accept
            )
            if shrunk.ambiguous:
                return shrunk  # less context only matches more places: stop here
            if shrunk.placement is None:
                continue
            wrong = _contradiction(
                view, lines[:front], lines[len(lines) - back :], shrunk.placement
            )
            if wrong is not None:
                contradictions.append(wrong)
                continue
            placements.append(fuzzy(shrunk.placement))
        distinct = {(p.start, p.end, p.lines): p for p in placements}
        if len(distinct) == 1:
            return Located(placements[0])
        if len(distinct) > 1:
            return Located(candidates=tuple(sorted({p.at for p in distinct.values()})))
    return Located()


def _contradiction(
    view: View, head: Lines, tail: Lines, placement: Placement
) -> Contradiction | None:
    """The first dropped context line that is not in the file on its side of ``placement``:
    the lines dropped before it must be found in order above it, those dropped after it
    below it, with at most ``MAX_SKIPPED`` unchanged lines skipped in all (blank lines are
    not evidence either way)."""
    above = view.stripped[max(0, placement.at - len(head) - MAX_SKIPPED) : placement.at]
    missing = _unmatched([text for _, text in head][::-1], above[::-1])
    if missing is not None:
        return Contradiction(missing[0], max(0, placement.at - 1 - missing[1]))
    below = view.stripped[placement.stop : placement.stop + len(tail) + MAX_SKIPPED]
    missing = _unmatched([text for _, text in tail], below)
    if missing is not None:
        return Contradiction(missing[0], min(len(view.lines) - 1, placement.stop + missing[1]))
    return None


def _unmatched(wanted: Sequence[str], file_lines: Sequence[str]) -> tuple[str, int] | None:
    """The first non-blank ``wanted`` line not found, in order, in ``file_lines`` (stripped),
    with the index of the file line it would have been next to."""
    k = 0
    for text in wanted:
        if not text.strip():
            continue
        start = k
        while k < len(file_lines) and file_lines[k] != text.strip():
            k += 1
        if k == len(file_lines):
            return text, start
        k += 1
    return None


def _core_in_file(view: View, core: Lines) -> bool:
    """Whether the old lines of ``core`` (blank edges aside: the ladder may trim those) are
    in the file, in a row."""
    old = [text for tag, text in core if tag != "+"]
    lead = next((k for k, text in enumerate(old) if text.strip()), len(old))
    trail = next((k for k, text in enumerate(reversed(old)) if text.strip()), 0)
    return view.has_run(old[lead : len(old) - trail])


def _context_run(lines: Lines) -> int:
    n = 0
    for tag, _ in lines:
        if tag != " ":
            break
        n += 1
    return n


def _loose_edge(lines: Lines, part: Lines) -> bool:
    """True when shrinking left a pure insertion at an edge that had context before.

    The dropped context was the inserted lines' anchor on that side; what is left would only
    say where they go from the other side, which may be the wrong side of a gap in the hunk.
    (Added lines that replace removed lines are placed by those removed lines.)
    """
    return (lines[0][0] == " " and _pure_insertion(part)) or (
        lines[-1][0] == " " and _pure_insertion(part[::-1])
    )


def _pure_insertion(lines: Lines) -> bool:
    """Whether the run of changed lines at the start of ``lines`` only adds lines."""
    run = []
    for tag, _ in lines:
        if tag == " ":
            break
        run.append(tag)
    return bool(run) and "-" not in run


def _anchored(lines: Lines) -> bool:
    """A hunk part can be placed only if it has old lines, and not only blank ones."""
    return any(tag != "+" and text.strip() for tag, text in lines)


def _split(
    view: View, lines: Lines, hint: int | None, contradictions: list[Contradiction]
) -> list[Placement]:
    pieces = _pieces(lines)
    if len(pieces) < 2:
        return []
    placements: list[Placement] = []
    floor = 0
    for offset, piece in pieces:

        def after_previous(p: Placement, floor: int = floor) -> bool:
            return p.start >= floor

        found = _whole_or_shrunk(
            view, piece, None if hint is None else hint + offset, after_previous, contradictions
        )
        if found.placement is None:
            return []
        placements.append(fuzzy(found.placement))
        floor = found.placement.end
    return placements


def _pieces(lines: Lines) -> list[tuple[int, Lines]]:
    """One piece per run of changed lines, with the context on both sides of it.

    Returns ``(old-line offset of the piece within the hunk, piece lines)``.
    """
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if lines[i][0] == " ":
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j][0] != " ":
            j += 1
        groups.append((i, j))
        i = j
    pieces = []
    for k in range(len(groups)):
        lo = groups[k - 1][1] if k else 0
        hi = groups[k + 1][0] if k + 1 < len(groups) else len(lines)
        offset = sum(1 for tag, _ in lines[:lo] if tag != "+")
        pieces.append((offset, lines[lo:hi]))
    return pieces
