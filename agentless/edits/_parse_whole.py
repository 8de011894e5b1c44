"""Parse whole-file replies: a path line (or a path in the fence's info string) and a fence
holding the complete new file. Fences without a path are unrelated code and are ignored."""

from __future__ import annotations

from collections.abc import Collection

from agentless.edits._data import Edit
from agentless.edits._fences import fence_mark, find_fences, path_from_info, path_from_line
from agentless.edits._text import reply_lines


def parse_whole(reply: str, known: Collection[str] = ()) -> list[Edit]:
    """One ``whole`` edit per fenced block that names its file."""
    lines = reply_lines(reply)
    edits: list[Edit] = []
    for fence in find_fences(lines):
        body = list(lines[fence.open + 1 : fence.close])
        first = path_from_line(body[0], known) if body else None
        path = _path_for(lines, fence.open, known) or path_from_info(fence.info, known)
        if not path and first in known:
            path = first  # the path as the block's first line (diff-fenced style), known only
        if not path:
            continue
        if first == path:
            body = body[1:]
        if fence.close >= len(lines):
            edits.append(_cut_off(path))
            continue
        edits.append(
            Edit(
                "whole",
                path,
                after=tuple(body),
                creates=True,
                label=f"the whole file {path}",
                raw_path=path,
            )
        )
    return edits


def _path_for(lines: list[str], open_index: int, known: Collection[str]) -> str | None:
    """The path on the nearest non-blank line above a fence, if that line is a path."""
    for j in range(open_index - 1, -1, -1):
        if not lines[j].strip():
            continue
        if fence_mark(lines[j]) is not None:
            return None
        return path_from_line(lines[j], known)
    return None


def _cut_off(path: str) -> Edit:
    label = f"the whole file {path}"
    return Edit(
        "invalid",
        path,
        label=label,
        raw_path=path,
        error=f"{label} has no closing fence: the reply ends inside it, so the file may be cut "
        "off. Send the complete file and close its fence.",
    )
