"""File skeletons: classes, functions, methods and variables with signatures and line spans.

Python uses the standard library's ``ast``; other languages plug in through ``PARSERS`` (a map
from file suffix to a function ``text -> list[Element]``), e.g. a tree-sitter based parser.
Bodies are elided: a skeleton is what the element stage shows the model.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

ElementKind = Literal["class", "function", "method", "variable"]

_MAX_SIGNATURE = 200
_MAX_VALUE = 60
_HEADER_END = re.compile(r":\s*(#.*)?$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Element:
    """One definition in a file; ``name`` is qualified (``Class.method``), lines are 1-based."""

    kind: ElementKind
    name: str
    start: int
    end: int
    signature: str
    doc: str = ""
    decorators: tuple[str, ...] = ()
    children: tuple[Element, ...] = field(default_factory=tuple)

    def walk(self) -> Iterator[Element]:
        """This element and every nested one, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> list[Any]:
        """A compact JSON form (a list), inverse of ``from_json``."""
        return [
            self.kind,
            self.name,
            self.start,
            self.end,
            self.signature,
            self.doc,
            list(self.decorators),
            [child.to_json() for child in self.children],
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> Element:
        """Rebuild an element from ``to_json`` output."""
        kind, name, start, end, signature, doc, decorators, children = data
        return cls(
            kind=kind,
            name=name,
            start=start,
            end=end,
            signature=signature,
            doc=doc,
            decorators=tuple(decorators),
            children=tuple(cls.from_json(child) for child in children),
        )


Parser = Callable[[str], list[Element]]


def walk_elements(elements: list[Element] | tuple[Element, ...]) -> Iterator[Element]:
    """Every element of a skeleton, nested ones included."""
    for element in elements:
        yield from element.walk()


# --- Python ------------------------------------------------------------------------------


_PIECE_CHARS = 16_000
_TOP_LEVEL_START = re.compile(r"^(?:@|def |class |async def )", re.MULTILINE)


def python_elements(text: str) -> list[Element]:
    """Skeleton of Python source; unparsable code (e.g. Python 2) gets a line-based outline."""
    lines = text.splitlines()
    # Old code warns on parse (invalid escape sequences): noise for whoever builds an index.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _elements_by_pieces(text, lines)
        except (SyntaxError, ValueError):
            pass
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return outline_elements(text)
    return list(_body_elements(tree.body, lines, prefix="", in_class=False))


def _elements_by_pieces(text: str, lines: list[str]) -> list[Element]:
    """Parse a big module in pieces cut at top-level definitions, one piece alive at a time.

    The AST of a 250 kB file takes ~50 MB (about 200 bytes per source byte); pieces bound that. A cut inside a string or a
    bracket leaves a piece that cannot parse (unterminated string, unclosed bracket), and the
    caller then parses the whole text: pieces never change the result, only the peak memory.
    """
    cuts = _piece_starts(text) if len(text) > _PIECE_CHARS else []
    elements: list[Element] = []
    for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True):
        # Leading newlines keep the line numbers of the whole file.
        padding = "\n" * text.count("\n", 0, start)
        tree = ast.parse(padding + text[start:end])
        elements.extend(_body_elements(tree.body, lines, prefix="", in_class=False))
        del tree
    return elements


def _piece_starts(text: str) -> list[int]:
    cuts: list[int] = []
    last = 0
    for match in _TOP_LEVEL_START.finditer(text):
        start = match.start()
        if start - last < _PIECE_CHARS:
            continue
        previous = text.rfind("\n", 0, max(start - 1, 0))
        if text.startswith("@", previous + 1):  # keep decorators with what they decorate
            continue
        cuts.append(start)
        last = start
    return cuts


def _body_elements(
    body: list[ast.stmt], lines: list[str], prefix: str, in_class: bool
) -> Iterator[Element]:
    for node in body:
        if isinstance(node, ast.ClassDef):
            yield _class_element(node, lines, prefix)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield _function_element(node, lines, prefix, in_class)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            yield from _variable_elements(node, lines, prefix)
        elif isinstance(node, ast.If):
            # Conditional definitions (``if TYPE_CHECKING:``, version switches) still define.
            yield from _body_elements(node.body, lines, prefix, in_class)
            yield from _body_elements(node.orelse, lines, prefix, in_class)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _body_elements(block, lines, prefix, in_class)
            for handler in node.handlers:
                yield from _body_elements(handler.body, lines, prefix, in_class)


def _class_element(node: ast.ClassDef, lines: list[str], prefix: str) -> Element:
    name = prefix + node.name
    children = tuple(_body_elements(node.body, lines, prefix=name + ".", in_class=True))
    return Element(
        kind="class",
        name=name,
        start=_start_line(node),
        end=node.end_lineno or node.lineno,
        signature=_header(node, lines),
        doc=_first_doc_line(node),
        decorators=_decorators(node, lines),
        children=children,
    )


def _function_element(
    node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], prefix: str, in_class: bool
) -> Element:
    return Element(
        kind="method" if in_class else "function",
        name=prefix + node.name,
        start=_start_line(node),
        end=node.end_lineno or node.lineno,
        signature=_header(node, lines),
        doc=_first_doc_line(node),
        decorators=_decorators(node, lines),
    )


def _variable_elements(
    node: ast.Assign | ast.AnnAssign, lines: list[str], prefix: str
) -> Iterator[Element]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    if not names:
        return
    text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
    if len(text) > _MAX_VALUE or (node.end_lineno or node.lineno) > node.lineno:
        text = text[:_MAX_VALUE].rstrip() + " ..."
    for name in names:
        yield Element(
            kind="variable",
            name=prefix + name,
            start=node.lineno,
            end=node.end_lineno or node.lineno,
            signature=text,
        )


def _start_line(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def _decorators(
    node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]
) -> tuple[str, ...]:
    found = []
    for decorator in node.decorator_list:
        line = lines[decorator.lineno - 1].strip() if decorator.lineno <= len(lines) else ""
        found.append(line if line.startswith("@") else "@" + line)
    return tuple(found)


def _header(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> str:
    """The ``def``/``class`` line(s) up to the colon, whitespace collapsed, read from source.

    Reading the source text is several times faster than ``ast.unparse`` and keeps the
    author's spelling of annotations and defaults.
    """
    first = node.lineno - 1
    body_line = node.body[0].lineno - 1 if node.body else first + 1
    if body_line <= first:  # one-liner: ``def f(): return 1``
        parts = [lines[first][: node.body[0].col_offset]]
    else:
        parts = []
        for line in lines[first:body_line]:
            parts.append(_strip_comment(line))
            if _HEADER_END.search(line):
                break
    text = _SPACES.sub(" ", " ".join(part.strip() for part in parts)).strip()
    text = text.replace("( ", "(").replace(" )", ")").replace(",)", ")")
    text = text.rstrip().rstrip(":").rstrip()
    return text if len(text) <= _MAX_SIGNATURE else text[: _MAX_SIGNATURE - 4] + " ..."


def _strip_comment(line: str) -> str:
    """``line`` without a trailing comment (a ``#`` inside quotes is kept)."""
    hash_at = line.find("#")
    while hash_at >= 0:
        before = line[:hash_at]
        if before.count("'") % 2 == 0 and before.count('"') % 2 == 0:
            return before
        hash_at = line.find("#", hash_at + 1)
    return line


def _first_doc_line(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    if not node.body:
        return ""
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        for line in first.value.value.strip().splitlines():
            if line.strip():
                return line.strip()[:_MAX_SIGNATURE]
    return ""


# --- fallback outline -------------------------------------------------------------------

_OUTLINE = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?(?P<kind>def|class)[ \t]+(?P<name>\w+)")


def outline_elements(text: str) -> list[Element]:
    """Definitions found line by line (no nesting beyond class methods, spans by indentation).

    Used when ``ast`` cannot parse a file; good enough to name things, not to edit them.
    """
    lines = text.splitlines()
    found: list[tuple[int, str, str, int]] = []
    for number, line in enumerate(lines, 1):
        match = _OUTLINE.match(line)
        if match:
            indent = len(match["indent"].expandtabs())
            found.append((number, match["kind"], match["name"], indent))
    elements: list[Element] = []
    current_class: tuple[str, list[Element], int, int, str] | None = None
    for index, (number, kind, name, indent) in enumerate(found):
        end = _outline_end(found, index, len(lines))
        if indent == 0:
            if current_class:
                elements.append(_finish_outline_class(current_class))
                current_class = None
            if kind == "class":
                current_class = (name, [], number, end, lines[number - 1].strip().rstrip(":"))
            else:
                elements.append(
                    Element("function", name, number, end, lines[number - 1].strip().rstrip(":"))
                )
        elif current_class is not None and kind == "def":
            signature = lines[number - 1].strip().rstrip(":")
            current_class[1].append(
                Element("method", f"{current_class[0]}.{name}", number, end, signature)
            )
    if current_class:
        elements.append(_finish_outline_class(current_class))
    return elements


def _outline_end(found: list[tuple[int, str, str, int]], index: int, total: int) -> int:
    number, _, _, indent = found[index]
    for later, _, _, later_indent in found[index + 1 :]:
        if later_indent <= indent:
            return max(number, later - 1)
    return total


def _finish_outline_class(state: tuple[str, list[Element], int, int, str]) -> Element:
    name, methods, start, end, signature = state
    return Element("class", name, start, end, signature, children=tuple(methods))


PARSERS: dict[str, Parser] = {".py": python_elements, ".pyi": python_elements}
"""Suffix -> skeleton parser. Register more languages here (e.g. a tree-sitter parser)."""


def parser_for(path: str) -> Parser | None:
    """The skeleton parser for ``path``'s suffix, if any."""
    dot = path.rfind(".")
    return PARSERS.get(path[dot:].lower()) if dot > path.rfind("/") else None


# --- rendering ---------------------------------------------------------------------------


def render_skeleton(
    elements: list[Element] | tuple[Element, ...], *, line_numbers: bool = False
) -> str:
    """Elements as compact Python-like text: signatures, first doc lines, ``...`` for bodies."""
    out: list[str] = []
    for element in elements:
        _render(element, 0, out, line_numbers)
    return "\n".join(out)


def _render(element: Element, depth: int, out: list[str], line_numbers: bool) -> None:
    pad = "    " * depth
    span = f"  # lines {element.start}-{element.end}" if line_numbers else ""
    if element.kind == "variable":
        out.append(f"{pad}{element.signature}{span}")
        return
    out.extend(pad + decorator for decorator in element.decorators)
    out.append(f"{pad}{element.signature}:{span}")
    inner = pad + "    "
    if element.doc:
        out.append(f'{inner}"""{element.doc}"""')
    if element.children:
        for child in element.children:
            _render(child, depth + 1, out, line_numbers)
    else:
        out.append(f"{inner}...")
