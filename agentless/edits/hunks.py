"""Placing unified-diff hunks: the ladder, then shrinking context, then splitting.

A hunk whose full text matches nowhere is retried with context lines dropped from its edges,
fewest first, while the match stays unique (models often get the outermost context lines
wrong). A hunk that still matches nowhere is split at its inner context runs into one piece
per group of changes (models skip unchanged lines in the middle of a hunk, or start a second
hunk without a header); each piece must then be found, uniquely, after the previous one.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentless.edits.locate import Accept, Located, Placement, View, locate

Lines = Sequence[tuple[str, str]]


def sides(lines: Lines) -> tuple[list[str], list[str]]:
    """The old and new lines of tagged hunk lines."""
    return [t for tag, t in lines if tag != "+"], [t for tag, t in lines if tag != "-"]


def locate_hunk(
    view: View, lines: Lines, hint: int | None
) -> tuple[list[Placement], tuple[int, ...]]:
    """Placements for a hunk (several when it had to be split), or the competing match starts
    when it is ambiguous (``([], ())`` when it matches nowhere)."""
    found = locate(view, *sides(lines), hint=hint)
    if found.placement is None and not found.ambiguous:
        found = _space_restored(view, lines, hint)
    if found.placement is None and not found.ambiguous:
        found = _shrunk(view, lines, hint, None)
    if found.placement is not None:
        return [found.placement], ()
    if found.ambiguous:
        return [], found.candidates
    return _split(view, lines, hint), ()


def _space_restored(view: View, lines: Lines, hint: int | None) -> Located:
    """The hunk read as if its indented context lines had lost their leading space marker
    (``"    x"`` meant as context ``"    x"``, not ``"   x"``). Only a unique match counts."""
    if not any(tag == " " and text[:1] in (" ", "\t") for tag, text in lines):
        return Located()
    restored = [(tag, " " + text if tag == " " and text.strip() else text) for tag, text in lines]
    found = locate(view, *sides(restored), hint=hint)
    return found if found.placement is not None else Located()


def _whole_or_shrunk(view: View, lines: Lines, hint: int | None, accept: Accept | None) -> Located:
    found = locate(view, *sides(lines), hint=hint, accept=accept)
    if found.placement is not None or found.ambiguous:
        return found
    return _shrunk(view, lines, hint, accept)


def _shrunk(view: View, lines: Lines, hint: int | None, accept: Accept | None) -> Located:
    """Drop context lines at the edges, fewest first, until the hunk matches: one match wins;
    several (at the same number of dropped lines, or any at all) are ambiguous."""
    lead = _context_run(lines)
    trail = _context_run(lines[::-1]) if lead < len(lines) else 0
    if not _core_in_file(view, lines[lead : len(lines) - trail]):
        # Every shrunk part keeps these lines: trying hundreds of trims would only fail slower.
        return Located()
    for dropped in range(1, lead + trail + 1):
        placements: list[Placement] = []
        for front in range(max(0, dropped - trail), min(lead, dropped) + 1):
            part = lines[front : len(lines) - (dropped - front)]
            if not _anchored(part) or _loose_edge(lines, part):
                continue
            old, new = sides(part)
            shrunk = locate(
                view, old, new, hint=None if hint is None else hint + front, accept=accept
            )
            if shrunk.ambiguous:
                return shrunk  # less context only matches more places: stop here
            if shrunk.placement is not None:
                placements.append(shrunk.placement)
        distinct = {(p.start, p.end, p.lines): p for p in placements}
        if len(distinct) == 1:
            return Located(placements[0])
        if len(distinct) > 1:
            return Located(candidates=tuple(sorted({p.at for p in distinct.values()})))
    return Located()


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


def _split(view: View, lines: Lines, hint: int | None) -> list[Placement]:
    pieces = _pieces(lines)
    if len(pieces) < 2:
        return []
    placements: list[Placement] = []
    floor = 0
    for offset, piece in pieces:

        def after_previous(p: Placement, floor: int = floor) -> bool:
            return p.start >= floor

        found = _whole_or_shrunk(
            view, piece, None if hint is None else hint + offset, after_previous
        )
        if found.placement is None:
            return []
        placements.append(found.placement)
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
