"""apply_reply end to end on small inline cases: the ladder, failures and their feedback."""

from __future__ import annotations

import time

import pytest

from agentless.edits import apply_reply
from agentless.edits._data import RESEND

CODE = (
    "import os\n"
    "\n"
    "\n"
    "class Greeter:\n"
    "    def __init__(self, name):\n"
    "        self.name = name\n"
    "\n"
    "    def greet(self):\n"
    "        return 'hi ' + self.name\n"
    "\n"
    "    def shout(self):\n"
    "        return self.greet().upper()\n"
)


def sr(path: str, search: str, replace: str) -> str:
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


def test_exact() -> None:
    result = apply_reply(
        sr("g.py", "        return 'hi ' + self.name\n", "        return 'hello ' + self.name\n"),
        {"g.py": CODE},
    )
    assert result.ok and result.applied == 1
    assert result.files["g.py"] == CODE.replace("'hi '", "'hello '")
    assert "+        return 'hello ' + self.name" in result.diff


def test_dedented_search_is_reindented() -> None:
    reply = sr(
        "g.py",
        "def greet(self):\n    return 'hi ' + self.name\n",
        "def greet(self):\n    if not self.name:\n        return 'hi'\n    return 'hi ' + self.name\n",
    )
    result = apply_reply(reply, {"g.py": CODE})
    assert result.ok, result.feedback
    assert result.files["g.py"] == CODE.replace(
        "    def greet(self):\n",
        "    def greet(self):\n        if not self.name:\n            return 'hi'\n",
    )


def test_tabs_file_with_space_reply() -> None:
    code = "func f() {\n\tif x {\n\t\treturn 1\n\t}\n\treturn 2\n}\n"
    reply = sr(
        "f.go", "    if x {\n        return 1\n    }\n", "    if x {\n        return 3\n    }\n"
    )
    result = apply_reply(reply, {"f.go": code})
    assert result.ok, result.feedback
    assert result.files["f.go"] == code.replace("return 1", "return 3")


def test_trailing_whitespace_insensitive_keeps_file_whitespace() -> None:
    code = "a = 1   \nb = 2\n"
    result = apply_reply(sr("a.py", "a = 1\nb = 2\n", "a = 1\nb = 3\n"), {"a.py": code})
    assert result.files["a.py"] == "a = 1   \nb = 3\n"


def test_ambiguous_is_rejected_not_first_match() -> None:
    code = "x = 1\ny = 2\nx = 1\n"
    result = apply_reply(sr("a.py", "x = 1\n", "x = 9\n"), {"a.py": code})
    assert not result.ok and result.files == {} and result.diff == ""
    (failure,) = result.failed
    assert failure.reason == "ambiguous" and "lines 1, 3" in failure.feedback


def test_not_found_feedback_quotes_real_lines_and_already_present() -> None:
    reply = sr(
        "g.py",
        "    def greet(self):\n        return 'hey ' + self.name\n",
        "    def greet(self):\n        return 'hi ' + self.name\n",
    )
    result = apply_reply(reply, {"g.py": CODE})
    (failure,) = result.failed
    assert failure.reason == "no_match"
    assert "Did you mean these lines of g.py (lines 8-9)?" in failure.feedback
    assert "        return 'hi ' + self.name" in failure.feedback
    assert "already in g.py" in failure.feedback


def test_partial_success_reports_count() -> None:
    reply = sr("g.py", "import os\n", "import sys\n") + sr("g.py", "nothing\n", "x\n")
    result = apply_reply(reply, {"g.py": CODE})
    assert result.applied == 1 and len(result.failed) == 1
    assert result.files["g.py"].startswith("import sys\n")
    assert "1 edit was applied and is now in the files." in result.feedback
    assert result.feedback.endswith(RESEND)


def test_edits_apply_in_order() -> None:
    reply = sr("g.py", "import os\n", "import os\nimport re\n") + sr(
        "g.py", "import re\n", "import re  # regexes\n"
    )
    result = apply_reply(reply, {"g.py": CODE})
    assert result.ok and result.files["g.py"].startswith("import os\nimport re  # regexes\n")


def test_crlf_and_no_final_newline_survive() -> None:
    code = "a = 1\r\nb = 2\r\nc = 3"
    result = apply_reply(sr("a.py", "b = 2\n", "b = 20\nb2 = 21\n"), {"a.py": code})
    assert result.files["a.py"] == "a = 1\r\nb = 20\r\nb2 = 21\r\nc = 3"
    result = apply_reply(sr("a.py", "c = 3\n", "c = 30\n"), {"a.py": code})
    assert result.files["a.py"] == "a = 1\r\nb = 2\r\nc = 30"


def test_new_file_and_append_to_empty() -> None:
    result = apply_reply(sr("pkg/new.py", "", "x = 'é'\n"), {"a.py": "", "pkg/b.py": "b\n"})
    assert result.files == {"pkg/new.py": "x = 'é'\n"}
    result = apply_reply(sr("a.py", "", "x = 1\n"), {"a.py": ""})
    assert result.files == {"a.py": "x = 1\n"}
    result = apply_reply(sr("g.py", "", "x = 1\n"), {"g.py": CODE})
    assert [f.reason for f in result.failed] == ["file_exists"]


def test_elision_pairs_and_range() -> None:
    reply = sr(
        "g.py",
        "    def __init__(self, name):\n...\n    def shout(self):\n        return self.greet().upper()\n",
        "    def __init__(self, name):\n...\n    def shout(self):\n        return self.greet().upper() + '!'\n",
    )
    result = apply_reply(reply, {"g.py": CODE})
    assert result.ok, result.feedback
    assert result.files["g.py"] == CODE.replace(".upper()\n", ".upper() + '!'\n")
    reply = sr(
        "g.py",
        "    def greet(self):\n    ...\n        return self.greet().upper()\n",
        "    def greet(self):\n        return 'x'\n",
    )
    result = apply_reply(reply, {"g.py": CODE})
    assert result.ok, result.feedback
    assert result.files["g.py"].endswith("    def greet(self):\n        return 'x'\n")


def test_bad_paths_rejected() -> None:
    for path in ("/etc/passwd", "../x.py", ".git/config", "a\x00.py"):
        result = apply_reply(sr(path, "", "x\n"), {"a.py": "a\n"})
        assert [f.reason for f in result.failed] == ["bad_path"], path
        assert result.files == {}


def test_no_edits() -> None:
    result = apply_reply("I think the bug is in foo().", {"a.py": "a\n"})
    assert [f.reason for f in result.failed] == ["no_edits"] and result.applied == 0


def udiff(body: str) -> str:
    return f"```diff\n--- a/g.py\n+++ b/g.py\n{body}```\n"


def test_hunk_with_wrong_numbers_and_bad_edge_context() -> None:
    body = (
        "@@ -90,6 +90,6 @@\n"
        " class Greeter:  # wrong\n"
        "     def __init__(self, name):\n"
        "-        self.name = name\n"
        "+        self.name = name.strip()\n"
        " \n"
        "     def greet(this):\n"
    )
    result = apply_reply(udiff(body), {"g.py": CODE})
    assert [f.reason for f in result.failed] == ["no_match"] and not result.files
    # The feedback quotes the model's line and the file's.
    assert "class Greeter:  # wrong" in result.feedback
    assert "at line 4:\n```\nclass Greeter:\n```" in result.feedback


def test_hunk_with_skipped_edge_context_is_tolerated() -> None:
    # `def __init__` is skipped between the first context line and the next: missing
    # context, not contradicting context.
    body = (
        "@@\n"
        " class Greeter:\n"
        "         self.name = name\n"
        " \n"
        "     def greet(self):\n"
        "-        return 'hi ' + self.name\n"
        "+        return 'hello ' + self.name\n"
    )
    result = apply_reply(udiff(body), {"g.py": CODE})
    assert result.ok, result.feedback
    assert result.files["g.py"] == CODE.replace("'hi '", "'hello '")


def test_hunk_line_number_chooses_between_matches() -> None:
    code = "def a():\n    return 1\n\n\ndef b():\n    return 1\n"
    reply = "--- a/x.py\n+++ b/x.py\n@@ -6 +6 @@\n-    return 1\n+    return 2\n"
    result = apply_reply(reply, {"x.py": code})
    assert result.files["x.py"] == code[: code.rindex("1")] + "2\n"
    reply = "--- a/x.py\n+++ b/x.py\n@@\n-    return 1\n+    return 2\n"
    assert [f.reason for f in apply_reply(reply, {"x.py": code}).failed] == ["ambiguous"]


def test_hunk_with_skipped_context_is_split() -> None:
    body = (
        "@@ ... @@\n"
        "     def __init__(self, name):\n"
        "-        self.name = name\n"
        "+        self.name = name or 'you'\n"
        "     def shout(self):\n"
        "-        return self.greet().upper()\n"
        "+        return self.greet().upper() + '!'\n"
    )
    result = apply_reply(udiff(body), {"g.py": CODE})
    assert result.ok, result.feedback
    expected = CODE.replace("= name\n", "= name or 'you'\n").replace(
        ".upper()\n", ".upper() + '!'\n"
    )
    assert result.files["g.py"] == expected


def test_udiff_new_and_deleted_files() -> None:
    reply = (
        "--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file\n"
        "--- a/g.py\n+++ /dev/null\n@@ -1,12 +0,0 @@\n"
        + "".join("-" + line + "\n" for line in CODE.splitlines())
    )
    result = apply_reply(reply, {"g.py": CODE})
    assert result.ok, result.feedback
    assert result.files == {"n.py": "a\nb", "g.py": None}
    assert "deleted file mode" in result.diff and "new file mode" in result.diff


def test_whole_file_keeps_crlf_and_rejects_lazy() -> None:
    code = "a = 1\r\nb = 2\r\n"
    result = apply_reply("a.py\n```python\na = 1\nb = 3\n```\n", {"a.py": code}, fmt="whole")
    assert result.files == {"a.py": "a = 1\r\nb = 3\r\n"}
    result = apply_reply("a.py\n```python\na = 1\n# ... rest unchanged ...\n```\n", {"a.py": code})
    assert [f.reason for f in result.failed] == ["lazy"]


def _dumped_file_hunk(n: int, wrong: str) -> tuple[str, str]:
    """A file of ``n`` lines and a hunk quoting all of it, whose ``-`` line says ``wrong``."""
    body = [f"    value_{i} = compute({i})" for i in range(n)]
    hunk = [f"@@ -1,{n} +1,{n} @@"]
    for i, line in enumerate(body):
        if i == n // 2:
            hunk += ["-" + wrong, "+" + line.replace("compute", "calc")]
        else:
            hunk.append(" " + line)
    reply = "```diff\n--- a/m.py\n+++ b/m.py\n" + "\n".join(hunk) + "\n```\n"
    return "\n".join(body) + "\n", reply


def test_whole_file_hunk_that_matches_nowhere_fails_fast() -> None:
    # Models dump whole files into a hunk; one wrong `-` line must not make the engine try
    # every way of trimming ~1000 context lines (minutes) before saying no_match.
    text, reply = _dumped_file_hunk(1000, "    value_500 = compute(-1)")
    started = time.perf_counter()
    result = apply_reply(reply, {"m.py": text})
    assert [f.reason for f in result.failed] == ["no_match"]
    assert time.perf_counter() - started < 10


def test_whole_file_hunk_with_wrong_edge_context_still_shrinks() -> None:
    text, reply = _dumped_file_hunk(60, "    value_30 = compute(30)")
    reply = reply.replace(" " + "    value_0 = compute(0)", "     value_0 = compute(zero)")
    result = apply_reply(reply, {"m.py": text})
    assert [f.reason for f in result.failed] == ["no_match"]
    assert "value_0 = compute(zero)" in result.feedback


@pytest.mark.parametrize(
    ("comment", "lazy"),
    [
        ("# ... rest of the class unchanged ...", True),
        ("// ... existing code ...", True),
        ("# rest of the file is the same", True),
        ("# other methods remain unchanged", True),
        ("# keep the input order unchanged", False),
        ("# wait... then retry", False),
        ("# the cache is unchanged when the key is missing", False),
    ],
)
def test_lazy_comments_are_placeholders_not_any_mention(comment: str, lazy: bool) -> None:
    old = {"m.py": "def f(xs):\n    return sorted(xs)\n"}
    reply = f"m.py\n```python\ndef f(xs):\n    {comment}\n    return list(xs)\n```\n"
    result = apply_reply(reply, old, "whole")
    assert [f.reason for f in result.failed] == (["lazy"] if lazy else [])


STATS = (
    "def mean(values):\n"
    "    if not values:\n"
    "        raise ValueError('mean of empty data')\n"
    "    return sum(values) / len(values)\n"
    "\n"
    "\n"
    "def median(values):\n"
    "    ordered = sorted(values)\n"
    "    middle = len(ordered) // 2\n"
    "    if len(ordered) % 2:\n"
    "        return ordered[middle]\n"
    "    return (ordered[middle - 1] + ordered[middle]) / 2\n"
)


def test_did_you_mean_quotes_the_block_the_search_names() -> None:
    # Seen with a real model: a SEARCH for a line that is nowhere; the closest *text* is
    # mean()'s return line, but the names point into median().
    reply = sr("s.py", "    return median(values)\n", "    return 1\n")
    (failure,) = apply_reply(reply, {"s.py": STATS}).failed
    quoted = failure.feedback.split("Did you mean", 1)[1]
    assert "ordered" in quoted and "sum(values)" not in quoted


def test_contradicting_hunk_is_refused_even_with_a_line_number() -> None:
    # The context says `return None` where the file has `return 0`: dropping it would leave
    # two matches, and the header's number must not pick one.
    code = "def f():\n    x = 1\n    return 0\n\n\ndef g():\n    x = 1\n    return 1\n"
    reply = "--- a/c.py\n+++ b/c.py\n@@ -1,3 +1,3 @@\n def f():\n-    x = 1\n+    x = 2\n     return None\n"
    result = apply_reply(reply, {"c.py": code})
    assert not result.ok and not result.files
    assert "    return None" in result.feedback and "    return 0" in result.feedback


def test_unprefixed_context_does_not_shift_added_lines() -> None:
    # Context lines that lost their leading space read as 3-space lines in a 4-space file:
    # the added line must keep the 4 spaces the model gave it.
    code = "def build():\n    parser = make()\n    parser.run()\n    return parser\n"
    reply = (
        "--- a/b.py\n+++ b/b.py\n@@\n"
        "    parser = make()\n"
        "+    parser.verbose = True\n"
        "    parser.run()\n"
    )
    result = apply_reply(reply, {"b.py": code})
    assert result.ok, result.feedback
    assert result.files["b.py"] == code.replace("make()\n", "make()\n    parser.verbose = True\n")


def test_loose_placement_that_breaks_python_is_refused() -> None:
    # Found only by re-indenting (a one-level shift), the new lines would land mis-indented.
    code = "class A:\n    def f(self):\n        return 1\n"
    reply = sr("a.py", "def f(self):\n    return 1\n", "def f(self):\n    return 2\n  x = 1\n")
    result = apply_reply(reply, {"a.py": code})
    assert [f.reason for f in result.failed] == ["breaks_syntax"] and not result.files
    assert "line" in result.feedback and "indentation" in result.feedback


def test_exact_placement_that_breaks_python_is_applied_and_reported() -> None:
    code = "def f():\n    return 1\n"
    reply = sr("a.py", "    return 1\n", "    return (1\n")
    result = apply_reply(reply, {"a.py": code})
    assert result.ok and result.files["a.py"] == "def f():\n    return (1\n"
    assert list(result.syntax_errors) == ["a.py"]


def test_whole_file_cut_off_inside_its_fence_is_refused() -> None:
    reply = "a.py\n```python\ndef f():\n    return 2\n\n\ndef g("
    result = apply_reply(reply, {"a.py": "def f():\n    return 1\n"}, "whole")
    assert [f.reason for f in result.failed] == ["malformed"] and not result.files
    assert "closing fence" in result.feedback


def test_hunk_cut_off_after_a_removed_line_is_refused() -> None:
    code = "def f():\n    a = 1\n    b = 2\n    return a + b\n"
    reply = "```diff\n--- a/a.py\n+++ b/a.py\n@@\n def f():\n-    a = 1\n-    b = 2"
    result = apply_reply(reply, {"a.py": code})
    assert [f.reason for f in result.failed] == ["malformed"] and not result.files


def test_hunk_with_only_context_lines_is_refused() -> None:
    # Seen with Qwen2.5-Coder-1.5B: the new lines written without `+`, as context.
    reply = "--- a/g.py\n+++ b/g.py\n@@ ... @@\n class Greeter:\n     def __init__(self, name):\n"
    result = apply_reply(reply, {"g.py": CODE})
    assert [f.reason for f in result.failed] == ["malformed"] and not result.files
    assert "changes nothing" in result.feedback


STUB = "def encode(plain_text, a, b):\n    pass\n\n\ndef decode(ciphered_text, a, b):\n    pass\n"


def test_a_hunk_for_code_a_short_file_does_not_have_quotes_the_whole_file() -> None:
    # What a small model did on most of the polyglot stubs: context lines of a solution it
    # imagined. Nothing in the file is like them; the file is short enough to show whole.
    reply = (
        "```diff\n--- a/affine_cipher.py\n+++ b/affine_cipher.py\n@@ -1,6 +1,7 @@\n"
        " def encode(plain_text, a, b):\n"
        "     if not (a.isalpha() and b.isalpha()):\n"
        '         raise ValueError("a and m must be alphabetic.")\n'
        "+    if not (a.isprime() and b.isprime()):\n"
        '+        raise ValueError("a and m must be coprime.")\n'
        " \n"
        "     alphabet = 'abcdefghijklmnopqrstuvwxyz'\n"
        "     plain_text = plain_text.lower()\n```\n"
    )
    (failure,) = apply_reply(reply, {"affine_cipher.py": STUB}).failed
    assert failure.reason == "no_match"
    assert f"affine_cipher.py has 6 lines, all of them:\n```\n{STUB}```" in failure.feedback


def test_a_long_file_is_not_quoted_whole_when_nothing_is_like_the_search() -> None:
    code = "".join(f"def f{i}():\n    return {i}\n\n" for i in range(40))
    reply = sr("many.py", "class Imagined:\n    colour = 'blue'\n", "class Imagined:\n    pass\n")
    (failure,) = apply_reply(reply, {"many.py": code}).failed
    assert failure.reason == "no_match"
    assert "all of them" not in failure.feedback and "def f39" not in failure.feedback
