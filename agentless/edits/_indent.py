"""Indentation: how a model's indentation maps onto the file's.

Models shift whole blocks (a method quoted without its class indentation), drop indentation,
or write spaces where the file has tabs. When every quoted line matches a file line after its
leading whitespace, a consistent mapping from the model's indentation to the file's is fitted
and then applied to the replacement lines. A shift must be whole steps of the file's own
indentation: a one-space shift is a sign of a misread line (a diff context line that lost its
marker), not of a re-indented block.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from math import gcd

#: Maps one model indentation string to the file's; ``None`` when it cannot be mapped.
Reindent = Callable[[str], "str | None"]


def split_indent(line: str) -> tuple[str, str]:
    rest = line.lstrip(" \t")
    return line[: len(line) - len(rest)], rest


def unit_of(indents: Iterable[str]) -> str | None:
    """The indentation step of a set of indents: ``"\\t"``, ``" " * n``, or ``None``."""
    used = [i for i in indents if i]
    if not used:
        return None
    if all(set(i) == {"\t"} for i in used):
        return "\t"
    if all(set(i) == {" "} for i in used):
        return " " * gcd(*(len(i) for i in used))
    return None


def file_unit(lines: Sequence[str]) -> str | None:
    """The indentation step a whole file uses: tabs, or the commonest increase in spaces."""
    indents = [split_indent(line)[0] for line in lines if line.strip()]
    tabbed = sum(1 for i in indents if i.startswith("\t"))
    spaced = sum(1 for i in indents if i.startswith(" "))
    if tabbed > spaced:
        return "\t"
    steps: Counter[int] = Counter()
    previous = 0
    for indent in indents:
        if set(indent) <= {" "}:
            if len(indent) > previous:
                steps[len(indent) - previous] += 1
            previous = len(indent)
    return " " * steps.most_common(1)[0][0] if steps else None


def _level(indent: str, unit: str | None) -> int | None:
    if not indent:
        return 0
    if unit and len(indent) % len(unit) == 0 and indent == unit * (len(indent) // len(unit)):
        return len(indent) // len(unit)
    return None


def fit(
    pairs: Sequence[tuple[str, str]], model_indents: Iterable[str], unit: str | None
) -> Reindent | None:
    """A mapping that turns every ``(model, file)`` indent pair's first into its second.

    Tried in order: one prefix added to every line, one prefix removed from every line, then
    indentation levels (model unit -> file unit, shifted by a constant number of levels), which
    covers spaces written for tabs. ``unit`` is the file's indentation step, if known. The
    mapping must also take every other model indent (``model_indents``: those of the
    replacement too) somewhere, without mixing tabs and spaces where the file does not.
    """
    if not pairs:
        return None
    indents = list(model_indents)
    pure = all(_pure(f) for _, f in pairs)
    prefixes = (_added_prefix(pairs, unit), _removed_prefix(pairs, unit))
    for candidate in (*prefixes, _levels(pairs, indents, unit)):
        if candidate is None:
            continue
        mapped = [candidate(i) for i in indents]
        if all(m is not None and (_pure(m) or not pure) for m in mapped):
            return candidate
    return None


def _pure(indent: str) -> bool:
    return set(indent) <= {" "} or set(indent) <= {"\t"}


def explained(shift: str, unit: str | None) -> bool:
    """Whether the file's indentation step explains a shift: whole steps of it (any even
    number of spaces, or tabs, when the file shows no step)."""
    if not shift:
        return True
    if unit:
        return shift == unit * (len(shift) // len(unit))
    return set(shift) == {"\t"} or (set(shift) == {" "} and len(shift) % 2 == 0)


def _added_prefix(pairs: Sequence[tuple[str, str]], unit: str | None) -> Reindent | None:
    model, real = pairs[0]
    if not real.endswith(model):
        return None
    prefix = real[: len(real) - len(model)]
    if explained(prefix, unit) and all(f == prefix + m for m, f in pairs):
        return lambda indent: prefix + indent
    return None


def _removed_prefix(pairs: Sequence[tuple[str, str]], unit: str | None) -> Reindent | None:
    model, real = pairs[0]
    if not model.endswith(real):
        return None
    prefix = model[: len(model) - len(real)]
    if explained(prefix, unit) and all(m == prefix + f for m, f in pairs):
        return lambda indent: indent[len(prefix) :] if indent.startswith(prefix) else None
    return None


def _levels(
    pairs: Sequence[tuple[str, str]], model_indents: Iterable[str], unit: str | None
) -> Reindent | None:
    indents = list(model_indents)
    block_unit = unit_of(f for _, f in pairs)
    file_step = unit if unit and all(_level(f, unit) is not None for _, f in pairs) else block_unit
    # A model that kept some tabs and turned others into spaces: read its tabs as 4 or 8.
    mixed = any("\t" in i for i in indents) and any(" " in i for i in indents)
    for tabsize in (4, 8) if mixed else (0,):
        expand = _expander(tabsize)
        model_pairs = [(expand(m), f) for m, f in pairs]
        for model_unit in _model_units([expand(i) for i in indents]):
            shift = _shift(model_pairs, model_unit, file_step)
            if shift is not None:
                return _reindent_levels(model_unit, file_step, shift, expand)
    return None


def _expander(tabsize: int) -> Callable[[str], str]:
    return (lambda indent: indent.expandtabs(tabsize)) if tabsize else (lambda indent: indent)


def _model_units(indents: Sequence[str]) -> list[str | None]:
    """Candidate steps for the model's indentation, the usual 4 spaces first when they divide
    every indent (a model's lone line at 8 spaces is two levels, not one), then the gcd of its
    indents, then 2 spaces."""
    first = unit_of(indents)
    if not first or set(first) != {" "}:
        return [first]
    width = len(first)
    if width == 1:
        return [None]  # nobody indents by one space: some line's indentation is misread
    out: list[str | None] = [" " * 4] if width % 4 == 0 else []
    out += [first] + ([" " * 2] if width % 2 == 0 and width > 2 else [])
    return list(dict.fromkeys(out))


def _shift(
    pairs: Sequence[tuple[str, str]], model_unit: str | None, file_step: str | None
) -> int | None:
    shifts = set()
    for m, f in pairs:
        lm, lf = _level(m, model_unit), _level(f, file_step)
        if lm is None or lf is None:
            return None
        shifts.add(lf - lm)
    return shifts.pop() if len(shifts) == 1 else None


def _reindent_levels(
    model_unit: str | None, file_step: str | None, shift: int, expand: Callable[[str], str]
) -> Reindent:
    def reindent(indent: str) -> str | None:
        level = _level(expand(indent), model_unit)
        if level is None or level + shift < 0:
            return None
        step = file_step or model_unit or ""
        return step * (level + shift) if level + shift else ""

    return reindent
