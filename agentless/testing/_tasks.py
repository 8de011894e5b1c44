"""Generated tasks for tests and benchmarks of batch runs: small git repositories, each with
one real bug and real tests, and a scripted server that answers every stage like a model that
finds and fixes it.

Every repository differs (its number is in the code and in the issue), so no two tasks send
the same request and the run store's cache cannot answer one task with another's reply.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentless.repo import gitpython, open_repo
from agentless.testing._server import RecordedRequest, ScriptedServer
from agentless.validate import Recipe

if TYPE_CHECKING:
    import git

# The example projects need no pytest plugin; not loading the ones installed beside pytest
# (hypothesis, xdist, ... in a dev environment) takes seconds off every test run.
LEAN_PYTEST = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -p no:cacheprovider"
TEST_CMD = f"{LEAN_PYTEST} -q tests"

_CORE = '''"""Numeric helpers of project {n}."""


def clamp(value, low, high):
    """Clamp value into [low, high] (project {n})."""
    if value < low:
        return low
    if value > high:
        return low
    return value


def span(low, high):
    """Width of the interval of project {n}."""
    return high - low
'''

_TESTS = """import unittest

from mathx import clamp, span


class TestCore(unittest.TestCase):
    def test_inside(self):
        self.assertEqual(clamp(2, 0, 3), 2)

    def test_below(self):
        self.assertEqual(clamp(-1, 0, 3), 0)

    def test_span(self):
        self.assertEqual(span(1, 4), 3)
"""

_NEW_TEST = """
    def test_above(self):
        self.assertEqual(clamp(5, 0, 3), 3)
"""

ISSUE = (
    "Project {n}: clamp(value, low, high) returns the lower bound for values above the "
    "range. clamp(5, 0, 3) gives 0, it should give 3."
)

FIX = """mathx/core.py
```python
<<<<<<< SEARCH
    if value > high:
        return low
=======
    if value > high:
        return high
>>>>>>> REPLACE
```
"""

REPRO = """```python
from mathx import clamp
if clamp(5, 0, 3) == 3:
    print("Issue resolved")
else:
    print("Issue reproduced")
```
"""


def unittest_id(name: str) -> str:
    """How ``python -m unittest -v`` names a test of the generated suite (3.11 added the
    method name inside the parentheses)."""
    suffix = f".{name}" if sys.version_info >= (3, 11) else ""
    return f"{name} (tests.test_core.TestCore{suffix})"


def unittest_recipe() -> Recipe:
    """An environment recipe for the generated projects: nothing to install, the standard
    library's unittest as the runner (no package index needed)."""
    return Recipe(
        python=f"{sys.version_info[0]}.{sys.version_info[1]}",
        install="",
        upgrade_pip=False,
        test_cmd="python -m unittest -v",
        log_parser="unittest",
    )


def _break_and_diff(git_repo: git.Repo, repo: Path, n: int) -> tuple[str, str]:
    """The gold fix and the new test as diffs against the base; the tree is left at the base."""
    (repo / "mathx" / "core.py").write_text(
        _CORE.format(n=n).replace(
            "        return low\n    return", "        return high\n    return"
        )
    )
    (repo / "tests" / "test_core.py").write_text(_TESTS + _NEW_TEST)
    # A diff keeps its final newline (GitPython strips one by default).
    gold = git_repo.git.diff("--", "mathx", strip_newline_in_stdout=False)
    test_patch = git_repo.git.diff("--", "tests", strip_newline_in_stdout=False)
    git_repo.git.checkout("-q", "--", ".")
    return gold, test_patch


def make_repo(root: Path, n: int) -> dict[str, str]:
    """Project ``n`` as a git repository under ``root``; its SWE-bench-style row."""
    repo = root / f"project{n}"
    (repo / "mathx").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "mathx" / "__init__.py").write_text("from mathx.core import clamp, span\n")
    (repo / "mathx" / "core.py").write_text(_CORE.format(n=n))
    (repo / "tests" / "__init__.py").write_text("")
    (repo / "tests" / "test_core.py").write_text(_TESTS)
    gitpython().Repo.init(repo, initial_branch="main").close()
    with open_repo(repo) as git_repo:  # our git settings: unsigned, no hooks, a/ b/ diffs
        with git_repo.config_writer() as config:
            config.set_value("user", "email", "tasks@example.invalid")
            config.set_value("user", "name", "tasks")
        git_repo.git.add(".")
        git_repo.git.commit("-q", "-m", "base")
        base = git_repo.head.commit.hexsha
        gold, test_patch = _break_and_diff(git_repo, repo, n)
    return {
        "instance_id": f"project{n}",
        "repo": str(repo),
        "base_commit": base,
        "problem_statement": ISSUE.format(n=n),
        "patch": gold,
        "test_patch": test_patch,
        "FAIL_TO_PASS": json.dumps([unittest_id("test_above")]),
        "PASS_TO_PASS": json.dumps([unittest_id("test_inside"), unittest_id("test_span")]),
        "version": "1.0",
    }


def make_dataset(
    root: Path, count: int, *, kind: str = "local", test_cmd: str = TEST_CMD
) -> tuple[Path, list[dict[str, str]]]:
    """``count`` projects and a JSONL dataset of them: ``kind="local"`` rows validate with
    ``test_cmd`` and the running interpreter; ``"swebench"`` rows carry gold tests."""
    rows = []
    for n in range(count):
        row = make_repo(root, n)
        if kind == "local":
            row.update(kind="local", test_cmd=test_cmd)
        rows.append(row)
    dataset = root / "dataset.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return dataset, rows


def _answer(request: RecordedRequest) -> str:
    prompt = request.prompt
    if "# Repository files" in prompt:
        return "```\nmathx/core.py\n```"
    if "# Candidate files" in prompt or "# Relevant code" in prompt:
        return "```\nmathx/core.py\nfunction: clamp\n```"
    if "Write a standalone Python script" in prompt:
        return REPRO
    if "# Source code" in prompt:
        return FIX
    return "I cannot tell."


def script_server(server: ScriptedServer, extra_rules: Sequence[tuple[str, str]] = ()) -> None:
    """Answer every stage of a generated task as a model that finds and fixes the bug; the
    answer depends on the request alone, so any schedule gets the same replies."""
    for match, reply in extra_rules:
        server.on(match, reply)
    server.set_default(_answer)
