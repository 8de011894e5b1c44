"""Placeholder ("lazy") comments in whole files: comments that stand for code left out.

Checked against an outside reference when its mirror is present: the reference solutions of
Aider's polyglot benchmark (written by Exercism's authors, every one complete) must never be
refused as lazy when sent as whole files over their stubs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agentless.edits import apply_reply
from agentless.edits._lazy import defined_names, is_placeholder

POLYGLOT = "Aider-AI+polyglot-benchmark"


@pytest.mark.parametrize(
    "comment",
    [
        "# ... rest of the class unchanged ...",
        "// ... existing code ...",
        "/* ... */",
        "# ...",
        "# other methods...",
        "# (rest of the code unchanged)",
        "# remaining functions unchanged",
        "# code omitted for brevity",
        "# everything else stays the same",
        "# The rest of the methods stay the same",
    ],
)
def test_comments_that_stand_for_left_out_code(comment: str) -> None:
    assert is_placeholder(comment)
    assert is_placeholder("        " + comment)


@pytest.mark.parametrize(
    "comment",
    [
        "# I just fixed the PEP-8 violations...",  # python/zebra-puzzle's reference solution
        "# Loading...",
        "# wait... then retry",
        "# keep the input order unchanged",
        "# the cache is unchanged when the key is missing",
        "# the value stays the same",
        "x = 1  # ...",
        "...",
    ],
)
def test_prose_comments_are_not_placeholders(comment: str) -> None:
    assert not is_placeholder(comment)


def test_a_left_out_definition_said_to_be_unchanged_is_a_placeholder() -> None:
    old = "def total(xs):\n    return sum(xs)\n\n\ndef checkout(cart):\n    return total(cart)\n"
    new = "def total(xs):\n    return sum(xs) or 0\n\n\n# checkout stays the same\n"
    assert defined_names(old) - defined_names(new) == {"checkout"}
    result = apply_reply(f"m.py\n```python\n{new}```\n", {"m.py": old}, "whole")
    assert [f.reason for f in result.failed] == ["lazy"]
    assert "# checkout stays the same" in result.feedback
    kept = new.replace("# checkout stays the same\n", "# checkout stays the same\n" + old[30:])
    result = apply_reply(f"m.py\n```python\n{kept}```\n", {"m.py": old}, "whole")
    assert result.ok, result.feedback


def test_a_whole_file_ending_a_comment_with_an_ellipsis_applies() -> None:
    old = "def solve():\n    pass\n"
    new = "def solve():\n    # I just fixed the PEP-8 violations...\n    return 42\n"
    result = apply_reply(f"solve.py\n```python\n{new}```\n", {"solve.py": old}, "whole")
    assert result.ok, result.feedback
    assert result.files == {"solve.py": new}


def _polyglot_mirror() -> Path | None:
    for folder in Path(__file__).resolve().parents:
        candidate = folder / ".mirror" / POLYGLOT / "repo"
        if (candidate / "HEAD").is_file():
            return candidate
    return None


def _git_show(mirror: Path, path: str) -> str | None:
    proc = subprocess.run(
        ["git", "--git-dir", str(mirror), "show", f"HEAD:{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else None


def _reference_solutions(mirror: Path) -> list[tuple[str, str, str]]:
    """(solution path, stub, reference) for every exercise whose reference is one file."""
    listing = subprocess.run(
        ["git", "--git-dir", str(mirror), "ls-tree", "-r", "--name-only", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    out = []
    for config_path in (p for p in listing if p.endswith("/.meta/config.json")):
        folder = config_path.removesuffix(".meta/config.json")
        files = json.loads(_git_show(mirror, config_path) or "{}").get("files", {})
        solution, example = files.get("solution", []), files.get("example", [])
        if len(solution) != 1 or len(example) != 1:
            continue
        stub, reference = (
            _git_show(mirror, folder + solution[0]),
            _git_show(mirror, folder + example[0]),
        )
        if stub is not None and reference is not None:
            out.append((folder + solution[0], stub, reference))
    return out


def test_no_polyglot_reference_solution_is_refused_as_lazy_or_partial() -> None:
    mirror = _polyglot_mirror()
    if mirror is None:
        pytest.skip(f"no local mirror of {POLYGLOT} (.mirror/{POLYGLOT}/repo above the repo)")
    solutions = _reference_solutions(mirror)
    assert len(solutions) > 150  # the benchmark has 225 exercises, most with one file
    refused = []
    for path, stub, reference in solutions:
        fence = "`" * 4
        reply = (
            f"{path}\n{fence}\n{reference}{'' if reference.endswith(chr(10)) else chr(10)}{fence}\n"
        )
        result = apply_reply(reply, {path: stub}, "whole")
        refused += [(path, f.feedback) for f in result.failed if f.reason in ("lazy", "partial")]
    assert refused == []


ACCOUNT = """class Account:
    def __init__(self, balance=0):
        self.balance = balance

    def statement(self):
        return f"balance: {self.balance}"


def audit(account):
    return account.balance >= 0
"""


def test_a_method_sent_as_the_whole_file_without_its_class_is_refused() -> None:
    # Seen with Qwen2.5-Coder-1.5B: the one method it changed, dedented, as the "whole file".
    reply = (
        "bank/account.py\n```python\ndef statement(self):\n"
        '    return f"balance: {self.balance}\\n"\n```\n'
    )
    result = apply_reply(reply, {"bank/account.py": ACCOUNT}, "whole")
    assert not result.ok and result.files == {}
    (failure,) = result.failed
    assert failure.reason == "partial"
    assert "statement() of class Account" in failure.feedback


@pytest.mark.parametrize(
    "new",
    [
        ACCOUNT.replace("balance: ", "Balance: "),  # the class kept
        ACCOUNT.replace("def statement(self):", "def show(self):"),  # one renamed
        "def statement(self):\n    return 'x'\n\n\nclass Account:\n    pass\n",  # class kept
    ],
)
def test_whole_files_that_keep_the_class_or_most_definitions_apply(new: str) -> None:
    reply = f"bank/account.py\n```python\n{new}```\n"
    result = apply_reply(reply, {"bank/account.py": ACCOUNT}, "whole")
    assert result.ok, result.feedback
    assert result.files == {"bank/account.py": new}


def test_a_whole_file_keeping_under_half_of_the_definitions_is_refused() -> None:
    # The real corpus's pieces: one function of a 14-function module the model saw through a
    # window, sent as the whole file (writing it would delete the other 13).
    reply = "bank/account.py\n```python\ndef audit(account):\n    return True\n```\n"
    result = apply_reply(reply, {"bank/account.py": ACCOUNT}, "whole")
    assert not result.ok and result.files == {}
    (failure,) = result.failed
    assert failure.reason == "partial"
    assert "it lacks 3 of the functions and classes" in failure.feedback
    assert "(Account, __init__, statement)" in failure.feedback
    # A small file is taken as written: too few definitions to tell a piece from a rewrite.
    small = {"m.py": "def a():\n    pass\n\n\ndef b():\n    pass\n"}
    assert apply_reply("m.py\n```python\ndef a():\n    return 1\n```\n", small, "whole").ok
    # So is a file of new definitions: a rewrite (SmolLM2's calc/ops.py of three new
    # functions for six old ones), however wrong, says what the file is to be.
    rewrite = "bank/account.py\n```python\nclass Ledger:\n    pass\n```\n"
    assert apply_reply(rewrite, {"bank/account.py": ACCOUNT}, "whole").ok


CLI = """import argparse


def build_parser():
    return argparse.ArgumentParser(prog="notes")


def main(argv=None):
    return build_parser().parse_args(argv)
"""


def test_a_method_from_nowhere_sent_as_the_whole_file_is_refused() -> None:
    # Qwen2.5-Coder-1.5B's invented list_notes(self) as the whole of a two-function module.
    method = "def list_notes(self):\n    print(self.notes)\n"
    result = apply_reply(f"notes/cli.py\n```python\n{method}```\n", {"notes/cli.py": CLI}, "whole")
    assert not result.ok
    (failure,) = result.failed
    assert failure.reason == "partial"
    assert "list_notes(), a method, at the top level without any class" in failure.feedback
    # With a class, or beside the module's own functions, it is what the file says.
    for new in (
        f"class Notes:\n    {method.replace(chr(10), chr(10) + '    ').rstrip()}\n",
        CLI + "\n\n" + method,
        "def run(argv):\n    return argv\n",
    ):
        assert apply_reply(
            f"notes/cli.py\n```python\n{new}```\n", {"notes/cli.py": CLI}, "whole"
        ).ok
