"""Find where an edit's old lines are in a file: the matching ladder.

For a block of old lines (``before``) and its replacement (``after``) the rungs are tried in
order, first on the block as written, then with leading/trailing blank lines trimmed:

1. ``exact`` - the lines are in the file as written;
2. ``rstrip`` - equal once trailing whitespace is ignored;
3. ``indent`` - equal after leading whitespace, with one consistent indentation mapping
   (shift, removal, or spaces for tabs); the replacement is re-indented the same way.

The first rung that matches decides: one match is used; several are a failure unless a line
hint (from a hunk header) is clearly nearest to one of them (less than half the distance of
the next). Lines of the replacement that
repeat lines of ``before`` are taken verbatim from the file, so whatever the model got slightly
wrong about them (whitespace, indentation, line endings) is not written back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import cached_property

from agentless.edits._indent import Reindent, file_unit, fit, split_indent
from agentless.edits._text import Doc

RUNGS = ("exact", "rstrip", "indent")


@dataclass(frozen=True)
class Placement:
    """Replace file lines ``[start, end)`` with ``lines``.

    ``[at, stop)`` is the whole matched region; ``[start, end)`` is the part of it that
    changes (lines kept unchanged at either edge are left out). ``fuzzy``: found by any rung
    but an exact match of the lines as written (whitespace, indentation, trimmed edges,
    elision, splitting), so it must not break a file's syntax.
    """

    start: int
    end: int
    lines: tuple[str, ...]
    eols: tuple[str | None, ...]
    how: str
    at: int
    stop: int
    fuzzy: bool = False


def fuzzy(placement: Placement) -> Placement:
    """The same placement, marked as found by a fuzzy rung."""
    return replace(placement, fuzzy=True)


@dataclass(frozen=True)
class Located:
    """A placement, or the 0-based starts of the competing matches (empty: no match)."""

    placement: Placement | None = None
    candidates: tuple[int, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.placement is None and len(self.candidates) > 1


Accept = Callable[[Placement], bool]


@dataclass
class View:
    """A file prepared for searching: normalised lines and an index by stripped content."""

    doc: Doc
    _index: dict[str, list[int]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for i, line in enumerate(self.doc.lines):
            self._index.setdefault(line.strip(), []).append(i)

    @property
    def lines(self) -> list[str]:
        return self.doc.lines

    @cached_property
    def rstripped(self) -> list[str]:
        return [line.rstrip() for line in self.doc.lines]

    @cached_property
    def stripped(self) -> list[str]:
        return [line.strip() for line in self.doc.lines]

    @cached_property
    def unit(self) -> str | None:
        return file_unit(self.doc.lines)

    def starts(self, before: Sequence[str]) -> list[int]:
        """Where ``before`` could start: its first non-blank line matches, stripped."""
        first = next((k for k, line in enumerate(before) if line.strip()), None)
        if first is None:
            return []
        limit = len(self.lines) - len(before)
        found = self._index.get(before[first].strip(), [])
        return [p - first for p in found if 0 <= p - first <= limit]

    def has_run(self, lines: Sequence[str]) -> bool:
        """Whether ``lines`` are file lines in a row, compared stripped (as no rung of the
        ladder compares more loosely, a block without such a run matches nowhere)."""
        wanted = [line.strip() for line in lines]
        if not wanted:
            return True
        return any(
            self.stripped[p : p + len(wanted)] == wanted for p in self._index.get(wanted[0], [])
        )


def locate(
    view: View,
    before: Sequence[str],
    after: Sequence[str],
    *,
    hint: int | None = None,
    accept: Accept | None = None,
) -> Located:
    """Place ``before`` -> ``after`` in the file by the ladder (see the module docstring)."""
    for trimmed, (old, new, offset) in enumerate(_variants(before, after)):
        for rung in RUNGS:
            found = [p for p in find(view, old, new, rung) if accept is None or accept(p)]
            if found:
                if rung != "exact" or trimmed:
                    found = [fuzzy(p) for p in found]
                return decide(found, None if hint is None else hint + offset)
    return Located()


def decide(found: Sequence[Placement], hint: int | None) -> Located:
    """One placement, or a tie: the hint picks only a strictly closest match."""
    unique = list({(p.start, p.end, p.lines): p for p in found}.values())
    if len(unique) == 1:
        return Located(unique[0])
    if hint is not None:
        ranked = sorted(unique, key=lambda p: abs(p.at - hint))
        # The header's line number is often wrong: it decides only when one match is clearly
        # nearer than the next (less than half its distance), never between near-equals.
        if 2 * abs(ranked[0].at - hint) < abs(ranked[1].at - hint):
            return Located(ranked[0])
    return Located(candidates=tuple(sorted({p.at for p in unique})))


def _variants(
    before: Sequence[str], after: Sequence[str]
) -> Iterator[tuple[Sequence[str], Sequence[str], int]]:
    yield before, after, 0
    lead = _blank_run(before)
    trail = _blank_run(before[::-1]) if lead < len(before) else 0
    if (lead or trail) and lead < len(before):
        a_lead = min(lead, _blank_run(after))
        a_trail = min(trail, _blank_run(after[::-1]), len(after) - a_lead)
        yield (
            before[lead : len(before) - trail],
            after[a_lead : len(after) - a_trail],
            lead,
        )


def _blank_run(lines: Sequence[str]) -> int:
    n = 0
    for line in lines:
        if line.strip():
            break
        n += 1
    return n


def find(view: View, before: Sequence[str], after: Sequence[str], rung: str) -> list[Placement]:
    """Every placement of ``before`` in the file by one rung of the ladder."""
    found = []
    for start in view.starts(before):
        reindent = match(view, start, before, rung, after)
        if reindent is None:
            continue
        placement = build(view, start, before, after, reindent, rung)
        if placement is not None:
            found.append(placement)
    return found


def _same(indent: str) -> str:
    return indent


def match(
    view: View, start: int, before: Sequence[str], rung: str, after: Sequence[str] = ()
) -> Reindent | None:
    """The indentation mapping under which ``before`` matches at ``start``, else ``None``.

    ``after`` (the replacement) must be mappable too."""
    window = view.lines[start : start + len(before)]
    if rung == "exact":
        return _same if window == list(before) else None
    if rung == "rstrip":
        rstripped = view.rstripped[start : start + len(before)]
        return _same if rstripped == [b.rstrip() for b in before] else None
    pairs = []
    for model, real in zip(before, window, strict=True):
        m_indent, m_rest = split_indent(model.rstrip())
        f_indent, f_rest = split_indent(real.rstrip())
        if m_rest != f_rest:
            return None
        if m_rest:
            pairs.append((m_indent, f_indent))
    indents = [split_indent(line)[0] for line in (*before, *after) if line.strip()]
    return fit(pairs, indents, view.unit)


def build(
    view: View,
    start: int,
    before: Sequence[str],
    after: Sequence[str],
    reindent: Reindent,
    rung: str,
    *,
    end: int | None = None,
    positions: Sequence[int] | None = None,
) -> Placement | None:
    """The replacement for a match: lines repeated from ``before`` are copied from the file,
    new lines are re-indented; the result is trimmed to the lines that really change.

    By default ``before`` sits at ``start`` contiguously; ``positions`` (the file line of each
    ``before`` line) and ``end`` describe a match with gaps (``...`` elisions).
    """
    where = positions if positions is not None else range(start, start + len(before))
    lines: list[str] = []
    eols: list[str | None] = []
    carried = _carried(before, after)
    for j, line in enumerate(after):
        k = carried.get(j)
        if k is not None:
            lines.append(view.lines[where[k]])
            eols.append(view.doc.eols[where[k]])
            continue
        new = _reindented(line, reindent)
        if new is None:
            return None
        lines.append(new)
        eols.append(None)
    stop = start + len(before) if end is None else end
    return _trimmed(view, start, stop, lines, eols, rung)


def _carried(before: Sequence[str], after: Sequence[str]) -> dict[int, int]:
    """after-index -> before-index for the lines the replacement keeps unchanged."""
    matcher = SequenceMatcher(
        None, [b.rstrip() for b in before], [a.rstrip() for a in after], autojunk=False
    )
    carried = {}
    for block in matcher.get_matching_blocks():
        for n in range(block.size):
            carried[block.b + n] = block.a + n
    return carried


def _reindented(line: str, reindent: Reindent) -> str | None:
    if not line.strip():
        return ""
    indent, rest = split_indent(line)
    new = reindent(indent)
    return None if new is None else new + rest


def _trimmed(
    view: View, start: int, end: int, lines: list[str], eols: list[str | None], rung: str
) -> Placement:
    at = start
    newline = view.doc.newline
    old = list(zip(view.lines[start:end], view.doc.eols[start:end], strict=True))
    new = [(line, newline if e is None else e) for line, e in zip(lines, eols, strict=True)]
    head = 0
    while head < len(old) and head < len(new) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < len(old) - head and tail < len(new) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return Placement(
        start + head,
        end - tail,
        tuple(lines[head : len(lines) - tail]),
        tuple(eols[head : len(eols) - tail]),
        rung,
        at,
        end,
    )
