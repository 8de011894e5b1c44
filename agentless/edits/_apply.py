"""Apply a model reply to in-memory files: the engine's one entry point, ``apply_reply``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentless.edits import _feedback as feedback
from agentless.edits._data import Edit, EditFailure, EditResult, FailureReason
from agentless.edits._elision import has_elision, locate_elided
from agentless.edits._formats import EDIT_FORMATS, check_format
from agentless.edits._hunks import Contradiction, locate_hunk
from agentless.edits._lazy import (
    defined_names,
    is_placeholder,
    methods_without_class,
    orphan_methods,
)
from agentless.edits._locate import Placement, View, fuzzy, locate
from agentless.edits._parse import detect_format, parse_edits
from agentless.edits._paths import from_instructions, resolve
from agentless.edits._render import render_diff
from agentless.edits._syntax import breaks, is_python
from agentless.edits._text import Doc


class _Tree:
    """The files as edits change them; originals are parsed only when an edit touches them."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.original = files
        self.paths: set[str] = set(files)
        self.docs: dict[str, Doc | None] = {}
        self.shift: dict[str, int] = {}  # lines added so far per file, for hunk line hints

    def doc(self, path: str) -> Doc:
        if path not in self.docs:
            self.docs[path] = Doc.parse(self.original[path])
        doc = self.docs[path]
        assert doc is not None
        return doc

    def write(self, path: str, doc: Doc | None) -> None:
        self.docs[path] = doc
        if doc is None:
            self.paths.discard(path)
        else:
            self.paths.add(path)

    def changed(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for path, doc in self.docs.items():
            new = None if doc is None else doc.text()
            if path in self.original:
                if new != self.original[path]:
                    out[path] = new
            elif new is not None:
                out[path] = new
        return out


def apply_reply(reply: str, files: Mapping[str, str], fmt: str = "auto") -> EditResult:
    """Parse ``reply`` and apply its edits, in order, to ``files`` (path -> text). Pure.

    An edit that cannot be placed uniquely and safely is reported in ``failed`` with feedback
    for the model; the other edits still apply. ``fmt`` is ``auto``, ``diff`` (SEARCH/REPLACE),
    ``udiff`` or ``whole``.
    """
    check_format(fmt)
    chosen = detect_format(reply) if fmt == "auto" else fmt
    edits = parse_edits(reply, chosen, known=files) if chosen != "none" else []
    tree = _Tree(files)
    failed: list[EditFailure] = []
    for edit in edits:
        failure = _apply_edit(tree, edit)
        if failure is not None:
            failed.append(failure)
    if not edits:
        failed.append(EditFailure("", "no_edits", _no_edits_message(chosen)))
    changed = tree.changed()
    old = {p: files[p] for p in changed if p in files}
    return EditResult(
        files=changed,
        diff=render_diff(old, changed),
        applied=len(edits) - len(failed) if edits else 0,
        failed=failed,
        format=chosen,
        syntax_errors=_syntax_errors(old, changed),
    )


def _syntax_errors(old: Mapping[str, str], new: Mapping[str, str | None]) -> dict[str, str]:
    errors = {}
    for path, text in new.items():
        error = None if text is None else breaks(path, old.get(path, ""), text)
        if error is not None:
            errors[path] = error
    return errors


def _no_edits_message(fmt: str) -> str:
    if fmt in EDIT_FORMATS:
        shape = EDIT_FORMATS[fmt].shape
    else:
        shape = ", or ".join(f.summary for f in EDIT_FORMATS.values())
    return f"The reply contains no edits. Send the changes as {shape}."


def _fail(path: str, reason: FailureReason, message: str) -> EditFailure:
    return EditFailure(path, reason, message)


def _apply_edit(tree: _Tree, edit: Edit) -> EditFailure | None:
    if edit.kind == "invalid":
        copied = from_instructions(edit.path) if edit.path not in tree.paths else ""
        return _fail(edit.path, "malformed", f"{edit.error} {copied}".strip())
    fuzzy = not (edit.kind == "delete" or (edit.kind == "hunk" and edit.creates))
    found = resolve(edit.path, tree.paths, creates=edit.creates, fuzzy=fuzzy, alt=edit.raw_path)
    if edit.kind == "whole" and found.meant and _rewrites(tree.doc(found.meant).text(), edit):
        return _whole(tree, edit, found.meant, exists=True)
    if found.reason:
        return _fail(edit.path, found.reason, f"{edit.label}: {found.message}")
    path = found.path
    if edit.kind == "whole":
        return _whole(tree, edit, path, found.exists)
    if edit.kind == "delete":
        return _delete(tree, edit, path)
    if edit.creates:
        return _create(tree, edit, path, found.exists)
    return _modify(tree, edit, path)


def _create(tree: _Tree, edit: Edit, path: str, exists: bool) -> EditFailure | None:
    if exists and tree.doc(path).text().strip():
        what = "SEARCH is empty" if edit.kind == "replace" else "the diff creates it (/dev/null)"
        return _fail(
            path,
            "file_exists",
            f"{edit.label} failed: {what}, but {path} already exists and is not empty. "
            "To change it, quote the lines to replace.",
        )
    doc = tree.doc(path) if exists else Doc.from_lines([])
    final = edit.final_newline is not False
    lines = list(edit.after)
    if edit.kind == "replace":
        lines = _trim_blank_edges(lines)
    doc.replace(0, len(doc.lines), lines, final_newline=final)
    tree.write(path, doc)
    return None


def _trim_blank_edges(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _modify(tree: _Tree, edit: Edit, path: str) -> EditFailure | None:
    doc = tree.doc(path)
    view = View(doc)
    if not any(b.strip() for b in edit.before):
        if not doc.text().strip():
            return _create(tree, edit, path, exists=True)
        return _fail(
            path,
            "no_match",
            f"{edit.label} failed: it has no context or removed lines to show where it goes in "
            f"{path}. Include a few unchanged lines around the change.",
        )
    why = ""
    contradictions: list[Contradiction] = []
    if edit.kind == "hunk":
        hint = None if edit.hint is None else edit.hint + tree.shift.get(path, 0)
        found = locate_hunk(view, edit.hunk, hint)
        placements, candidates = found.placements, found.candidates
        contradictions = found.contradictions
    else:
        placements, candidates, why = _search(view, edit)
    if not placements:
        return _not_placed(view, path, edit, candidates, why, contradictions)
    trial = doc.copy()
    _place(trial, placements, edit.final_newline)
    if any(p.fuzzy for p in placements):
        error = breaks(path, doc.text(), trial.text())
        if error is not None:
            message = feedback.breaks_syntax(view, path, edit.label, placements, error)
            return _fail(path, "breaks_syntax", message)
    tree.write(path, trial)
    tree.shift[path] = tree.shift.get(path, 0) + len(edit.after) - len(edit.before)
    return None


def _not_placed(
    view: View,
    path: str,
    edit: Edit,
    candidates: Sequence[int],
    why: str,
    contradictions: Sequence[Contradiction],
) -> EditFailure:
    if why:
        reason: FailureReason = "ambiguous" if why.startswith("ambiguous:") else "no_match"
        return _fail(path, reason, feedback.elided(view, path, edit.label, edit.before, why))
    if len(candidates) > 1:
        return _fail(path, "ambiguous", feedback.ambiguous(path, edit.label, candidates))
    if contradictions:
        first = contradictions[0]
        message = feedback.contradicts(view, path, edit.label, first.line, first.at)
        return _fail(path, "no_match", message)
    message = feedback.no_match(view, path, edit.label, edit.before, edit.after)
    return _fail(path, "no_match", message)


def _search(view: View, edit: Edit) -> tuple[list[Placement], tuple[int, ...], str]:
    found = locate(view, edit.before, edit.after)
    if found.placement is not None:
        return [found.placement], (), ""
    if found.ambiguous or not has_elision(edit.before):
        return [], found.candidates, ""
    placements, why = locate_elided(view, edit.before, edit.after)
    return [fuzzy(p) for p in placements], (), why


def _place(doc: Doc, placements: Sequence[Placement], final_newline: bool | None) -> None:
    reaches_end = any(p.stop >= len(doc.lines) for p in placements)
    for p in sorted(placements, key=lambda p: p.start, reverse=True):
        doc.replace(p.start, p.end, p.lines, p.eols)
    if final_newline is not None and reaches_end:
        doc.replace(len(doc.lines), len(doc.lines), [], final_newline=final_newline)


def _whole(tree: _Tree, edit: Edit, path: str, exists: bool) -> EditFailure | None:
    old = tree.doc(path) if exists else None
    failure = _incomplete(old, edit, path) if old is not None else None
    if failure is not None:
        return failure
    doc = Doc.from_lines(_trim_blank_edges(list(edit.after)))
    if old is not None:
        doc.newline = old.newline
        doc.eols = [old.newline] * len(doc.lines)
        doc.replace(len(doc.lines), len(doc.lines), [], final_newline=old.final_newline)
    tree.write(path, doc)
    return None


def _rewrites(old: str, edit: Edit) -> bool:
    """Whether a whole file is a new version of ``old``: it defines every name ``old`` defines
    (a model's ``__bottle_song__.py`` for ``bottle_song.py``, in markdown bold, kept even after
    feedback by Qwen2.5-Coder-1.5B; a real new ``__main__.py`` beside ``main.py`` does not
    define what ``main.py`` does)."""
    names = defined_names(old)
    return bool(names) and names <= defined_names("\n".join(edit.after))


def _incomplete(old: Doc, edit: Edit, path: str) -> EditFailure | None:
    """A whole file that leaves code out: placeholder comments, or a method without its class."""
    new = "\n".join(edit.after)
    present = {line.strip() for line in old.lines}
    missing = defined_names(old.text()) - defined_names(new)
    lazy = [a for a in edit.after if a.strip() not in present and is_placeholder(a, missing)]
    if lazy:
        return _fail(
            path,
            "lazy",
            f"{edit.label} is not complete: it has {lazy[0].strip()!r} where code was left "
            "out. Send the complete file, every line of it.",
        )
    lifted = methods_without_class(old.text(), new) if is_python(path) else []
    if lifted:
        cls, method = lifted[0]
        return _fail(
            path,
            "partial",
            f"{edit.label} leaves code out: it holds {method}() of class {cls} at the top level, "
            "without the class. Send the complete file, every line of it.",
        )
    orphans = orphan_methods(old.text(), new) if is_python(path) else []
    if orphans:
        return _fail(
            path,
            "partial",
            f"{edit.label} leaves code out: it holds {orphans[0]}(), a method, at the top level "
            f"without any class, in place of what {path} defines. Send the complete file, "
            "every line of it.",
        )
    left_out = _left_out(old.text(), new)
    if left_out:
        names = ", ".join(left_out[:6]) + (", ..." if len(left_out) > 6 else "")
        return _fail(
            path,
            "partial",
            f"{edit.label} leaves code out: it lacks {len(left_out)} of the functions and "
            f"classes {path} defines ({names}), as if it were one part of the file. Send the "
            "complete file, every line of it, the parts you do not change too.",
        )
    return None


def _left_out(old: str, new: str) -> list[str]:
    """The definitions of ``old`` (four or more) that a whole file ``new`` lacks, when it keeps
    fewer than half of them and defines nothing else: a piece of the file, not the file
    (Qwen2.5-Coder-1.5B sent the one function it fixed of a 14-function module it saw through
    a window, as the "whole file"; writing it would delete the rest). A file of new
    definitions is a rewrite, and taken as written."""
    names, written = defined_names(old), defined_names(new)
    kept = names & written
    if len(names) < 4 or 2 * len(kept) >= len(names) or written - names:
        return []
    return sorted(names - kept)


def _delete(tree: _Tree, edit: Edit, path: str) -> EditFailure | None:
    doc = tree.doc(path)
    if edit.before and [b.rstrip() for b in edit.before] != [x.rstrip() for x in doc.lines]:
        return _fail(
            path,
            "no_match",
            f"{edit.label} failed: its removed lines are not the content of {path}. To delete "
            "a file, remove all of its lines.",
        )
    tree.write(path, None)
    return None
