"""The values the edit engine passes around: parsed edits, failures and the overall result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agentless.errors import EditError

EditKind = Literal["replace", "hunk", "whole", "delete", "invalid"]

#: Why an edit failed; ``EditFailure.reason`` is one of these.
FailureReason = Literal[
    "no_edits",  # the reply holds no edit at all
    "malformed",  # a block or hunk that cannot be read (missing marker, no path, ...)
    "bad_path",  # absolute, `..`, `.git/`, NUL byte, empty
    "no_file",  # the path names no file, and the edit does not create one
    "ambiguous_path",  # the path matches several files
    "file_exists",  # an edit that creates a file names one that has content
    "no_match",  # the SEARCH text / hunk matches nowhere (or its context contradicts the file)
    "ambiguous",  # ... or in several places, with nothing to choose between them
    "breaks_syntax",  # it matches only loosely, and there it would break a Python file's syntax
    "lazy",  # a whole file with "... rest unchanged ..." elisions
    "partial",  # a "whole file" that is a piece of the file (a method without its class)
]


class EditFormatError(EditError, ValueError):
    """``apply_reply`` or ``parse_edits`` was called with an unknown format name."""


@dataclass(frozen=True)
class Edit:
    """One edit read from a reply: a SEARCH/REPLACE block, a hunk, a whole file or a deletion.

    ``before``/``after`` are lines without endings. Hunks also keep their tagged lines
    (``" "``, ``"-"``, ``"+"``) so that context can be shrunk or split, and the 0-based line
    their header named (``hint``), used only to choose between several matches.
    """

    kind: EditKind
    path: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    hunk: tuple[tuple[str, str], ...] = ()
    hint: int | None = None
    creates: bool = False
    final_newline: bool | None = None
    label: str = "edit"
    raw_path: str = ""
    error: str = ""


@dataclass(frozen=True)
class EditFailure:
    """An edit that was not applied; ``feedback`` is meant to be sent back to the model."""

    path: str
    reason: FailureReason
    feedback: str


@dataclass(frozen=True)
class EditResult:
    """What applying a reply produced.

    ``files`` holds only changed or new files (a deleted file maps to ``None``); ``diff`` is a
    ``git apply``-able patch of every edit that succeeded; ``failed`` lists the others.
    ``syntax_errors`` maps a changed Python file that parsed before (or a new one) and does
    not parse now to ``"line N: message"``: edits placed exactly as the model wrote them are
    applied even then, and this is the model's own syntax error.
    """

    files: dict[str, str | None] = field(default_factory=dict)
    diff: str = ""
    applied: int = 0
    failed: list[EditFailure] = field(default_factory=list)
    format: str = ""
    syntax_errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no edit failed (a reply with no edits counts as a failure)."""
        return not self.failed

    @property
    def feedback(self) -> str:
        """All failures' feedback and a summary line, ready to send back; ``""`` when ok."""
        if self.ok:
            return ""
        parts = [f.feedback for f in self.failed]
        if all(f.reason == "no_edits" for f in self.failed):
            return "\n\n".join(parts)  # that message says what to send
        if self.applied:
            done = (
                f"{self.applied} edit{'s were' if self.applied != 1 else ' was'} applied and "
                f"{'are' if self.applied != 1 else 'is'} now in the files."
            )
        else:
            done = "No edit was applied."
        parts.append(f"{done} {RESEND}")
        return "\n\n".join(parts)


#: The one instruction every feedback ends with (the reflection prompt says the same).
RESEND = (
    "Resend only the edits that failed, corrected against the current file contents, "
    "in the same format."
)
