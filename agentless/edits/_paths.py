"""Turn the path a model wrote into a file of the tree, or reject it.

Rejected outright: empty paths, NUL bytes, absolute paths (``/x``, ``~/x``, ``C:\\x``), any
``..`` component and anything inside ``.git``; also, unless the tree has such a file, names
copied from the prompt's instructions (the ``__format_example__/`` illustration, ``path/to/``
placeholders), but such a name followed by the whole path of a file of the tree names that
file. A path that is not a file is looked up by unique
suffix, then (for edits of existing text only) by unique basename, reading a basename in
markdown bold around its stem (``__acronym__.py``) as the name it shows (``acronym.py``); a
path that still matches nothing is a new file only for edits that create files, and never one
whose plain reading is a file (a new ``__acronym__.py`` beside ``acronym.py`` is refused, with
that file as ``Resolved.meant``: the caller may read the edit as that file's when its content
shows it is, as ``apply_reply`` does for a whole file that keeps every name the file defines).
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

_DRIVE = re.compile(r"^[A-Za-z]:($|/)")

#: The folder of the prompts' format illustrations: a name no repository uses.
EXAMPLE_FOLDER = "__format_example__"


@dataclass(frozen=True)
class Resolved:
    """A resolved path (``path``), or why it could not be resolved (``reason``, ``message``);
    ``meant``: the file a refused markdown-bold name reads as."""

    path: str = ""
    reason: Literal["", "bad_path", "no_file", "ambiguous_path"] = ""
    message: str = ""
    exists: bool = False
    meant: str = ""


def normalize(raw: str) -> tuple[str, str]:
    """Clean up a model-written path; returns ``(path, "")`` or ``("", why it is rejected)``."""
    path = raw.strip().replace("\\", "/")
    if "\x00" in path:
        return "", "it contains a NUL byte"
    if not path:
        return "", "it is empty"
    if path.startswith(("/", "~")) or _DRIVE.match(path):
        return "", "it is absolute; use a path relative to the repository root"
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "", "it leaves the repository (`..`)"
    if any(p.lower() == ".git" for p in parts):
        return "", "it points inside `.git`"
    if not parts:
        return "", "it names the repository root, not a file"
    return "/".join(parts), ""


def resolve(
    raw: str, files: Collection[str], *, creates: bool, fuzzy: bool = True, alt: str = ""
) -> Resolved:
    """Find the file ``raw`` means among ``files``.

    ``creates``: the edit may create the file when nothing matches exactly. ``fuzzy``: allow the
    unique-suffix and unique-basename fallbacks (suffix only when ``creates``). ``alt`` is a
    second spelling to try exactly (a diff path before its ``a/`` prefix was removed).
    """
    path, why = normalize(raw)
    if why:
        return Resolved(reason="bad_path", message=f"The path {raw!r} was rejected: {why}.")
    if path in files:
        return Resolved(path=path, exists=True)
    filled = _placeholder_filled_in(path)
    if filled in files:
        return Resolved(path=filled, exists=True)
    copied = from_instructions(path)
    if copied:
        return Resolved(reason="bad_path", message=copied)
    alt_path, alt_why = normalize(alt) if alt else ("", "x")
    if not alt_why and alt_path in files:
        return Resolved(path=alt_path, exists=True)
    if fuzzy:
        found = _fuzzy(path, files, basename=not creates)
        if found is not None:
            return found
    if creates:
        clash = _clash(path, files)
        if clash:
            return Resolved(reason="bad_path", message=clash)
        plain = _plain_name(path)
        if plain in files:  # a new `__stem__.py`, or `stem.py` in markdown bold: not a guess
            return Resolved(
                reason="ambiguous_path",
                message=f"The path {path} is not a file, but {plain} is ({path} in markdown "
                f"bold): write the path as plain text, {plain}.",
                meant=plain,
            )
        return Resolved(path=path, exists=False)
    return Resolved(reason="no_file", message=_no_file_message(path, files))


#: The file of the format illustrations (``__format_example__/illustration.py``).
EXAMPLE_FILE = "illustration.py"


def _placeholder_filled_in(path: str) -> str:
    """The real path a ``path/to/<real path>`` or ``__format_example__/<real path>`` names: a
    name from the instructions with the file's whole path put after it (seen with
    Qwen2.5-Coder-1.5B: ``path/to/shop/stock.py``, and ``__format_example__/beer_song.py`` in
    every whole-file reply to two exercises). The illustration's own file is never one."""
    parts = path.split("/")
    if len(parts) > 2 and parts[0].lower() == "path" and parts[1].lower() == "to":
        return "/".join(parts[2:])
    if len(parts) > 1 and parts[0] == EXAMPLE_FOLDER and parts[1:] != [EXAMPLE_FILE]:
        return "/".join(parts[1:])
    return ""


def from_instructions(path: str) -> str:
    """Why ``path`` (not a file of the tree) is a name the prompt's instructions use, if it is:
    the format illustration's folder, or a ``path/to/...`` placeholder."""
    parts = path.split("/")
    if parts[0] == EXAMPLE_FOLDER:
        return (
            f"{path} is the format illustration from the instructions, not a file of this "
            "repository: edit the files shown under # Source code, each under its own path."
        )
    if len(parts) > 2 and parts[0].lower() == "path" and parts[1].lower() == "to":
        return (
            f"{path} is the placeholder of the format description, not a file of this "
            "repository: write the real path of the file you edit (the one in the `### path` "
            "heading above its code)."
        )
    return ""


def _clash(path: str, files: Collection[str]) -> str:
    """Why a new file cannot be created at ``path`` (a folder there, or a file as a parent)."""
    if any(f.startswith(path + "/") for f in files):
        return f"{path} is a directory, not a file."
    parts = path.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        if parent in files:
            return f"{path} cannot be created: {parent} is a file, not a directory."
    return ""


def _fuzzy(path: str, files: Collection[str], *, basename: bool) -> Resolved | None:
    suffix = [f for f in files if f.endswith("/" + path)]
    if len(suffix) == 1:
        return Resolved(path=suffix[0], exists=True)
    if len(suffix) > 1:
        return _ambiguous(path, suffix)
    if not basename:
        return None
    name = posixpath.basename(path)
    same_name = [f for f in files if posixpath.basename(f) == name]
    if len(same_name) == 1:
        return Resolved(path=same_name[0], exists=True)
    if len(same_name) > 1:
        return _ambiguous(path, same_name)
    plain = _plain_name(path)
    if plain in files:
        return Resolved(path=plain, exists=True)
    if plain:
        return _fuzzy(plain, files, basename=True)
    return None


def _plain_name(path: str) -> str:
    """``dir/name.py`` for ``dir/__name__.py``: a file name whose stem is in markdown bold
    written with underscores (seen with Qwen2.5-Coder-1.5B on exercise prompts:
    ``__run_length__.py``); else ``""``."""
    shown = _BOLD_STEM.fullmatch(posixpath.basename(path))
    if not shown:
        return ""
    return posixpath.join(posixpath.dirname(path), "".join(shown.groups()))


#: A file name whose stem is in markdown bold written with underscores: ``__name__.ext``.
_BOLD_STEM = re.compile(r"__([^_].*[^_]|[^_])__(\.[A-Za-z0-9]+)")


def _ambiguous(path: str, candidates: list[str]) -> Resolved:
    listed = ", ".join(sorted(candidates)[:8])
    return Resolved(
        reason="ambiguous_path",
        message=f"The path {path} matches several files ({listed}); write the full path.",
    )


def _no_file_message(path: str, files: Collection[str]) -> str:
    close = difflib.get_close_matches(path, list(files), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    return (
        f"There is no file {path} in the repository.{hint} To create a new file, use an empty "
        "SEARCH section (or a /dev/null diff, or the whole file)."
    )
