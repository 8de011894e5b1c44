"""Property: a hunk whose context contradicts the file never yields a wrong file.

Random Python files are built from functions that share most of their lines (so that the
changed lines alone often match several places) and differ in their names and in a few
values; a random single-hunk edit of one function is rendered as a unified diff, then one or
two of its context lines are made to contradict the file: another function's name, another
returned value, another statement - a line the file does not have (a line it has elsewhere
could make the hunk a true description, with skipped lines, of another place). Whatever the
header's line number says, the engine may refuse, or apply the edit exactly where it was
meant - never
return ``ok`` with any other file.
"""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agentless.edits import apply_reply

PATH = "pkg/calc.py"
NAMES = ["add", "sub", "subtract", "total", "mean", "median", "clamp", "area"]
BODY = [
    "x = a + b",
    "x = a - b",
    "y = x * 2",
    "if x > 0:",
    "return None",
    "return 0",
    "return x",
    "return y",
    "values = []",
]


@st.composite
def python_files(draw: st.DrawFn) -> list[str]:
    """Lines of a file of 2-5 small functions; many body lines repeat across functions."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=5, unique=True))
    template = draw(st.lists(st.sampled_from(BODY[:4] + BODY[6:]), min_size=1, max_size=4))
    lines: list[str] = []
    for k, name in enumerate(names):
        if k:
            lines += ["", ""]
        lines.append(f"def {name}(a, b):")
        body = list(template)
        if draw(st.booleans()):  # some functions differ a little
            body[draw(st.integers(0, len(body) - 1))] = draw(st.sampled_from(BODY))
        for line in body:
            lines.append("    " + line)
            if line.endswith(":"):
                lines.append("        pass")
        lines.append("    " + draw(st.sampled_from(["return None", "return 0", "return x"])))
    return lines


def parses(lines: list[str]) -> bool:
    try:
        ast.parse("\n".join(lines) + "\n")
    except SyntaxError:
        return False
    return True


@st.composite
def contradicted_hunks(draw: st.DrawFn) -> tuple[list[str], list[str], str]:
    """(file lines, intended file lines, reply)."""
    lines = draw(python_files())
    n = len(lines)
    start = draw(st.integers(0, n - 1))
    end = draw(st.integers(start, min(n, start + 3)))
    region = lines[start:end]
    indent = "    " if start and lines[start - 1].startswith(("def ", "    ")) else ""
    new = [indent + draw(st.sampled_from([*BODY[:3], "z = 1", "return x + 1"]))]
    if draw(st.booleans()):
        new = []
    assume(new != region)
    intended = lines[:start] + new + lines[end:]
    assume(parses(intended))
    lead = draw(st.integers(0 if region else 1, 3))
    trail = draw(st.integers(0 if region else 1, 3))
    before = lines[max(0, start - lead) : start]
    after = lines[end : end + trail]
    context = [("b", i) for i in range(len(before))] + [("a", i) for i in range(len(after))]
    assume(any(lines_of(before, after, c).strip() for c in context))
    # Contradict one or more context lines (non-blank ones: a blank line is no evidence).
    candidates = [c for c in context if lines_of(before, after, c).strip()]
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True))
    before, after = list(before), list(after)
    for side, i in chosen:
        real = (before if side == "b" else after)[i]
        fake = draw(
            st.sampled_from(
                [contradiction(real, name) for name in NAMES]
                + ["    " + b for b in BODY]
                + ["    return math.tau * self.r"]
            )
        )
        # A line the file does not have at all: were it elsewhere in the file, the hunk
        # could be a true description, with skipped lines, of that other place.
        assume(fake.strip() not in {line.strip() for line in lines})
        (before if side == "b" else after)[i] = fake
    # The hunk as written must match nowhere: a hunk that is true of another place in the
    # file says to edit that place.
    assume(not occurs([*before, *region, *after], lines))
    body = [" " + line for line in before]
    body += ["-" + line for line in region]
    body += ["+" + line for line in new]
    body += [" " + line for line in after]
    old_start = start - len(before) + 1
    header = draw(
        st.sampled_from(
            [
                f"@@ -{old_start},{len(before) + len(region) + len(after)} +{old_start} @@",
                f"@@ -{max(1, old_start + draw(st.integers(-12, 12)))},3 +1,3 @@",
                "@@ ... @@",
            ]
        )
    )
    reply = f"```diff\n--- a/{PATH}\n+++ b/{PATH}\n{header}\n" + "\n".join(body) + "\n```\n"
    return lines, intended, reply


def occurs(block: list[str], lines: list[str]) -> bool:
    want = [line.strip() for line in block]
    have = [line.strip() for line in lines]
    return any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1))


def lines_of(before: list[str], after: list[str], c: tuple[str, int]) -> str:
    return (before if c[0] == "b" else after)[c[1]]


def contradiction(real: str, name: str) -> str:
    """``real`` with another function name or another returned value."""
    if real.startswith("def "):
        return f"def {name}(a, b):"
    if "return" in real:
        return (
            real.replace("None", "0") if "None" in real else real.split("return")[0] + "return None"
        )
    return real.replace("a", "q", 1) if "a" in real else real + "  # changed"


# The assumptions are the definition of a case (a contradicting line must not be true of
# another place in the file); some seeds discard many drafts before the first few cases.
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=contradicted_hunks())
def test_contradicting_context_never_gives_a_wrong_file(
    case: tuple[list[str], list[str], str],
) -> None:
    lines, intended, reply = case
    original = "\n".join(lines) + "\n"
    result = apply_reply(reply, {PATH: original}, "udiff")
    if result.ok:
        assert result.files.get(PATH, original) == "\n".join(intended) + "\n", reply
    else:
        assert not result.files and result.failed[0].feedback
