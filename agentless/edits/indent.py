"""Indentation: how a model's indentation maps onto the file's.

Models shift whole blocks (a method quoted without its class indentation), drop indentation,
or write spaces where the file has tabs. When every quoted line matches a file line after its
leading whitespace, a consistent mapping from the model's indentation to the file's is fitted
and then applied to the replacement lines.
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
    covers spaces written for tabs. ``unit`` is the file's indentation step, if known.
    """
    if not pairs:
        return None
    return _added_prefix(pairs) or _removed_prefix(pairs) or _levels(pairs, model_indents, unit)


def _added_prefix(pairs: Sequence[tuple[str, str]]) -> Reindent | None:
    model, real = pairs[0]
    if not real.endswith(model):
        return None
    prefix = real[: len(real) - len(model)]
    if all(f == prefix + m for m, f in pairs):
        return lambda indent: prefix + indent
    return None


def _removed_prefix(pairs: Sequence[tuple[str, str]]) -> Reindent | None:
    model, real = pairs[0]
    if not model.endswith(real):
        return None
    prefix = model[: len(model) - len(real)]
    if all(m == prefix + f for m, f in pairs):
        return lambda indent: indent[len(prefix) :] if indent.startswith(prefix) else None
    return None


def _levels(
    pairs: Sequence[tuple[str, str]], model_indents: Iterable[str], unit: str | None
) -> Reindent | None:
    model_unit = unit_of(model_indents)
    block_unit = unit_of(f for _, f in pairs)
    file_step = unit if unit and all(_level(f, unit) is not None for _, f in pairs) else block_unit
    shifts = set()
    for m, f in pairs:
        lm, lf = _level(m, model_unit), _level(f, file_step)
        if lm is None or lf is None:
            return None
        shifts.add(lf - lm)
    if len(shifts) != 1:
        return None
    shift = shifts.pop()

    def reindent(indent: str) -> str | None:
        level = _level(indent, model_unit)
        if level is None or level + shift < 0:
            return None
        step = file_step or model_unit or ""
        return step * (level + shift) if level + shift else ""

    return reindent
