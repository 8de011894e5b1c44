"""Reading localization replies: pure text in, candidate names out.

Models answer in many shapes (fenced or not, bullets, numbering, backticks, ``path:name``); this
module extracts what they name without judging whether it exists: the stages resolve every
candidate against the index and drop what is not real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_BULLET = re.compile(r"^(?:[-*+•>]|\d+[.)]|#+)\s+")
_PATH_TOKEN = re.compile(r"[\w./\\-]*[\w-]+\.[A-Za-z]{1,5}\b")
_KINDS = {
    "class": "class",
    "classes": "class",
    "function": "function",
    "functions": "function",
    "def": "function",
    "method": "method",
    "methods": "method",
    "variable": "variable",
    "variables": "variable",
    "var": "variable",
    "line": "line",
    "lines": "line",
}
_LOCATION = re.compile(r"^(?P<kind>[A-Za-z]+)\s*[:=]\s*(?P<value>.+)$")
_PATH_THEN_LOCATION = re.compile(
    r"^(?P<path>[\w./\\-]+\.[A-Za-z]{1,5})\s*(?:[:,]|::)\s*(?P<kind>[A-Za-z]+)\s*[:=]\s*(?P<value>.+)$"
)


@dataclass(frozen=True)
class Named:
    """One place a reply names: ``path`` may be ``None`` (not said), ``kind`` is one of
    ``class``, ``function``, ``method``, ``variable``, ``line``."""

    path: str | None
    kind: str
    value: str


def answer_lines(reply: str) -> list[str]:
    """The cleaned lines of the reply's fenced blocks (of the whole reply when it has none)."""
    blocks = _FENCE.findall(reply)
    body = "\n".join(blocks) if blocks else reply
    lines = []
    for raw in body.splitlines():
        line = _BULLET.sub("", raw.strip()).strip().strip("`*").strip()
        if line and "<" not in line:  # "<ClassName>": the format description copied back
            lines.append(line)
    return lines


def named_paths(reply: str) -> list[str]:
    """Path-like tokens in reply order, without repeats."""
    found: dict[str, None] = {}
    for line in answer_lines(reply):
        for token in _PATH_TOKEN.findall(line):
            found.setdefault(token.strip("./") if token.startswith("./") else token, None)
    return list(found)


def named_locations(reply: str) -> list[Named]:
    """``kind: value`` lines, each with the path line that came before it (if any)."""
    current: str | None = None
    found: list[Named] = []
    for line in answer_lines(reply):
        both = _PATH_THEN_LOCATION.match(line)
        if both and both["kind"].lower() in _KINDS:
            current = both["path"]
            found.extend(_located(current, both["kind"], both["value"]))
            continue
        single = _LOCATION.match(line)
        if single and single["kind"].lower() in _KINDS:
            found.extend(_located(current, single["kind"], single["value"]))
            continue
        paths = _PATH_TOKEN.findall(line)
        if paths and len(line.split()) <= 2:
            current = paths[0]
    return found


def _located(path: str | None, kind: str, value: str) -> list[Named]:
    kind = _KINDS[kind.lower()]
    names = []
    for part in re.split(r"[,;]\s*|\s+and\s+", value):
        name = _clean_name(part, kind)
        if name:
            names.append(Named(path, kind, name))
    return names


def _clean_name(text: str, kind: str) -> str:
    text = text.strip().strip("`'\"").strip()
    if kind == "line":
        match = re.match(r"^(\d+)\s*(?:-|–|to|\.\.)?\s*(\d+)?", text)
        if not match:
            return ""
        return match[1] if not match[2] else f"{match[1]}-{match[2]}"
    text = re.sub(r"^(?:async\s+)?(?:def|class)\s+", "", text)
    match = re.match(r"[A-Za-z_][\w.]*", text)
    return match[0].strip(".") if match else ""


def line_span(value: str) -> tuple[int, int] | None:
    """``"12"`` -> (12, 12), ``"12-15"`` -> (12, 15); ``None`` when it is not a line range."""
    first, _, last = value.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    start, end = int(first), int(last or first)
    return (min(start, end), max(start, end))
