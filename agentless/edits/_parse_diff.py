"""Parse SEARCH/REPLACE blocks (the "diff" and "diff-fenced" formats).

A block is ``<<<<<<< SEARCH`` / old lines / ``=======`` / new lines / ``>>>>>>> REPLACE``, the
markers recognised on stripped lines with 5 to 9 marker characters. The path comes from the
nearest path line above the block (before the fence, inside it, or a ``### path`` header), from
the fence's info string, or else from the previous block.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from agentless.edits._data import Edit
from agentless.edits._fences import fence_mark, path_from_info, path_from_line
from agentless.edits._text import reply_lines

SEARCH = re.compile(r"^<{5,9}\s*SEARCH\b.*$", re.I)
DIVIDER = re.compile(r"^={5,9}$")
REPLACE = re.compile(r"^>{5,9}\s*REPLACE\b.*$", re.I)
LOOKBACK = 4  # non-blank lines above a block searched for its path


def is_search(line: str) -> bool:
    return bool(SEARCH.match(line.strip()))


def is_divider(line: str) -> bool:
    return bool(DIVIDER.match(line.strip()))


def is_replace(line: str) -> bool:
    return bool(REPLACE.match(line.strip()))


def parse_search_replace(reply: str, known: Collection[str] = ()) -> list[Edit]:
    """Every SEARCH/REPLACE block of ``reply``, malformed ones as ``kind="invalid"`` edits."""
    lines = reply_lines(reply)
    edits: list[Edit] = []
    path = ""
    floor = 0  # lines above this belong to the previous block
    i = 0
    while i < len(lines):
        if not is_search(lines[i]):
            i += 1
            continue
        number = len(edits) + 1
        path = _path_above(lines, i, floor, known) or path
        end, dividers = _block_end(lines, i)
        edit = _make_edit(lines, i, end, dividers, path, number)
        edits.append(edit)
        if end < len(lines) and not is_replace(lines[end]):
            floor, i = i + 1, end  # unterminated: the next block's path may sit inside it
        else:
            floor = i = end + 1
    return edits


def _block_end(lines: Sequence[str], start: int) -> tuple[int, list[int]]:
    """Index of the REPLACE marker (or of the next SEARCH / end of reply when it is missing)."""
    dividers: list[int] = []
    for j in range(start + 1, len(lines)):
        if is_replace(lines[j]) or is_search(lines[j]):
            return j, dividers
        if is_divider(lines[j]):
            dividers.append(j)
    return len(lines), dividers


def _make_edit(
    lines: Sequence[str], start: int, end: int, dividers: list[int], path: str, number: int
) -> Edit:
    label = f"SEARCH/REPLACE block {number}"
    where = f" for {path}" if path else ""
    if end >= len(lines) or not is_replace(lines[end]):
        return _invalid(path, label, f"{label}{where} has no `>>>>>>> REPLACE` line to end it.")
    if not dividers:
        return _invalid(
            path, label, f"{label}{where} has no `=======` line between SEARCH and REPLACE."
        )
    if len(dividers) > 1:
        return _invalid(
            path,
            label,
            f"{label}{where} has {len(dividers)} `=======` lines; use exactly one, between the "
            "SEARCH and REPLACE sections.",
        )
    if not path:
        return _invalid(
            "", label, f"{label} has no file path; put the path on the line before the block."
        )
    search = tuple(lines[start + 1 : dividers[0]])
    replace = tuple(lines[dividers[0] + 1 : end])
    return Edit(
        "replace",
        path,
        search,
        replace,
        creates=not any(s.strip() for s in search),
        label=label,
        raw_path=path,
    )


def _invalid(path: str, label: str, message: str) -> Edit:
    return Edit("invalid", path, label=label, raw_path=path, error=message)


def _path_above(lines: Sequence[str], index: int, floor: int, known: Collection[str]) -> str:
    """The path named just above a block: skip fences and blanks, look at a few lines."""
    seen = 0
    info_path = ""
    for j in range(index - 1, floor - 1, -1):
        line = lines[j]
        if not line.strip():
            continue
        fence = fence_mark(line)
        if fence is not None:
            info_path = info_path or (path_from_info(fence[1], known) or "")
            continue
        if is_replace(line):
            break
        found = path_from_line(line, known)
        if found:
            return found
        seen += 1
        if seen >= LOOKBACK:
            break
    return info_path
