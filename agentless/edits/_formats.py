"""The registry of edit formats: one entry per format, and everything that names formats reads it.

Detection (``detect_format``), parsing (``parse_edits``), the config type (``EditFormatName``),
the CLI's ``--format`` choices and the repair prompt's format section
(``prompts/repair_format_<name>.j2``) all come from ``EDIT_FORMATS``. This module stays light
(no matching, no feedback) so that the CLI can read the names at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from agentless.edits._data import Edit, EditFormatError
from agentless.edits._parse_diff import is_divider, is_replace, is_search, parse_search_replace
from agentless.edits._parse_udiff import is_hunk_header, parse_udiff
from agentless.edits._parse_whole import parse_whole
from agentless.errors import lookup

#: The edit formats, as the config and the CLI accept them.
EditFormatName = Literal["diff", "udiff", "whole"]


@dataclass(frozen=True)
class EditFormat:
    """One edit format: how to recognise it, how to parse it, how to describe it."""

    name: str
    summary: str  # one line, for --help and docs
    shape: str  # what a reply in this format looks like, for "no edits found" feedback
    detect: Callable[[Sequence[str], str], bool]  # (reply lines, reply) -> uses this format
    parse: Callable[[str, Collection[str]], list[Edit]]  # (reply, known paths) -> edits

    @property
    def prompt(self) -> str:
        """The prompt template that explains this format to the model."""
        return f"repair_format_{self.name}.j2"


def _has_search_replace(lines: Sequence[str], reply: str) -> bool:
    return any(is_search(line) for line in lines) and any(
        is_divider(line) or is_replace(line) for line in lines
    )


def _has_unified_diff(lines: Sequence[str], reply: str) -> bool:
    for i, line in enumerate(lines):
        if is_hunk_header(line):
            return True
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("--- ") and nxt.startswith("+++ "):
            return True
    return False


def _has_whole_file(lines: Sequence[str], reply: str) -> bool:
    return bool(parse_whole(reply))


def _parse_udiff(reply: str, known: Collection[str]) -> list[Edit]:
    return parse_udiff(reply)


#: In detection order: SEARCH/REPLACE markers win (a block may quote diff-like lines), then
#: diff headers, then a fence that names its file.
EDIT_FORMATS: dict[str, EditFormat] = {
    f.name: f
    for f in (
        EditFormat(
            "diff",
            "SEARCH/REPLACE blocks",
            "SEARCH/REPLACE blocks (a path line, then `<<<<<<< SEARCH`, the old lines, "
            "`=======`, the new lines, `>>>>>>> REPLACE`)",
            _has_search_replace,
            parse_search_replace,
        ),
        EditFormat(
            "udiff",
            "unified diffs",
            "a unified diff (`--- a/path`, `+++ b/path`, `@@ ... @@` hunks)",
            _has_unified_diff,
            _parse_udiff,
        ),
        EditFormat(
            "whole",
            "whole files",
            "the path on a line of its own, then the complete file in a fenced block",
            _has_whole_file,
            parse_whole,
        ),
    )
}

#: What ``apply_reply``/``parse_edits`` accept: ``auto`` (detect) and every registered format.
FORMATS: tuple[str, ...] = ("auto", *EDIT_FORMATS)

if tuple(EDIT_FORMATS) != get_args(EditFormatName):  # pragma: no cover - a developer's slip
    raise AssertionError("EditFormatName must list exactly the registered edit formats")


def edit_format(name: str) -> EditFormat:
    """The registered format ``name``; ``EditFormatError`` names the choices otherwise."""
    return lookup(EDIT_FORMATS, name, "edit format", error=EditFormatError, choices=FORMATS)


def check_format(fmt: str) -> None:
    """Raise ``EditFormatError`` unless ``fmt`` is ``auto`` or a registered format."""
    if fmt != "auto":
        edit_format(fmt)
