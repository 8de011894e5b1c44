"""Parse unified diffs as models write them.

Accepted: ``diff --git`` headers or none, ``a/``/``b/`` prefixes or none, ``@@`` headers with
real, wrong or missing line numbers (counts are ignored), several files and hunks, implicit
hunks right after a file header, ``/dev/null`` for new and deleted files, blank context lines
that lost their leading space, and ``\\ No newline at end of file``. A hunk ends at the next
header, at a fence line, or at a line no hunk line can start with; unprefixed lines inside a
hunk are read as context only when more hunk lines follow them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agentless.edits._data import Edit
from agentless.edits._fences import find_fences, is_fence
from agentless.edits._text import reply_lines

HUNK_HEADER = re.compile(r"^@@+\s*(?:-(\d+)(?:,(\d+))?\s*\+?(\d+)?(?:,(\d+))?\s*)?@*.*$")
GIT_HEADER = re.compile(r"^diff --git (.+)$")
DEV_NULL = "/dev/null"


@dataclass
class _File:
    old: str = ""
    new: str = ""
    created: bool = False
    deleted: bool = False
    hunks: list[_Hunk] = field(default_factory=list)


@dataclass
class _Hunk:
    hint: int | None
    lines: list[tuple[str, str]] = field(default_factory=list)
    pending: list[tuple[str, str]] = field(default_factory=list)  # unprefixed, not yet confirmed
    no_newline: set[str] = field(default_factory=set)  # sides ("-", "+") lacking a final newline
    cut_off: bool = False  # the reply ends inside its fence right after a changed line


def is_hunk_header(line: str) -> bool:
    return line.startswith("@@")


def parse_udiff(reply: str) -> list[Edit]:
    """Every file section and hunk of the unified diffs in ``reply``, as edits in order."""
    files: list[_File] = []
    for region, open_ended in _regions(reply_lines(reply)):
        scanned = _scan(region)
        if open_ended and scanned and scanned[-1].hunks:
            last = scanned[-1].hunks[-1]
            last.cut_off = bool(last.lines) and last.lines[-1][0] in "-+" and not last.pending
        files.extend(scanned)
    edits: list[Edit] = []
    for number, f in enumerate(files, 1):
        edits.extend(_file_edits(f, number))
    return edits


def _regions(lines: Sequence[str]) -> list[tuple[Sequence[str], bool]]:
    """The fenced blocks that hold diff text, or the whole reply when no fence does; each with
    whether it runs to the end of the reply without a closing fence (a reply cut off there).

    Reading only inside fences keeps prose (say a ``- changed X`` bullet) out of the hunks.
    """
    bodies = [(lines[f.open + 1 : f.close], f.close >= len(lines)) for f in find_fences(lines)]
    with_diffs = [(b, cut) for b, cut in bodies if any(_diffish(line) for line in b)]
    return with_diffs or [(lines, False)]


def _diffish(line: str) -> bool:
    return is_hunk_header(line) or line.startswith(("--- ", "+++ ", "diff --git "))


def _scan(lines: Sequence[str]) -> list[_File]:
    files: list[_File] = []
    current: _File | None = None
    hunk: _Hunk | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _file_header(lines, i)
        if header is not None:
            f, i = header
            if current is not None and _same_file(current, f) and not current.hunks:
                current.old, current.new = f.old or current.old, f.new or current.new
                current.created |= f.created
                current.deleted |= f.deleted
            else:
                current = f
                files.append(current)
            hunk = None
            if i < len(lines) and _starts_body(lines[i]):
                hunk = _Hunk(hint=None)
                current.hunks.append(hunk)
            continue
        if is_hunk_header(line):
            if current is None:
                current = _File()
                files.append(current)
            hunk = _Hunk(hint=_hint(line))
            current.hunks.append(hunk)
            i += 1
            continue
        if hunk is not None and not _add_line(hunk, line):
            hunk = None
        i += 1
    return files


def _starts_body(line: str) -> bool:
    return line[:1] in (" ", "-", "+") and not is_hunk_header(line)


def _hint(header: str) -> int | None:
    m = HUNK_HEADER.match(header)
    if m and m.group(1) is not None:
        return max(int(m.group(1)) - 1, 0)
    return None


def _add_line(hunk: _Hunk, line: str) -> bool:
    """Add one body line; False when the line ends the hunk."""
    if is_fence(line) or GIT_HEADER.match(line):
        return False
    tag = line[:1]
    if tag in (" ", "-", "+"):
        hunk.lines.extend(hunk.pending)
        hunk.pending.clear()
        hunk.lines.append((tag, line[1:]))
        return True
    if tag == "\\":
        last = hunk.lines[-1][0] if hunk.lines else " "
        hunk.no_newline.update(("-", "+") if last == " " else (last,))
        return True
    hunk.pending.append((" ", line))  # blank or unprefixed: context only if the hunk goes on
    return True


def _file_header(lines: Sequence[str], i: int) -> tuple[_File, int] | None:
    """A file header starting at line ``i``: ``diff --git`` (+ extended lines) and/or
    ``---``/``+++``; returns the file and the index of the first line after the header."""
    f = _File()
    j = i
    git = GIT_HEADER.match(lines[i])
    if git:
        f.old, f.new = _split_git_names(git.group(1))
        j += 1
        while j < len(lines) and _extended(lines[j], f):
            j += 1
    if j + 1 < len(lines) and lines[j].startswith("--- ") and lines[j + 1].startswith("+++ "):
        f.old, f.new = _name(lines[j][4:]), _name(lines[j + 1][4:])
        j += 2
    elif j < len(lines) and _lone_header(lines, j):
        name = _name(lines[j][4:])
        f.old = f.new = name
        j += 1
    elif not git:
        return None
    f.created = f.created or f.old == DEV_NULL
    f.deleted = f.deleted or f.new == DEV_NULL
    return f, j


def _lone_header(lines: Sequence[str], j: int) -> bool:
    # `+++ path` or `--- path` directly followed by a hunk header: a header missing its pair.
    return (
        lines[j].startswith(("+++ ", "--- "))
        and j + 1 < len(lines)
        and is_hunk_header(lines[j + 1])
    )


def _extended(line: str, f: _File) -> bool:
    if line.startswith("new file mode"):
        f.created = True
        return True
    if line.startswith("deleted file mode"):
        f.deleted = True
        return True
    return line.startswith(
        ("index ", "old mode", "new mode", "similarity", "dissimilarity", "rename ", "copy ")
    )


def _split_git_names(rest: str) -> tuple[str, str]:
    rest = rest.strip()
    if rest.startswith('"'):
        quoted = _QUOTED_PAIR.match(rest)
        return (_unquote(quoted[1]), _unquote(quoted[2])) if quoted else ("", "")
    half = len(rest) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and rest[:half][2:] == rest[half + 1 :][2:]:
        return rest[:half], rest[half + 1 :]
    parts = rest.split(" ")
    return (parts[0], parts[-1]) if len(parts) >= 2 else (rest, rest)


def _name(text: str) -> str:
    name = text.split("\t", 1)[0].strip()
    name = re.sub(r"\s+\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( [+-]\d{4})?$", "", name)
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = _unquote(name)
    return name


_QUOTED = r'"(?:[^"\\]|\\.)*"'
_QUOTED_PAIR = re.compile(rf"^({_QUOTED})\s+({_QUOTED})$")
_C_ESCAPES = {b"a": b"\a", b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f"}
_C_ESCAPES.update({b"r": b"\r", b'"': b'"', b"\\": b"\\"})


def _unquote(quoted: str) -> str:
    """A name as git C-quotes it, without quotes and escapes (octal escapes are UTF-8 bytes)."""
    raw = quoted[1:-1].encode("utf-8", "surrogateescape")

    def one(m: re.Match[bytes]) -> bytes:
        code = m[1]
        if len(code) == 3:
            return bytes([int(code, 8) & 0xFF])
        return _C_ESCAPES.get(code, m[0])

    return re.sub(rb"\\([0-7]{3}|.)", one, raw, flags=re.S).decode("utf-8", "surrogateescape")


def _same_file(a: _File, b: _File) -> bool:
    return _strip_prefix(a.new or a.old) == _strip_prefix(b.new or b.old)


def _strip_prefix(name: str) -> str:
    return name[2:] if name.startswith(("a/", "b/")) and len(name) > 2 else name


def _file_edits(f: _File, number: int) -> list[Edit]:
    raw = f.old if f.deleted else (f.new if f.new and f.new != DEV_NULL else f.old)
    raw = "" if raw == DEV_NULL else raw
    path = _strip_prefix(raw)
    if f.deleted:
        before = tuple(t for h in f.hunks for tag, t in h.lines if tag != "+")
        return [Edit("delete", path, before, label=f"deletion of {path}", raw_path=raw)]
    if not path:
        label = f"diff section {number}"
        return [
            Edit(
                "invalid",
                "",
                label=label,
                error=f"The hunks of {label} have no file; start each file with "
                "`--- a/path` and `+++ b/path` lines.",
            )
        ]
    edits = []
    for k, h in enumerate(f.hunks, 1):
        label = f"hunk {k} of {path}" if len(f.hunks) > 1 else f"the hunk for {path}"
        edits.append(_hunk_edit(h, path, raw, label, creates=f.created))
    if not f.hunks and f.created:
        edits.append(Edit("hunk", path, creates=True, label=f"new file {path}", raw_path=raw))
    return edits


def _hunk_edit(h: _Hunk, path: str, raw: str, label: str, *, creates: bool) -> Edit:
    if h.cut_off:
        return Edit(
            "invalid",
            path,
            label=label,
            raw_path=raw,
            error=f"{label} is cut off: the reply ends inside the diff's fence right after a "
            "changed line, so lines of the change may be missing. Resend the hunk complete, "
            "with a context line after the change, and close the fence.",
        )
    lines = tuple(h.lines)  # trailing `pending` lines were never confirmed: dropped
    if lines and all(tag == " " for tag, _ in lines) and not creates:
        return Edit(
            "invalid",
            path,
            label=label,
            raw_path=raw,
            error=f"{label} changes nothing: none of its lines starts with `-` or `+`. Mark "
            "each line to remove with `-` and each line to add with `+`.",
        )
    before = tuple(t for tag, t in lines if tag != "+")
    after = tuple(t for tag, t in lines if tag != "-")
    final: bool | None = None
    if "+" in h.no_newline:
        final = False
    elif "-" in h.no_newline:
        final = True  # the old side lacked a final newline and the new side has one
    return Edit(
        "hunk",
        path,
        before,
        after,
        hunk=lines,
        hint=h.hint,
        creates=creates,
        final_newline=final,
        label=label,
        raw_path=raw,
    )
