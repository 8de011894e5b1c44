"""Markdown fences and path lines: the parts of a reply that every format shares."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

_FENCE = re.compile(r"^ {0,3}(?P<mark>`{3,}|~{3,})(?P<info>[^`]*)$")
_HEADER = re.compile(r"^(#{1,6}|//|--|;+|/\*+|<!--)\s*")
_LABEL = re.compile(r"^(the\s+)?(file\s*(name|path)?|path|filename|in)\s*[:=]?\s+", re.I)
_PATHISH = re.compile(r"^[^\s()\[\]{}<>|;,=?*\"']+$")
_EXTENSIONLESS = {
    "Makefile",
    "Dockerfile",
    "Gemfile",
    "Rakefile",
    "Procfile",
    "LICENSE",
    "README",
    "Jenkinsfile",
    "Vagrantfile",
}


@dataclass(frozen=True)
class Fence:
    """A fenced block: ``open``/``close`` are line numbers of the fence lines (``close`` may be
    ``len(lines)`` when the fence is never closed); the body is ``lines[open + 1:close]``."""

    open: int
    close: int
    info: str


def fence_mark(line: str) -> tuple[str, str] | None:
    """``(marker, info)`` when ``line`` is a fence line, else ``None``."""
    m = _FENCE.match(line.rstrip())
    if not m:
        return None
    return m.group("mark"), m.group("info").strip()


def is_fence(line: str) -> bool:
    return fence_mark(line) is not None


def find_fences(lines: Sequence[str]) -> list[Fence]:
    """All top-level fenced blocks; a closer repeats the opener's character at least as often."""
    fences: list[Fence] = []
    i = 0
    while i < len(lines):
        opened = fence_mark(lines[i])
        if opened is None:
            i += 1
            continue
        mark, info = opened
        close = len(lines)
        for j in range(i + 1, len(lines)):
            found = fence_mark(lines[j])
            if found and not found[1] and found[0][0] == mark[0] and len(found[0]) >= len(mark):
                close = j
                break
        fences.append(Fence(i, close, info))
        i = close + 1
    return fences


def path_from_line(line: str, known: Collection[str] = ()) -> str | None:
    """The path a line names when the whole line is a path (with decoration), else ``None``.

    Accepts ``path/to/file.py``, ``### path``, ``**path**``, ``__path__``, `` `path`: ``, ``File: path``,
    ``# path`` and the like. Bad paths (absolute, ``..``) are still returned: rejecting them
    with a reason is the resolver's job, not silently skipping them.
    """
    text = line.strip()
    for _ in range(2):
        text = _HEADER.sub("", text)
        text = _LABEL.sub("", text)
        text = text.strip().strip("*`'\"").rstrip(":").strip().strip("*`'\"").strip()
        text = re.sub(r"\s*(\*/|-->)$", "", text)
        if _underscore_bold(text, known):
            text = text[2:-2]
    if not text or text in known:
        return text or None
    if "://" in text or not _PATHISH.match(text):
        return None
    if text.startswith(("<<<<", "====", ">>>>", "@@", "+++", "---")):
        return None
    name = text.rsplit("/", 1)[-1]
    if name in _EXTENSIONLESS:
        return text
    if re.search(r"\.[A-Za-z0-9_+-]+$", name) and not re.fullmatch(r"[\d.]+", name):
        return text
    if "/" in text and name:
        return text
    return None


def _underscore_bold(text: str, known: Collection[str]) -> bool:
    """``__path__``, markdown bold written with underscores; not a path that merely starts and
    ends with ``__`` (``__/../__``: what is inside ends with ``/``, which no file name does)."""
    wrapped = text.startswith("__") and text.endswith("__") and len(text) > 4
    return wrapped and text not in known and not text[2:-2].endswith("/")


def path_from_info(info: str, known: Collection[str] = ()) -> str | None:
    """A path given in a fence's info string (```` ```python path/x.py ```` or ```` ```x.py ````)."""
    for word in re.split(r"[\s:]+", info):
        if ("." in word or "/" in word or word in known) and path_from_line(word, known):
            return path_from_line(word, known)
    return None
