"""Helpers for writing corpus cases by hand."""

from __future__ import annotations

from typing import Any

from trees import TREES


def edited(text: str, *pairs: tuple[str, str]) -> str:
    """``text`` with each ``old`` snippet (which must occur exactly once) replaced by ``new``."""
    for old, new in pairs:
        count = text.count(old)
        assert count == 1, f"snippet occurs {count} times: {old!r}"
        text = text.replace(old, new)
    return text


def base(path: str, tree: str = "shop") -> str:
    return TREES[tree][path]


def change(path: str, *pairs: tuple[str, str], tree: str = "shop") -> dict[str, str]:
    return {path: edited(base(path, tree), *pairs)}


def case(
    cid: str,
    fmt: str,
    defect: str,
    reply: str,
    *,
    changes: dict[str, Any] | None = None,
    fail: tuple[str, ...] = (),
    files: dict[str, str] | None = None,
    tree: str = "shop",
    note: str = "",
) -> dict[str, Any]:
    """One case. ``changes``: expected changed files (``None`` = deleted); ``fail``: expected
    failure reasons, in any order; ``files``: extra or replaced files on top of the tree."""
    out: dict[str, Any] = {"id": cid, "format": fmt, "defect": defect, "tree": tree}
    if files:
        out["files"] = files
    out["reply"] = reply
    out["expect"] = {"files": changes or {}, "fail": list(fail)}
    if note:
        out["note"] = note
    return out


def sr(path: str, search: str, replace: str, lang: str = "python") -> str:
    """A clean SEARCH/REPLACE block with the path before the fence."""
    return f"{path}\n```{lang}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"
