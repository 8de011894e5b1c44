"""Format detection and the one entry point to the parsers."""

from __future__ import annotations

from collections.abc import Collection

from agentless.edits.data import Edit, EditFormatError
from agentless.edits.parse_diff import is_divider, is_replace, is_search, parse_search_replace
from agentless.edits.parse_udiff import is_hunk_header, parse_udiff
from agentless.edits.parse_whole import parse_whole
from agentless.edits.text import reply_lines

FORMATS = ("auto", "diff", "udiff", "whole")


def detect_format(reply: str) -> str:
    """The edit format a reply uses: ``diff``, ``udiff``, ``whole``, or ``none``.

    SEARCH/REPLACE markers win (a block may quote diff-like lines); then diff headers; then a
    fence that names its file.
    """
    lines = reply_lines(reply)
    if any(is_search(line) for line in lines) and any(
        is_divider(line) or is_replace(line) for line in lines
    ):
        return "diff"
    for i, line in enumerate(lines):
        if is_hunk_header(line):
            return "udiff"
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("--- ") and nxt.startswith("+++ "):
            return "udiff"
    if parse_whole(reply):
        return "whole"
    return "none"


def parse_edits(reply: str, fmt: str = "auto", known: Collection[str] = ()) -> list[Edit]:
    """The edits of ``reply`` in order, malformed ones included as ``kind="invalid"``.

    ``known`` (the tree's paths) only helps recognise path lines such as ``Makefile``.
    """
    if fmt not in FORMATS:
        raise EditFormatError(f"unknown edit format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(reply)
    if fmt == "diff":
        return parse_search_replace(reply, known)
    if fmt == "udiff":
        return parse_udiff(reply)
    if fmt == "whole":
        return parse_whole(reply, known)
    return []
