"""Property-based tests: random files and random edits, rendered in every format.

Lines carry unique names so that an edit's text occurs once; the renderings include the
defects models produce (indentation shifted or dropped to spaces, tabs written as spaces,
wrong or missing hunk line numbers). Applying must give exactly the edited file.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from agentless.edits import apply_reply, normalize_path, render_diff

WORDS = ["alpha", "beta", "gamma()", "δέλτα", "'ε'", "x + 1", "[1, 2]", "{}", "# note", "€"]
PATH = "pkg/mod.py"


@dataclass
class Program:
    """A file as (indent level, text) lines; text "" is a blank line."""

    lines: list[tuple[int, str]]
    unit: str  # "    " or "\t"
    newline: str
    final_newline: bool

    def render(self, lines: list[tuple[int, str]] | None = None) -> str:
        lines = self.lines if lines is None else lines
        body = [self.unit * lvl + text if text else "" for lvl, text in lines]
        if not body:
            return ""
        text = self.newline.join(body)
        return text + self.newline if self.final_newline else text


@st.composite
def programs(draw: st.DrawFn) -> Program:
    n = draw(st.integers(min_value=1, max_value=30))
    lines: list[tuple[int, str]] = []
    level = 0
    for i in range(n):
        if draw(st.integers(0, 6)) == 0:
            lines.append((0, ""))
            continue
        level = max(0, min(3, level + draw(st.sampled_from([-1, 0, 0, 1]))))
        lines.append((level, f"v{i} = {draw(st.sampled_from(WORDS))}"))
    assume(any(text for _, text in lines))
    final_newline = draw(st.booleans())
    if not final_newline:  # "x\n" is both "x" + newline and "x" + a blank last line: keep one
        while lines and not lines[-1][1]:
            lines.pop()
    # A one-line file without a final newline has no line ending to show its style.
    styles = ["\n", "\r\n"] if len(lines) > 1 or final_newline else ["\n"]
    return Program(
        lines, draw(st.sampled_from(["    ", "\t"])), draw(st.sampled_from(styles)), final_newline
    )


@dataclass
class Change:
    start: int
    end: int
    new: list[tuple[int, str]]


@st.composite
def changes(draw: st.DrawFn, program: Program, need_anchor: bool) -> Change:
    n = len(program.lines)
    start = draw(st.integers(0, n - 1))
    end = draw(st.integers(start, min(n, start + 6)))
    region = program.lines[start:end]
    if need_anchor:
        assume(any(text for _, text in region))
    base = min((lvl for lvl, text in region if text), default=0)
    count = draw(st.integers(0, 4))
    new = [
        (base + draw(st.integers(0, 2)), f"w{k} = {draw(st.sampled_from(WORDS))}")
        for k in range(count)
    ]
    assume(new != region)
    return Change(start, end, new)


def expected(program: Program, change: Change) -> str:
    lines = program.lines[: change.start] + change.new + program.lines[change.end :]
    return program.render(lines)


def model_text(lines: list[tuple[int, str]], unit: str, drop: int) -> list[str]:
    """Lines as a model writes them: its own indentation unit, ``drop`` levels removed."""
    return [unit * (lvl - drop) + text if text else "" for lvl, text in lines]


def _hidden_indentation(
    quoted: list[tuple[int, str]], drop: int, unit: str, program: Program
) -> bool:
    """True when the quoted lines show no indentation to map from: the model's new lines can
    then only be taken as written, so a rendering that changes units or levels is unfair."""
    changed = drop > 0 or unit != program.unit
    return changed and not any(lvl > 0 for lvl, t in quoted if t)


def check(program: Program, change: Change, reply: str, fmt: str) -> None:
    original = program.render()
    result = apply_reply(reply, {PATH: original, "other.py": "v0 = alpha\n"}, fmt)
    assert result.ok, result.feedback
    want = expected(program, change)
    assert result.files == ({PATH: want} if want != original else {})


@settings(max_examples=150, deadline=None)
@given(data=st.data(), program=programs())
def test_search_replace_applies_exactly(data: st.DataObject, program: Program) -> None:
    change = data.draw(changes(program, need_anchor=True))
    region = program.lines[change.start : change.end]
    levels = [lvl for lvl, text in region + change.new if text]
    drop = data.draw(st.integers(0, min(levels))) if levels else 0
    unit = data.draw(st.sampled_from([program.unit, "    "]))  # tabs may come back as spaces
    if _hidden_indentation(region, drop, unit, program):
        unit, drop = program.unit, 0
    search = "".join(line + "\n" for line in model_text(region, unit, drop))
    replace = "".join(line + "\n" for line in model_text(change.new, unit, drop))
    reply = f"{PATH}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"
    check(program, change, reply, "diff")


@settings(max_examples=150, deadline=None)
@given(data=st.data(), program=programs())
def test_unified_diff_applies_exactly(data: st.DataObject, program: Program) -> None:
    change = data.draw(changes(program, need_anchor=False))
    lead = data.draw(st.integers(0, 3))
    trail = data.draw(st.integers(0, 3))
    before = program.lines[max(0, change.start - lead) : change.start]
    after = program.lines[change.end : change.end + trail]
    region = program.lines[change.start : change.end]
    anchor = [t for _, t in before + region + after if t]
    assume(anchor)
    if not region:  # a pure insertion needs context on both sides to say where it goes
        assume(any(t for _, t in before) and any(t for _, t in after))
    everything = before + region + after + change.new
    drop = data.draw(st.integers(0, min((lvl for lvl, t in everything if t), default=0)))
    unit = data.draw(st.sampled_from([program.unit, "    "]))
    if _hidden_indentation(before + region + after, drop, unit, program):
        unit, drop = program.unit, 0
    body = [" " + line for line in model_text(before, unit, drop)]
    body += ["-" + line for line in model_text(region, unit, drop)]
    body += ["+" + line for line in model_text(change.new, unit, drop)]
    body += [" " + line for line in model_text(after, unit, drop)]
    old_start = change.start - len(before) + 1
    header = data.draw(
        st.sampled_from(
            [
                f"@@ -{old_start},{len(before) + len(region) + len(after)} +{old_start},1 @@",
                f"@@ -{old_start + data.draw(st.integers(-40, 40))},7 +1,9 @@",
                "@@ ... @@",
                "@@",
            ]
        )
    )
    reply = (
        "```diff\n--- a/"
        + PATH
        + "\n+++ b/"
        + PATH
        + "\n"
        + header
        + "\n"
        + "\n".join(body)
        + "\n```\n"
    )
    check(program, change, reply, "udiff")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), program=programs())
def test_whole_file_applies_exactly(data: st.DataObject, program: Program) -> None:
    change = data.draw(changes(program, need_anchor=False))
    lines = program.lines[: change.start] + change.new + program.lines[change.end :]
    # Blank lines before a closing fence are dropped (models add them), so end on code.
    assume(lines and lines[-1][1])
    body = "".join(line + "\n" for line in model_text(lines, program.unit, 0))
    check(program, change, f"{PATH}\n```python\n{body}```\n", "whole")


@settings(max_examples=60, deadline=None)
@given(program=programs(), copies=st.integers(2, 3))
def test_repeated_block_is_never_replaced(program: Program, copies: int) -> None:
    block = [(lvl, text) for lvl, text in program.lines if text][:3]
    lines = []
    for k in range(copies):
        lines += [*block, (0, f"sep{k} = 0")]
    program.lines = lines
    search = "".join(line + "\n" for line in model_text(block, program.unit, 0))
    reply = f"{PATH}\n<<<<<<< SEARCH\n{search}=======\nchanged = 1\n>>>>>>> REPLACE\n"
    result = apply_reply(reply, {PATH: program.render()}, "diff")
    assert result.files == {} and [f.reason for f in result.failed] == ["ambiguous"]


SEGMENT = st.text(alphabet="abcxyz_.-", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
)
REL = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)


@st.composite
def escaping_paths(draw: st.DrawFn) -> str:
    inner = draw(REL)
    return draw(
        st.sampled_from(
            [
                "/" + inner,
                "../" + inner,
                inner + "/../../" + inner,
                "./" + inner + "/../x",
                ".git/" + inner,
                inner + "/.git/config",
                inner + "\x00.py",
                "C:/" + inner,
                "~/" + inner,
            ]
        )
    )


@settings(max_examples=100, deadline=None)
@given(path=escaping_paths(), fmt=st.sampled_from(["diff", "udiff", "whole"]))
@example(path="__/../../__", fmt="diff")  # once read as markdown bold around "/../../"
def test_paths_outside_the_repo_are_always_rejected(path: str, fmt: str) -> None:
    if fmt == "diff":
        reply = f"{path}\n```\n<<<<<<< SEARCH\n=======\nx = 1\n>>>>>>> REPLACE\n```\n"
    elif fmt == "udiff":
        reply = f"--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+x = 1\n"
    else:
        reply = f"{path}\n```python\nx = 1\n```\n"
    result = apply_reply(reply, {"a.py": "a = 1\n"}, fmt)
    assert result.files == {} and result.diff == ""
    assert [f.reason for f in result.failed] == ["bad_path"]


@settings(max_examples=150, deadline=None)
@given(path=st.text(min_size=1, max_size=30), fmt=st.sampled_from(["diff", "udiff", "whole"]))
def test_any_written_path_stays_inside(path: str, fmt: str) -> None:
    path = path.replace("\n", "").replace("\r", "")
    replies = {
        "diff": f"{path}\n<<<<<<< SEARCH\n=======\nx = 1\n>>>>>>> REPLACE\n",
        "udiff": f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+x = 1\n",
        "whole": f"{path}\n```\nx = 1\n```\n",
    }
    result = apply_reply(replies[fmt], {"a.py": "a = 1\n"}, fmt)
    for written in result.files:
        assert normalize_path(written) == (written, "")
        parts = written.split("/")
        assert ".." not in parts and ".git" not in [p.lower() for p in parts]
        assert not posixpath.isabs(written) and "\x00" not in written


LINE = st.sampled_from(["a", "b", "", "  c", "\td", "é €", "x = 1", "}"])


@st.composite
def texts(draw: st.DrawFn, newline: str) -> str:
    lines = draw(st.lists(LINE, max_size=25))
    text = newline.join(lines)
    return text + newline if lines and draw(st.booleans()) else text


@settings(max_examples=200, deadline=None)
@given(data=st.data(), newline=st.sampled_from(["\n", "\r\n"]))
def test_rendered_diff_round_trips_through_the_engine(data: st.DataObject, newline: str) -> None:
    """Our own diff (correct line numbers, repeated lines everywhere) re-applies exactly.

    A reply's own line endings mean nothing (models and transports change them): new lines
    take the file's style, so the old text must show it (or be LF, the default).
    """
    old, new = data.draw(texts(newline)), data.draw(texts(newline))
    assume(newline == "\n" or "\n" in old)
    diff = render_diff({PATH: old}, {PATH: new})
    result = apply_reply(diff, {PATH: old}, "udiff")
    if old == new:
        assert diff == "" and result.files == {}
        return
    assert result.ok, result.feedback
    assert result.files == {PATH: new}


PIECES = st.sampled_from(
    [
        "<<<<<<< SEARCH",
        "=======",
        ">>>>>>> REPLACE",
        "```",
        "```python",
        "--- a/a.py",
        "+++ b/a.py",
        "--- /dev/null",
        "+++ /dev/null",
        "@@",
        "@@ -1,2 +1,3 @@",
        "@@ -0,0 +1 @@",
        "diff --git a/a.py b/a.py",
        "\\ No newline at end of file",
        "a.py",
        "../x.py",
        "",
        " a = 1",
        "-a = 1",
        "+a = 2",
        "a = 1",
        "    ...",
        "# ... rest unchanged ...",
        "\t",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=25),
    fmt=st.sampled_from(["auto", "diff", "udiff", "whole"]),
)
def test_any_reply_gives_a_result_never_an_exception(lines: list[str], fmt: str) -> None:
    files = {"a.py": "a = 1\nb = 2\n", "pkg/a.py": "a = 1\n"}
    result = apply_reply("\n".join(lines), files, fmt)
    assert result.ok == (not result.failed)
    assert all(isinstance(t, str) or t is None for t in result.files.values())
    assert bool(result.diff) == bool(result.files)
