"""Placeholder comments: a comment that stands for code left out ("# ... rest unchanged ...").

A whole file holding one is incomplete, and the exercise benchmark counts those it writes. The
comment must say that code was left out: open with an ellipsis (``# ...``, ``// ... existing
code ...``), use words that say so (``rest of the class``, ``existing code``, ``other methods
unchanged``, ``same as before``), or end with an ellipsis after a word that points at more code
(``# other methods...``, ``# rest...``), or say of a definition the old file has and the new one
lacks that it is unchanged (``# checkout stays the same``). A comment that merely ends with an
ellipsis is prose
(``# I just fixed the PEP-8 violations...``: a line of the Aider polyglot benchmark's own
zebra-puzzle solution), and so is one that mentions the word "unchanged" in passing (``# keep
the order unchanged``). A bare ``...`` line is not a comment: in Python it is code (Ellipsis).
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Collection

# The comment markers of the languages the engine sees; the body is what follows them.
_COMMENT = re.compile(r"^(?:#+|//+|/\*+|<!--|--|;+)\s*(?P<body>.*?)\s*(?:\*+/|-->)?$")
_ELLIPSIS = r"(?:\.\.\.|…)"
_THINGS = (
    r"(?:code|file|class|classes|function|functions|method|methods|module|implementation|"
    r"lines|body|tests?|imports|fields|cases|logic|definitions)"
)
_SAYS_OMITTED = re.compile(
    r"\b(?:existing code|unchanged (?:code|lines|parts?)|rest of (?:the |this )?"
    + _THINGS
    + r"|(?:the )?rest (?:is |remains? |stays? |as )?(?:unchanged|the same|before)"
    r"|same as (?:before|above|the original)"
    r"|(?:code|everything else|others?(?: \w+)?|remaining \w+|" + _THINGS + r") "
    r"(?:is |are |remains? |stays? )?(?:unchanged|the same|as before|omitted|not shown|left out)"
    r"|(?:omitted|elided|not shown) for brevity)\b",
    re.IGNORECASE,
)
# Before a closing ellipsis: words that point at more code ("# other methods...", "# etc...").
_POINTS_AT_MORE = re.compile(
    r"\b(?:rest|remaining|remainder|other|others|more|existing|unchanged|previous|same|etc|"
    r"omitted|snip)\b",
    re.IGNORECASE,
)


_KEPT = re.compile(r"\b(?:unchanged|the same|as before|omitted|not shown)\b", re.IGNORECASE)
_DEFINITION = re.compile(
    r"^\s*(?:(?:async|export|pub|public|private|static)\s+)*"
    r"(?:def|class|func|fn|function|struct|interface|trait|enum)\s+(\w+)",
    re.MULTILINE,
)


def defined_names(text: str) -> set[str]:
    """Names of the functions, classes and types a file defines (any of the usual languages)."""
    return set(_DEFINITION.findall(text))


def is_placeholder(line: str, missing: Collection[str] = ()) -> bool:
    """Whether ``line`` is a comment standing for code that was left out; ``missing`` names
    definitions the old file has and the new one lacks."""
    comment = _COMMENT.match(line.strip())
    if comment is None:
        return False
    body = comment["body"]
    if re.match(_ELLIPSIS, body) or _SAYS_OMITTED.search(body):
        return True
    if re.search(_ELLIPSIS + r"$", body) and _POINTS_AT_MORE.search(body):
        return True
    words = set(re.findall(r"\w+", body))
    return bool(words & set(missing)) and bool(_KEPT.search(body))


def methods_without_class(old: str, new: str) -> list[tuple[str, str]]:
    """``(class, method)`` for each top-level function of the Python text ``new`` that takes
    ``self`` or ``cls`` and is a method of a class of ``old`` that ``new`` no longer has: a
    method cut out of its class is a piece of the file, not the whole file (seen with
    Qwen2.5-Coder-1.5B: a "whole file" holding only the one method it changed)."""
    old_tree, new_tree = _parse(old), _parse(new)
    if old_tree is None or new_tree is None:
        return []
    methods = {
        (node.name, item.name)
        for node in old_tree.body
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    kept = {node.name for node in new_tree.body if isinstance(node, ast.ClassDef)}
    lifted = []
    for node in new_tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = (node.args.posonlyargs + node.args.args)[:1]
        if not first or first[0].arg not in ("self", "cls"):
            continue
        lifted += [(c, m) for c, m in sorted(methods) if m == node.name and c not in kept]
    return lifted


def orphan_methods(old: str, new: str) -> list[str]:
    """The top-level functions of the Python text ``new`` that take ``self`` or ``cls`` when
    ``new`` defines no class and keeps none of ``old``'s definitions: a method from nowhere in
    place of the file (seen with Qwen2.5-Coder-1.5B: an invented ``list_notes(self)`` as the
    whole of a command line module of two functions)."""
    old_tree, new_tree = _parse(old), _parse(new)
    if old_tree is None or new_tree is None or not defined_names(old):
        return []
    if defined_names(old) & defined_names(new):
        return []
    if any(isinstance(node, ast.ClassDef) for node in ast.walk(new_tree)):
        return []
    return [
        node.name
        for node in new_tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.args.posonlyargs + node.args.args)[:1]
        and (node.args.posonlyargs + node.args.args)[0].arg in ("self", "cls")
    ]


def _parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
