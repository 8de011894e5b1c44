"""Files as lines with their own line endings, so that edits leave everything else unchanged.

A file's text is split on ``\\n`` only (``str.splitlines`` would also split on form feeds and
Unicode separators, which would corrupt files). Each line keeps its ending (``\\n``, ``\\r\\n``,
or ``""`` for a last line without a final newline); lines an edit inserts take the file's
dominant ending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def split_lines(text: str) -> tuple[list[str], list[str]]:
    """Split ``text`` into line contents and their endings (``\\n``, ``\\r\\n`` or ``""``)."""
    if not text:
        return [], []
    pieces = text.split("\n")
    lines: list[str] = []
    eols: list[str] = []
    for piece in pieces[:-1]:
        if piece.endswith("\r"):
            lines.append(piece[:-1])
            eols.append("\r\n")
        else:
            lines.append(piece)
            eols.append("\n")
    if pieces[-1]:
        lines.append(pieces[-1])
        eols.append("")
    return lines, eols


def reply_lines(text: str) -> list[str]:
    """Lines of a model reply, whatever its line endings (the reply's endings mean nothing)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@dataclass
class Doc:
    """A mutable file: line contents, per-line endings, and the ending new lines get."""

    lines: list[str]
    eols: list[str]
    newline: str = "\n"

    @classmethod
    def parse(cls, text: str) -> Doc:
        lines, eols = split_lines(text)
        crlf = eols.count("\r\n")
        newline = "\r\n" if crlf > len(eols) - crlf - eols.count("") else "\n"
        return cls(lines, eols, newline)

    @classmethod
    def from_lines(cls, lines: Sequence[str], final_newline: bool = True) -> Doc:
        doc = cls(list(lines), ["\n"] * len(lines))
        if doc.eols and not final_newline:
            doc.eols[-1] = ""
        return doc

    def copy(self) -> Doc:
        return Doc(list(self.lines), list(self.eols), self.newline)

    def text(self) -> str:
        return "".join(line + eol for line, eol in zip(self.lines, self.eols, strict=True))

    @property
    def final_newline(self) -> bool:
        """Whether the text ends with a line ending (an empty file counts as ending cleanly)."""
        return not self.eols or self.eols[-1] != ""

    def replace(
        self,
        start: int,
        end: int,
        lines: Sequence[str],
        eols: Sequence[str | None] | None = None,
        final_newline: bool | None = None,
    ) -> None:
        """Replace lines ``[start, end)`` with ``lines``.

        ``eols`` gives each new line's ending (``None`` = the file's dominant one). The file's
        final-newline state is kept unless ``final_newline`` says otherwise: a file that ended
        without a newline still does, wherever the edit falls.
        """
        keep_final = self.final_newline if final_newline is None else final_newline
        endings = [self.newline if e is None else e for e in (eols or [None] * len(lines))]
        self.lines[start:end] = list(lines)
        self.eols[start:end] = endings
        self._settle_final(keep_final)

    def _settle_final(self, final_newline: bool) -> None:
        # Only the last line may lack an ending; any other line that lost it (it was last
        # before an insertion after it) gets the dominant one.
        for i in range(len(self.eols) - 1):
            if not self.eols[i]:
                self.eols[i] = self.newline
        if self.eols:
            if final_newline and not self.eols[-1]:
                self.eols[-1] = self.newline
            elif not final_newline:
                self.eols[-1] = ""
