"""Format detection and the one entry point to the parsers (both read ``formats.EDIT_FORMATS``)."""

from __future__ import annotations

from collections.abc import Collection

from agentless.edits._data import Edit
from agentless.edits._formats import EDIT_FORMATS, check_format, edit_format
from agentless.edits._text import reply_lines


def detect_format(reply: str) -> str:
    """The edit format a reply uses (a registered name), or ``none``.

    Formats are tried in registry order: SEARCH/REPLACE markers first (a block may quote
    diff-like lines), then diff headers, then a fence that names its file.
    """
    lines = reply_lines(reply)
    for fmt in EDIT_FORMATS.values():
        if fmt.detect(lines, reply):
            return fmt.name
    return "none"


def parse_edits(reply: str, fmt: str = "auto", known: Collection[str] = ()) -> list[Edit]:
    """The edits of ``reply`` in order, malformed ones included as ``kind="invalid"``.

    ``known`` (the tree's paths) only helps recognise path lines such as ``Makefile``.
    """
    check_format(fmt)
    if fmt == "auto":
        fmt = detect_format(reply)
    if fmt == "none":
        return []
    return edit_format(fmt).parse(reply, known)
