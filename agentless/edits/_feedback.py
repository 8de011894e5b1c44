"""Feedback for failed edits: what was not found, the closest real lines, and what to do."""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Sequence

from agentless.edits._locate import Placement, View, locate

MAX_QUOTED = 30  # lines of SEARCH / file quoted back, at most
MIN_SIMILARITY = 0.5


def fenced(lines: Sequence[str]) -> str:
    shown = list(lines[:MAX_QUOTED])
    if len(lines) > MAX_QUOTED:
        shown.append(f"... ({len(lines) - MAX_QUOTED} more lines)")
    return "```\n" + "\n".join(shown) + "\n```"


def closest_region(file_lines: Sequence[str], wanted: Sequence[str]) -> tuple[int, int] | None:
    """``[start, end)`` of the file region most like ``wanted``, or ``None`` if nothing is.

    Lines of ``wanted`` found verbatim vote for where it starts; failing that, each of its
    first lines votes for the file lines that share its rarest names, counting the names of
    the block a line sits in (a SEARCH for ``return median(values)`` belongs in ``median()``,
    not in whichever function has the most similar ``return`` line). The candidates are then
    ranked by text similarity and by those names together.
    """
    probes = [(k, w.strip()) for k, w in enumerate(wanted) if w.strip()]
    if not probes or not file_lines:
        return None
    scope = _Scope(file_lines)
    votes = _exact_votes(scope.stripped, probes) or _relevant_votes(scope, probes[:6])
    if not votes:
        return None
    # Scored on the lines quoted back at most: character matching is quadratic, and a whole
    # file pasted as SEARCH would take seconds per candidate.
    scored = min(len(wanted), MAX_QUOTED)
    target = "\n".join(w.strip() for w in wanted[:scored])
    names = scope.names(target)
    best: tuple[float, int] | None = None
    for start, _ in votes.most_common(8):
        start = max(0, min(start, len(file_lines) - 1))
        window = "\n".join(scope.stripped[start : start + scored])
        ratio = difflib.SequenceMatcher(None, target, window, autojunk=False).ratio()
        score = (ratio + scope.relevance(names, start, start + scored)) / 2
        if best is None or score > best[0]:
            best = (score, start)
    if best is None or best[0] < MIN_SIMILARITY:
        return None
    start = best[1]
    return start, min(len(file_lines), start + max(len(wanted), 1))


class _Scope:
    """A file's lines with the names each line and its enclosing blocks use, and how rare
    each name is in the file."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.stripped = [line.strip() for line in lines]
        self.own = [set(_NAME.findall(line)) for line in self.stripped]
        self.outer = _enclosing(lines)
        counts: Counter[str] = Counter(n for names in self.own for n in names)
        self.weight = {n: math.log((len(lines) + 1) / (c + 0.5)) for n, c in counts.items()}

    def names(self, text: str) -> set[str]:
        return set(_NAME.findall(text))

    def relevance(self, names: set[str], start: int, stop: int) -> float:
        """The share of ``names``' weight that lines ``[start, stop)`` and the blocks around
        them also use (unknown names weigh as much as the rarest)."""
        if not names:
            return 0.0
        present: set[str] = set()
        for i in range(start, min(stop, len(self.stripped))):
            present |= self.own[i]
        if start < len(self.outer):
            for j in self.outer[start]:
                present |= self.own[j]
        heaviest = max(self.weight.values(), default=1.0)
        total = sum(self.weight.get(n, heaviest) for n in names)
        return sum(self.weight.get(n, heaviest) for n in names & present) / total


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _enclosing(lines: Sequence[str]) -> list[tuple[int, ...]]:
    """For each line, the lines that open the blocks it sits in (less indented, above it)."""
    out: list[tuple[int, ...]] = []
    stack: list[tuple[int, int]] = []  # (indent width, line index)
    for i, line in enumerate(lines):
        if not line.strip():
            out.append(tuple(j for _, j in stack))
            continue
        width = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())
        while stack and stack[-1][0] >= width:
            stack.pop()
        out.append(tuple(j for _, j in stack))
        stack.append((width, i))
    return out


def _exact_votes(stripped: Sequence[str], probes: Sequence[tuple[int, str]]) -> Counter[int]:
    votes: Counter[int] = Counter()
    where: dict[str, list[int]] = {}
    for i, line in enumerate(stripped):
        where.setdefault(line, []).append(i)
    for k, text in probes:
        for i in where.get(text, []):
            votes[i - k] += 1
    return votes


def _relevant_votes(scope: _Scope, probes: Sequence[tuple[int, str]]) -> Counter[int]:
    votes: Counter[int] = Counter()
    for k, text in probes:
        names = scope.names(text)
        ranked = sorted(
            range(len(scope.stripped)),
            key=lambda i: (
                scope.relevance(names, i, i + 1),
                difflib.SequenceMatcher(None, text, scope.stripped[i]).quick_ratio(),
            ),
            reverse=True,
        )
        for i in ranked[:3]:
            if scope.stripped[i]:
                votes[i - k] += 1
    return votes


def did_you_mean(view: View, path: str, wanted: Sequence[str]) -> str:
    region = closest_region(view.lines, wanted)
    if region is None:
        return ""
    start, end = region
    where = f"line {start + 1}" if end - start == 1 else f"lines {start + 1}-{end}"
    return f"Did you mean these lines of {path} ({where})?\n{fenced(view.lines[start:end])}"


def whole_short_file(view: View, path: str) -> str:
    """A file short enough to quote whole (a stub), for an edit nothing in it resembles: the
    edit quoted code the model imagined, and seeing the real file is what can correct it."""
    if not view.lines or len(view.lines) > MAX_QUOTED:
        return ""
    return f"{path} has {len(view.lines)} lines, all of them:\n{fenced(view.lines)}"


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
    real = did_you_mean(view, path, before) or whole_short_file(view, path)
    for extra in (real, already_present(view, path, before, after)):
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
