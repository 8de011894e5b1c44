"""Regression and reproduction validators on a real temporary project, run in the sandbox
with the running interpreter (which has pytest)."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

from agentless.repo import Workspace, is_test_file
from agentless.testing import LEAN_PYTEST
from agentless.validate import (
    Environment,
    Recipe,
    Sandbox,
    ValidationPlan,
    check,
    user_test_command,
)
from agentless.validate._validators import (
    find_regression_tests,
    module_names,
    run_regression,
    run_reproduction,
    run_test_files,
    script_verdict,
)

SHAPES = """def area(w, h):
    return w * h


def perimeter(w, h):
    return w + h  # bug: should be 2 * (w + h)
"""
TEST_SHAPES = """from geo.shapes import area, perimeter


def test_area():
    assert area(2, 3) == 6


def test_perimeter():
    assert perimeter(2, 3) == 10
"""
TEST_UNRELATED = "def test_nothing():\n    assert True\n"
TEST_USES_SHAPES = (
    "import geo.shapes\n\n\ndef test_module():\n    assert geo.shapes.area(1, 1) == 1\n"
)


def diff(path: str, old: str, new: str) -> str:
    old_lines = old.splitlines()
    new_lines = new.splitlines()
    body = [f"-{line}" for line in old_lines] + [f"+{line}" for line in new_lines]
    header = f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
    return header + f"@@ -1,{len(old_lines)} +1,{len(new_lines)} @@\n" + "\n".join(body) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "geo").mkdir(parents=True)
    (root / "geo" / "__init__.py").write_text("")
    (root / "geo" / "shapes.py").write_text(SHAPES)
    (root / "tests").mkdir()
    (root / "tests" / "test_shapes.py").write_text(TEST_SHAPES)
    (root / "tests" / "test_other.py").write_text(TEST_UNRELATED)
    (root / "tests" / "test_module_user.py").write_text(TEST_USES_SHAPES)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture(scope="module")
def env() -> Environment:
    recipe = Recipe(python="", test_cmd=f"{LEAN_PYTEST} -rA")
    return Environment.from_python(Path(sys.executable), recipe)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(timeout=120)


FIX = diff(
    "geo/shapes.py", "    return w + h  # bug: should be 2 * (w + h)", "    return 2 * (w + h)"
)
BREAK_AREA = diff("geo/shapes.py", "    return w * h", "    return w * h + 1")


def test_static_discovery(project: Path) -> None:
    assert is_test_file("tests/helpers.py") and is_test_file("pkg/x_test.py")
    assert not is_test_file("tests/conftest.py") and not is_test_file("geo/shapes.py")
    assert module_names("src/pkg/mod.py") == {"src.pkg.mod", "pkg.mod"}
    found = find_regression_tests(project, ["geo/shapes.py"])
    assert found == ["tests/test_shapes.py", "tests/test_module_user.py"]
    assert find_regression_tests(project, ["README.md"]) == []


def test_regression_counts_only_tests_that_passed_before(
    project: Path, env: Environment, sandbox: Sandbox
) -> None:
    tests = find_regression_tests(project, ["geo/shapes.py"])
    baseline = run_test_files(project, env, tests, sandbox=sandbox)
    assert baseline.ran
    assert baseline.statuses["tests/test_shapes.py::test_perimeter"] == "FAILED"

    fixed = run_regression(project, env, FIX, tests, sandbox=sandbox, baseline=baseline)
    assert fixed.ok and fixed.failures == 0

    broken = run_regression(project, env, BREAK_AREA, tests, sandbox=sandbox, baseline=baseline)
    assert broken.failures == 2
    assert broken.broken == (
        "tests/test_module_user.py::test_module",
        "tests/test_shapes.py::test_area",
    )
    # The worktree is back as it was.
    assert (project / "geo" / "shapes.py").read_text() == SHAPES


def test_runs_leave_no_bytecode_to_mislead_the_next_candidate(
    project: Path, env: Environment, sandbox: Sandbox
) -> None:
    # Bytecode is trusted when the source's size and mtime (whole seconds) match. A candidate
    # of the original's size, applied in the second its tests ran, would otherwise run the
    # code the previous run compiled instead of its own.
    swap = diff("geo/shapes.py", SHAPES, SHAPES.replace("w * h", "h * w"))
    tests = find_regression_tests(project, ["geo/shapes.py"])
    run_regression(project, env, swap, tests, sandbox=sandbox)
    assert not list(project.rglob("__pycache__"))


def test_regression_reports_problems_as_data(
    project: Path, env: Environment, sandbox: Sandbox
) -> None:
    stale = diff("geo/shapes.py", "    return nothing_like_this", "    pass")
    result = run_regression(project, env, stale, ["tests/test_shapes.py"], sandbox=sandbox)
    assert (
        not result.applied and result.failures is None and "did not apply" in (result.error or "")
    )
    assert run_regression(project, env, FIX, [], sandbox=sandbox).failures is None
    new_file = (
        "diff --git a/geo/extra.py b/geo/extra.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/geo/extra.py\n@@ -0,0 +1 @@\n+X = 1\n"
    )
    result = run_regression(project, env, new_file, ["tests/test_other.py"], sandbox=sandbox)
    assert result.ok
    assert not (project / "geo" / "extra.py").exists()  # removed again


REPRO = """
from geo.shapes import perimeter
if perimeter(2, 3) == 10:
    print("Issue resolved")
else:
    print("Issue reproduced")
"""


def test_reproduction_script(project: Path, env: Environment, sandbox: Sandbox) -> None:
    fixed = run_reproduction(project, env, REPRO, FIX, sandbox=sandbox)
    assert fixed.reproduces and fixed.passed is True

    unrelated = run_reproduction(
        project, env, REPRO, BREAK_AREA, sandbox=sandbox, original=fixed.original
    )
    assert unrelated.passed is False
    assert (project / "geo" / "shapes.py").read_text() == SHAPES

    useless = run_reproduction(project, env, "print('Issue resolved')", FIX, sandbox=sandbox)
    assert not useless.reproduces and useless.passed is None


def test_reproduction_script_has_no_network(
    project: Path, env: Environment, sandbox: Sandbox
) -> None:
    script = (
        "import socket\n"
        "s = socket.socket(); s.settimeout(5)\n"
        "print('Issue reproduced' if s.connect_ex(('192.0.2.1', 80)) else 'Other issues')\n"
    )
    result = run_reproduction(project, env, script, FIX, sandbox=sandbox)
    assert result.original.verdict == "reproduced"  # the connection failed inside


def test_script_verdicts() -> None:
    assert script_verdict("Issue reproduced\n", 0, False) == "reproduced"
    assert script_verdict("Other issues\n", 0, False) == "other"
    assert script_verdict("", 0, False) == "resolved"
    assert script_verdict("AssertionError", 1, False) == "reproduced"
    assert script_verdict("Issue resolved", None, True) == "other"


MATH = """def double(x):
    return x + x + 1


def square(x):
    return x * x + 1
"""
TEST_MATH = """from mathy import double, square


def test_double():
    assert double(2) == 4


def test_double_zero():
    assert double(0) == 0


def test_square():
    assert square(3) == 9


def test_square_one():
    assert square(1) == 1
"""


def test_user_command_counts_tests_that_vanish_as_failing(
    tmp_path: Path, env: Environment, sandbox: Sandbox
) -> None:
    # A patch that breaks the module's import turns four tests into one collection error;
    # it must not rank above a patch that fixes half of them.
    root = tmp_path / "mathy"
    (root / "tests").mkdir(parents=True)
    (root / "mathy.py").write_text(MATH)
    (root / "tests" / "test_mathy.py").write_text(TEST_MATH)
    half = diff("mathy.py", MATH, MATH.replace("x + x + 1", "x + x"))
    breaks = diff("mathy.py", MATH, "import not_a_module\n" + MATH)
    plan = ValidationPlan(
        tree=root,
        env=env,
        sandbox=sandbox,
        test_command=user_test_command(f"{LEAN_PYTEST} tests"),
        timeout=120,
    )
    checks = check(plan, {"half": half, "breaks": breaks})
    assert (checks["half"].broken, checks["half"].fixed) == ((), 2)
    assert (checks["breaks"].broken, checks["breaks"].fixed) == ((), 0)
    assert (root / "mathy.py").read_text() == MATH


def test_user_command_compares_each_test_before_and_after_not_the_totals(
    tmp_path: Path, env: Environment, sandbox: Sandbox
) -> None:
    # Two tests fail before and two after, but not the same two: the patch is a regression.
    good_double = MATH.replace("x + x + 1", "x + x")
    root = tmp_path / "mathy"
    (root / "tests").mkdir(parents=True)
    (root / "mathy.py").write_text(good_double)
    (root / "tests" / "test_mathy.py").write_text(TEST_MATH)
    swap = diff("mathy.py", good_double, MATH.replace("x * x + 1", "x * x"))
    plan = ValidationPlan(
        tree=root,
        env=env,
        sandbox=sandbox,
        test_command=user_test_command(f"{LEAN_PYTEST} tests"),
        timeout=120,
    )
    [checks] = check(plan, {"swap": swap}).values()
    assert checks.broken == (
        "tests/test_mathy.py::test_double",
        "tests/test_mathy.py::test_double_zero",
    )
    assert (checks.regression_failures, checks.fixed) == (2, 2)


STATEFUL_SCRIPT = """import os
if os.path.exists("seen.marker"):
    print("Issue resolved")
else:
    open("seen.marker", "w").close()
    print("Issue reproduced")
"""


def test_each_run_starts_from_a_clean_tree_when_the_plan_can_reset_it(
    tmp_path: Path, env: Environment, sandbox: Sandbox
) -> None:
    # A script (or test) that leaves a file behind must not decide the next run's verdict.
    root = tmp_path / "stateful"
    root.mkdir()
    (root / "mod.py").write_text("X = 1\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid",
         "commit", "-q", "-m", "base"],
        check=True,
    )  # fmt: skip
    plan = ValidationPlan(
        tree=root,
        env=env,
        sandbox=sandbox,
        reproduction_script=STATEFUL_SCRIPT,
        timeout=60,
        reset=functools.partial(Workspace(tmp_path / "cache").reset, root),
    )
    noop = diff("mod.py", "X = 1\n", "X = 2\n")
    checks = check(plan, {"noop": noop})
    assert checks["noop"].reproduction_passed is False
