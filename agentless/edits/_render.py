"""Render before/after texts as one canonical ``diff --git`` patch.

The output follows git's own conventions so that ``git apply`` and ``unidiff`` read it: file
headers with ``a/``/``b/`` prefixes, C-quoted names where git would quote them, ``new file`` /
``deleted file`` lines, three lines of context, ``\\ No newline at end of file`` markers, and
CR kept as part of a line's content.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from difflib import SequenceMatcher

CONTEXT = 3
_NO_NEWLINE = "\\ No newline at end of file\n"


def render_diff(old_files: Mapping[str, str], new_files: Mapping[str, str | None]) -> str:
    """A patch turning ``old_files`` into ``new_files``, files in sorted order.

    ``new_files`` maps a path to its new text, or to ``None`` when the file is deleted; a path
    missing from ``old_files`` is a new file; paths absent from ``new_files`` are unchanged.
    """
    parts: list[str] = []
    for path in sorted(new_files):
        old = old_files.get(path)
        new = new_files[path]
        if old == new or (old is None and new is None):
            continue
        parts.append(_file_diff(path, old, new))
    return "".join(parts)


def _file_diff(path: str, old: str | None, new: str | None) -> str:
    a_name, b_name = _quote("a/" + path), _quote("b/" + path)
    lines = [f"diff --git {a_name} {b_name}\n"]
    if old is None:
        lines.append("new file mode 100644\n")
    elif new is None:
        lines.append("deleted file mode 100644\n")
    a_lines = _keep_ends(old or "")
    b_lines = _keep_ends(new or "")
    if not a_lines and not b_lines:
        return "".join(lines)  # empty file created or deleted: git writes no hunk
    lines.append(f"--- {'/dev/null' if old is None else _header_name(a_name)}\n")
    lines.append(f"+++ {'/dev/null' if new is None else _header_name(b_name)}\n")
    lines.extend(_hunks(a_lines, b_lines))
    return "".join(lines)


def _hunks(a: Sequence[str], b: Sequence[str]) -> Iterator[str]:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        yield f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n"
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                yield from _prefixed(" ", a[a1:a2])
                continue
            yield from _prefixed("-", a[a1:a2])
            yield from _prefixed("+", b[b1:b2])


def _range(start: int, end: int) -> str:
    length = end - start
    if length == 0:
        return f"{start},0"  # an empty range names the line before it
    if length == 1:
        return str(start + 1)
    return f"{start + 1},{length}"


def _prefixed(sign: str, lines: Sequence[str]) -> Iterator[str]:
    for line in lines:
        if line.endswith("\n"):
            yield sign + line
        else:
            yield sign + line + "\n" + _NO_NEWLINE


def _keep_ends(text: str) -> list[str]:
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _needs_quotes(name: str) -> bool:
    return any(ch in '"\\' or ord(ch) < 0x20 or ord(ch) >= 0x7F for ch in name)


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f"}
_ESCAPES.update({"\r": "\\r", '"': '\\"', "\\": "\\\\"})


def _quote(name: str) -> str:
    """Quote a path the way git does (C escapes, UTF-8 bytes in octal)."""
    if not _needs_quotes(name):
        return name
    out = []
    for ch in name:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) >= 0x7F:
            out.extend(f"\\{byte:03o}" for byte in ch.encode("utf-8", "surrogateescape"))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _header_name(name: str) -> str:
    # git ends a ---/+++ name that contains a space with a tab, so readers know where it stops.
    return name + "\t" if " " in name else name
