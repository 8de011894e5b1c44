"""Feedback for failed edits: what was not found, the closest real lines, and what to do."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence

from agentless.edits.locate import Placement, View, locate

MAX_QUOTED = 30  # lines of SEARCH / file quoted back, at most
MIN_SIMILARITY = 0.5


def fenced(lines: Sequence[str]) -> str:
    shown = list(lines[:MAX_QUOTED])
    if len(lines) > MAX_QUOTED:
        shown.append(f"... ({len(lines) - MAX_QUOTED} more lines)")
    return "```\n" + "\n".join(shown) + "\n```"


def closest_region(file_lines: Sequence[str], wanted: Sequence[str]) -> tuple[int, int] | None:
    """``[start, end)`` of the file region most like ``wanted``, or ``None`` if nothing is."""
    probes = [(k, w.strip()) for k, w in enumerate(wanted) if w.strip()]
    if not probes or not file_lines:
        return None
    stripped = [line.strip() for line in file_lines]
    votes = _votes(stripped, probes, exact=True) or _votes(stripped, probes[:6], exact=False)
    if not votes:
        return None
    # Scored on the lines quoted back at most: character matching is quadratic, and a whole
    # file pasted as SEARCH would take seconds per candidate.
    scored = min(len(wanted), MAX_QUOTED)
    target = "\n".join(w.strip() for w in wanted[:scored])
    best: tuple[float, int] | None = None
    for start, _ in votes.most_common(8):
        start = max(0, min(start, len(file_lines) - 1))
        window = "\n".join(stripped[start : start + scored])
        score = difflib.SequenceMatcher(None, target, window, autojunk=False).ratio()
        if best is None or score > best[0]:
            best = (score, start)
    if best is None or best[0] < MIN_SIMILARITY:
        return None
    start = best[1]
    return start, min(len(file_lines), start + max(len(wanted), 1))


def _votes(stripped: Sequence[str], probes: Sequence[tuple[int, str]], exact: bool) -> Counter[int]:
    votes: Counter[int] = Counter()
    if exact:
        where: dict[str, list[int]] = {}
        for i, line in enumerate(stripped):
            where.setdefault(line, []).append(i)
        for k, text in probes:
            for i in where.get(text, []):
                votes[i - k] += 1
        return votes
    for k, text in probes:
        for close in difflib.get_close_matches(text, stripped, n=3, cutoff=0.6):
            for i, line in enumerate(stripped):
                if line == close:
                    votes[i - k] += 1
    return votes


def did_you_mean(view: View, path: str, wanted: Sequence[str]) -> str:
    region = closest_region(view.lines, wanted)
    if region is None:
        return ""
    start, end = region
    return (
        f"Did you mean these lines of {path} (lines {start + 1}-{end})?\n"
        f"{fenced(view.lines[start:end])}"
    )


def already_present(view: View, path: str, before: Sequence[str], after: Sequence[str]) -> str:
    """A note when the replacement is already in the file (the edit may be done already)."""
    if not any(a.strip() for a in after) or [b.rstrip() for b in before] == [
        a.rstrip() for a in after
    ]:
        return ""
    found = locate(view, after, after)
    where = found.placement.at if found.placement else (found.candidates or (None,))[0]
    if where is None:
        return ""
    return (
        f"Note: the replacement lines are already in {path} (at line {where + 1}); if that "
        "change is already made, leave this edit out."
    )


def no_match(view: View, path: str, label: str, before: Sequence[str], after: Sequence[str]) -> str:
    what = "its context and `-` lines" if label.startswith(("hunk", "the hunk")) else "SEARCH"
    parts = [f"{label} failed: {what} did not match {path}. It looked for:\n{fenced(before)}"]
    for extra in (did_you_mean(view, path, before), already_present(view, path, before, after)):
        if extra:
            parts.append(extra)
    parts.append(
        "Copy the lines to change exactly as they are in the file, indentation, blank lines "
        "and comments included."
    )
    return "\n".join(parts)


def contradicts(view: View, path: str, label: str, line: str, at: int) -> str:
    """Feedback for a hunk whose context line says the file has a line it does not have."""
    return (
        f"{label} failed: its context does not match {path}. The hunk has the context line\n"
        f"{fenced([line])}\nwhere {path} has, at line {at + 1}:\n{fenced([view.lines[at]])}\n"
        "Context lines (starting with a space) must be copied from the file exactly; only "
        "lines starting with `-` or `+` change."
    )


def breaks_syntax(
    view: View, path: str, label: str, placements: Sequence[Placement], error: str
) -> str:
    """Feedback for an edit that matched only loosely and would leave the file unparsable."""
    at = min(p.at for p in placements)
    stop = max(p.stop for p in placements)
    lo, hi = max(0, at - 1), min(len(view.lines), stop + 1)
    return (
        f"{label} failed: its lines match {path} only loosely (whitespace, indentation or "
        f"context differ), and placed there it would break the file's syntax ({error} of the "
        f"result). The lines it matched (lines {lo + 1}-{hi}):\n{fenced(view.lines[lo:hi])}\n"
        "Copy the lines to change exactly as they are in the file, indentation included, and "
        "indent the new lines to fit."
    )


def ambiguous(path: str, label: str, candidates: Sequence[int]) -> str:
    lines = ", ".join(str(c + 1) for c in candidates[:10])
    return (
        f"{label} failed: it matches {len(candidates)} places in {path} (lines {lines}). "
        "Include more of the surrounding lines so that it matches exactly one place."
    )


def elided(view: View, path: str, label: str, before: Sequence[str], why: str) -> str:
    """Feedback for a SEARCH block with ``...`` elisions that could not be placed."""
    why = why.removeprefix("ambiguous: ")
    parts = [f"{label} failed in {path}: {why} It looked for:\n{fenced(before)}"]
    hint = did_you_mean(view, path, [b for b in before if b.strip() not in ("...", "…")])
    if hint:
        parts.append(hint)
    parts.append(
        "Prefer quoting the exact lines; if you leave lines out with `...`, put the same `...` "
        "lines in REPLACE, and quote enough around them that each part matches one place."
    )
    return "\n".join(parts)
