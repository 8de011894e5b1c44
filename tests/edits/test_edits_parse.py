"""Parsing the three formats and detecting which one a reply uses."""

from __future__ import annotations

import pytest

from agentless.edits import EditFormatError, detect_format, parse_edits
from agentless.edits._fences import path_from_line

BLOCK = "<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("src/a.py", "src/a.py"),
        ("### src/a.py", "src/a.py"),
        ("**src/a.py**", "src/a.py"),
        ("`src/a.py`:", "src/a.py"),
        ("File: src/a.py", "src/a.py"),
        ("# file: src/a.py", "src/a.py"),
        ("// src/a.go", "src/a.go"),
        ("Makefile", "Makefile"),
        ("Here is the fix:", None),
        ("Done.", None),
        ("print(a.b)", None),
        ("1.5", None),
        ("https://x.org/a.py", None),
        ("../../etc/passwd", "../../etc/passwd"),  # returned so that it is rejected loudly
    ],
)
def test_path_lines(line: str, path: str | None) -> None:
    assert path_from_line(line) == path


@pytest.mark.parametrize(
    "reply",
    [
        f"a.py\n```python\n{BLOCK}```\n",  # path before the fence
        f"```\na.py\n{BLOCK}```\n",  # diff-fenced
        f"### a.py\n\n```python\n{BLOCK}```\n",  # header
        f"a.py\n{BLOCK}",  # bare
        f"Some prose first.\n\na.py\n```\n# the fix\n{BLOCK}```\nMore prose.\n",
        f"```python a.py\n{BLOCK}```\n",  # path in the info string
        "a.py\n<<<<< SEARCH\nold\n=====\nnew\n>>>>> REPLACE\n",  # 5 markers
        "a.py\n<<<<<<<<< SEARCH\nold\n=========\nnew\n>>>>>>>>> REPLACE\n",  # 9 markers
    ],
)
def test_search_replace_variants(reply: str) -> None:
    (edit,) = parse_edits(reply, "diff")
    assert (edit.kind, edit.path, edit.before, edit.after) == (
        "replace",
        "a.py",
        ("old",),
        ("new",),
    )


def test_path_inherited_and_several_files() -> None:
    reply = f"a.py\n```\n{BLOCK}```\n\n```\n{BLOCK}```\nb.py\n```\n{BLOCK}```\n"
    assert [e.path for e in parse_edits(reply, "diff")] == ["a.py", "a.py", "b.py"]


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("a.py\n<<<<<<< SEARCH\nold\nnew\n>>>>>>> REPLACE\n", "no `=======`"),
        ("a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n", "no `>>>>>>> REPLACE`"),
        ("a.py\n<<<<<<< SEARCH\na\n=======\nb\n=======\nc\n>>>>>>> REPLACE\n", "2 `=======`"),
        ("Here:\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", "no file path"),
    ],
)
def test_malformed_blocks(reply: str, words: str) -> None:
    (edit,) = parse_edits(reply, "diff")
    assert edit.kind == "invalid" and words in edit.error


def test_empty_search_creates() -> None:
    (edit,) = parse_edits("new.py\n<<<<<<< SEARCH\n=======\nx = 1\n>>>>>>> REPLACE\n", "diff")
    assert edit.creates and edit.after == ("x = 1",)


def test_udiff_headers_numbers_and_files() -> None:
    reply = (
        "```diff\ndiff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n"
        "@@ -3,2 +3,2 @@ def f():\n a\n-b\n+c\n@@\n d\n-e\n+f\n"
        "--- y.py\n+++ y.py\n@@ ... @@\n-g\n+h\n"
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+hello\n"
        "--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n```\n"
    )
    edits = parse_edits(reply, "udiff")
    summary = [(e.kind, e.path, e.hint, e.before, e.after, e.creates) for e in edits]
    assert summary == [
        ("hunk", "x.py", 2, ("a", "b"), ("a", "c"), False),
        ("hunk", "x.py", None, ("d", "e"), ("d", "f"), False),
        ("hunk", "y.py", None, ("g",), ("h",), False),
        ("hunk", "new.py", 0, (), ("hello",), True),
        ("delete", "old.py", None, ("bye",), (), False),
    ]


def test_udiff_blank_context_without_space_and_trailing_prose() -> None:
    reply = "--- a.py\n+++ a.py\n@@ @@\n def f():\n\n-    pass\n+    return 1\n\nThat is all.\n"
    (edit,) = parse_edits(reply, "udiff")
    assert edit.before == ("def f():", "", "    pass")
    assert edit.after == ("def f():", "", "    return 1")


def test_udiff_no_newline_marker() -> None:
    reply = "--- a\n+++ a\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n"
    (edit,) = parse_edits(reply, "udiff")
    assert edit.final_newline is True
    reply = "--- a\n+++ a\n@@ -1 +1 @@\n-x\n+y\n\\ No newline at end of file\n"
    assert parse_edits(reply, "udiff")[0].final_newline is False


def test_udiff_only_fenced_diffs_when_fenced() -> None:
    reply = "Changes:\n\n- removed a thing\n\n```diff\n--- a.py\n+++ a.py\n@@\n-x\n+y\n```\n"
    (edit,) = parse_edits(reply, "udiff")
    assert edit.before == ("x",)


def test_whole_files() -> None:
    reply = (
        "Here it is.\n\nsrc/a.py\n```python\nx = 1\n```\n\nExample:\n```python\nprint(1)\n```\n"
        "```python b.py\ny = 2\n```\n"
    )
    edits = parse_edits(reply, "whole")
    assert [(e.path, e.after) for e in edits] == [("src/a.py", ("x = 1",)), ("b.py", ("y = 2",))]


def test_whole_file_with_inner_fence() -> None:
    reply = "README.md\n````markdown\n# T\n```\ncode\n```\n````\n"
    (edit,) = parse_edits(reply, "whole")
    assert edit.after == ("# T", "```", "code", "```")


@pytest.mark.parametrize(
    ("reply", "fmt"),
    [
        (f"a.py\n{BLOCK}", "diff"),
        ("--- a.py\n+++ a.py\n@@\n-x\n+y\n", "udiff"),
        ("@@ -1 +1 @@\n-x\n+y\n", "udiff"),
        ("a.py\n```\nx\n```\n", "whole"),
        ("No code here.", "none"),
        ("```python\nprint(1)\n```\n", "none"),
    ],
)
def test_detect_format(reply: str, fmt: str) -> None:
    assert detect_format(reply) == fmt


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(EditFormatError):
        parse_edits("x", "patch")


def test_path_in_markdown_bold_underscores() -> None:
    # Seen with Qwen2.5-Coder-1.5B: `__stats/summary.py__` as the path line.
    reply = "__pkg/a.py__\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"
    assert [e.path for e in parse_edits(reply, "diff")] == ["pkg/a.py"]
    # Dunder names stay as they are.
    reply = reply.replace("__pkg/a.py__", "pkg/__init__.py")
    assert [e.path for e in parse_edits(reply, "diff")] == ["pkg/__init__.py"]
