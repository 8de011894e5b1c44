"""Skeletons (ast and fallback outline) and code-aware terms."""

from __future__ import annotations

import ast
import textwrap

from agentless.repo._skeleton import (
    Element,
    outline_elements,
    parser_for,
    python_elements,
    render_skeleton,
    walk_elements,
)
from agentless.repo._terms import identifier_terms, path_terms, term_counts, text_terms

SOURCE = textwrap.dedent(
    '''\
    """Module doc."""
    import os

    LIMIT = 10
    NAMES: list[str] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"]


    @dataclass(frozen=True)
    class Shape(Base, metaclass=Meta):
        """A shape."""

        sides: int = 3
        color = "red"

        def area(self, scale: float = 1.0) -> float:
            """Area of the shape."""
            return 0.0

        @property
        def name(self): return "shape"

        class Inner:
            def deep(self,
                     a,
                     b=2,  # a comment
                     ):
                pass


    async def fetch(url, *, retries=3, **options):
        # just a comment
        return None


    if TYPE_CHECKING:
        def typed() -> None: ...
    try:
        from fast import speedup
    except ImportError:
        def speedup(x):
            return x
    '''
)


def names(elements: list[Element]) -> list[str]:
    return [e.name for e in walk_elements(elements)]


def test_python_skeleton_lists_every_definition_with_spans():
    elements = python_elements(SOURCE)
    assert names(elements) == [
        "LIMIT",
        "NAMES",
        "Shape",
        "Shape.sides",
        "Shape.color",
        "Shape.area",
        "Shape.name",
        "Shape.Inner",
        "Shape.Inner.deep",
        "fetch",
        "typed",
        "speedup",
    ]
    by_name = {e.name: e for e in walk_elements(elements)}
    shape = by_name["Shape"]
    assert shape.kind == "class"
    assert shape.signature == "class Shape(Base, metaclass=Meta)"
    assert shape.decorators == ("@dataclass(frozen=True)",)
    assert shape.doc == "A shape."
    lines = SOURCE.splitlines()
    assert lines[shape.start - 1].startswith("@dataclass")  # decorators start the span
    assert lines[shape.end - 1].strip() == "pass"
    assert by_name["Shape.area"].kind == "method"
    assert by_name["Shape.area"].signature == "def area(self, scale: float = 1.0) -> float"
    assert by_name["Shape.name"].signature == "def name(self)"  # one-liner body cut off
    assert by_name["Shape.name"].decorators == ("@property",)
    assert by_name["Shape.Inner.deep"].signature == "def deep(self, a, b=2)"  # comment gone
    assert by_name["fetch"].signature == "async def fetch(url, *, retries=3, **options)"
    assert by_name["fetch"].kind == "function"
    assert by_name["Shape.sides"].kind == "variable"
    assert by_name["Shape.sides"].signature == "sides: int = 3"
    assert by_name["NAMES"].signature.endswith(" ...")  # long values are cut


def test_render_skeleton_elides_bodies():
    text = render_skeleton(python_elements(SOURCE), line_numbers=True)
    assert "@dataclass(frozen=True)\nclass Shape(Base, metaclass=Meta):  # lines 8-" in text
    assert "    def area(self, scale: float = 1.0) -> float:  # lines " in text
    assert '        """Area of the shape."""\n        ...' in text
    assert "return 0.0" not in text


def test_json_round_trip():
    elements = python_elements(SOURCE)
    assert [Element.from_json(e.to_json()) for e in elements] == elements


def test_python2_code_gets_an_outline():
    code = "class Old:\n    def run(self):\n        print 'hi'\n\ndef main():\n    exec 'x'\n"
    elements = python_elements(code)
    assert names(elements) == ["Old", "Old.run", "main"]
    assert (elements[0].start, elements[0].end) == (1, 4)
    assert outline_elements(code) == elements


def big_module(trap: bool) -> str:
    parts = []
    for i in range(400):
        parts.append(f"def func_{i}(a, b={i}):\n    '''Doc {i}.'''\n    return a + b\n\n")
        if trap and i == 200:
            # A top-level-looking definition inside a string: a cut here must not fool us.
            parts.append('TEXT = """\ndef fake_function():\n    pass\n' + "x\n" * 50 + '"""\n\n')
    return "".join(parts)


def test_pieces_give_the_same_skeleton_as_a_whole_parse():
    for trap in (False, True):
        text = big_module(trap)
        assert len(text) > 20_000
        whole = [n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
        elements = python_elements(text)
        assert [e.name for e in elements if e.kind == "function"] == whole
        assert "fake_function" not in names(elements)
        last = elements[-1]
        assert text.splitlines()[last.start - 1] == "def func_399(a, b=399):"


def test_parser_registry():
    assert parser_for("pkg/mod.py") is python_elements
    assert parser_for("pkg/mod.pyi") is python_elements
    assert parser_for("pkg/readme.md") is None
    assert parser_for("pkg.v2/Makefile") is None


def test_identifier_terms_split_code_names():
    assert identifier_terms("get_total_irradiance") == (
        "get",
        "total",
        "irradiance",
        "get_total_irradiance",
    )
    assert identifier_terms("HTTPServerError") == ("http", "server", "error", "httpservererror")
    assert identifier_terms("Rule_L031") == ("rule", "l031", "rule_l031")
    assert identifier_terms("__init__") == ("init",)
    assert identifier_terms("self") == ()
    assert identifier_terms("x") == ()


def test_text_and_path_terms():
    assert text_terms("The `DataFrame.to_csv` call fails in to_csv") == [
        "data",
        "frame",
        "dataframe",
        "csv",
        "to_csv",
        "call",
        "fails",
    ]
    assert term_counts("foo_bar(foo)")["foo"] == 2
    assert path_terms("src/sqlfluff/rules/L031.py") == {
        "src": 1,
        "sqlfluff": 1,
        "rules": 1,
        "l031": 1,
    }


def test_parsing_old_code_prints_no_warnings(recwarn):
    elements = python_elements('def pattern():\n    return "\\d+ \\w"\n')
    assert [e.name for e in elements] == ["pattern"]
    assert not [w for w in recwarn if issubclass(w.category, (SyntaxWarning, DeprecationWarning))]
