"""Grading rules (SWE-bench semantics), the report schema, test commands from tasks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentless.errors import EnvironmentBuildError
from agentless.validate import Recipe, auto_recipe, recipe_for
from agentless.validate._environments import Environment, detect_import_roots
from agentless.validate._grading import grade_log, instance_report, resolution, status_report
from agentless.validate._interpreters import find_python
from agentless.validate._testrun import (
    END_MARKER,
    START_MARKER,
    TestCommand,
    TestRun,
    command_for_task,
    command_from_eval_script,
    django_label,
    files_before_patch,
    files_in_patch,
    parse_command,
    patch_files,
    touched_test_files,
)

STATUSES = {
    "t::passed": "PASSED",
    "t::xfail": "XFAIL",
    "t::skipped": "SKIPPED",
    "t::failed": "FAILED",
    "t::error": "ERROR",
}


def test_fail_to_pass_accepts_passed_and_xfail_only() -> None:
    report = status_report(
        STATUSES, ["t::passed", "t::xfail", "t::skipped", "t::failed", "t::error", "t::absent"], []
    )
    assert report["FAIL_TO_PASS"] == {
        "success": ["t::passed", "t::xfail"],
        "failure": ["t::skipped", "t::failed", "t::error", "t::absent"],
    }


def test_pass_to_pass_also_accepts_skipped() -> None:
    report = status_report(STATUSES, [], ["t::passed", "t::skipped", "t::error", "t::absent"])
    assert report["PASS_TO_PASS"] == {
        "success": ["t::passed", "t::skipped"],
        "failure": ["t::error", "t::absent"],
    }


def test_resolution_levels() -> None:
    full = status_report(STATUSES, ["t::passed"], ["t::skipped"])
    partial = status_report(STATUSES, ["t::passed", "t::failed"], ["t::passed"])
    broken_p2p = status_report(STATUSES, ["t::passed"], ["t::failed"])
    assert resolution(full) == "FULL"
    assert resolution(partial) == "PARTIAL"
    assert resolution(broken_p2p) == "NO"
    assert resolution(status_report({}, [], [])) == "FULL"  # empty lists count as met


def marked(output: str, exit_code: int | None = 0) -> str:
    run = TestRun(TestCommand(("pytest", "-rA")), exit_code, exit_code is None, output, 1.0)
    return run.log


def test_grade_log_resolves_and_rejects() -> None:
    ok = marked("collected 2 items\nPASSED a.py::f2p\nPASSED a.py::p2p\n")
    grade = grade_log(ok, "pytest", ["a.py::f2p"], ["a.py::p2p"])
    assert grade.graded and grade.resolved

    failing = marked("FAILED a.py::f2p - boom\nPASSED a.py::p2p\n", exit_code=1)
    grade = grade_log(failing, "pytest", ["a.py::f2p"], ["a.py::p2p"])
    assert grade.graded and not grade.resolved
    assert grade.tests_status is not None
    assert grade.tests_status["FAIL_TO_PASS"]["failure"] == ["a.py::f2p"]


def test_logs_that_cannot_be_graded() -> None:
    timed_out = marked("PASSED a.py::f2p\n", exit_code=None)
    assert END_MARKER not in timed_out
    assert "Timed Out" in (grade_log(timed_out, "pytest", ["a.py::f2p"], []).problem or "")
    no_end = timed_out.replace(">>>>> Tests Timed Out", "killed")
    assert "markers" in (grade_log(no_end, "pytest", ["a.py::f2p"], []).problem or "")

    crashed = marked("Traceback (most recent call last):\nImportError: x\n", exit_code=4)
    assert "no sign" in (grade_log(crashed, "pytest", [], []).problem or "")
    missing = grade_log(
        marked("ModuleNotFoundError: No module named 'x'\n", exit_code=4), "pytest", [], []
    )
    assert missing.failure == ("missing_module", "ambiguous")

    unreliable = marked("collected 1 item\nPASSED a.py::f2p\n", exit_code=139)
    grade = grade_log(unreliable, "pytest", ["a.py::f2p"], [])
    assert not grade.resolved and "unreliable" in (grade.problem or "")

    assert grade_log("no markers at all", "pytest", [], []).problem is not None


def test_report_json_schema() -> None:
    grade = grade_log(marked("PASSED a::b\n"), "pytest", ["a::b"], [])
    report = instance_report("o__r-1", patch="diff", grade=grade)
    entry = report["o__r-1"]
    assert set(entry) == {
        "patch_is_None",
        "patch_exists",
        "patch_successfully_applied",
        "resolved",
        "infra_failure",
        "tests_status",
    }
    assert set(entry["tests_status"]) == {
        "FAIL_TO_PASS",
        "PASS_TO_PASS",
        "FAIL_TO_FAIL",
        "PASS_TO_FAIL",
    }
    assert entry["resolved"] is True
    none = instance_report("o__r-2", patch=None, grade=None)["o__r-2"]
    assert none == {
        "patch_is_None": True,
        "patch_exists": False,
        "patch_successfully_applied": False,
        "resolved": False,
        "infra_failure": False,
    }
    # An ungradable log still gets a report, marked as not applied (as swebench does).
    ungraded = grade_log(marked("Killed\n", exit_code=137), "pytest", ["a::b"], [])
    entry = instance_report("o__r-3", patch="diff", grade=ungraded)["o__r-3"]
    assert entry["patch_successfully_applied"] is False and "tests_status" not in entry
    assert entry["infra_failure"] is True and entry["infra_failure_reason"] == "out_of_memory"


TEST_PATCH = """diff --git a/tests/test_a.py b/tests/test_a.py
--- a/tests/test_a.py
+++ b/tests/test_a.py
@@ -1 +1 @@
-x
+y
diff --git a/tests/data/expected.json b/tests/data/expected.json
--- a/tests/data/expected.json
+++ b/tests/data/expected.json
@@ -1 +1 @@
-{}
+[]
diff --git a/tests/queries/test_b.py b/tests/queries/test_b.py
new file mode 100644
--- /dev/null
+++ b/tests/queries/test_b.py
@@ -0,0 +1 @@
+z
"""


def test_files_before_patch_are_the_existing_ones_from_headers_only() -> None:
    # A removed line that reads "-- a/x" shows as "--- a/x" inside a hunk: not a header.
    trick = TEST_PATCH.replace("-x\n", "--- a/setup.py\n", 1)
    assert files_before_patch(trick) == ["tests/test_a.py", "tests/data/expected.json"]


def _git_reading(patch: str, *options: str) -> list[str]:
    """The files ``git apply`` says the patch changes (its new names), read from ``--numstat -z``."""
    out = subprocess.run(
        ["git", "apply", "--numstat", "-z", *options, "-"],
        input=patch.encode(),
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    names: list[str] = []
    while out and out[0]:
        path = out.pop(0).split(b"\t", 2)[2]
        if not path:  # a rename with -z: "added\tdeleted\t\0old\0new"
            path = out[1]
            del out[:2]
        names.append(path.decode())
    return names


def test_patch_paths_follow_git_renames_deletions_and_quoted_names() -> None:
    patch = (
        "diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n"
        "diff --git a/gone.py b/gone.py\ndeleted file mode 100644\n--- a/gone.py\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-x\n"
        'diff --git "a/t\\303\\251st.py" "b/t\\303\\251st.py"\n--- "a/t\\303\\251st.py"\n'
        '+++ "b/t\\303\\251st.py"\n@@ -1 +1 @@\n-a\n+b\n'
        "diff --git a/with space.py b/with space.py\n--- a/with space.py\n+++ b/with space.py\n"
        "@@ -1 +1 @@\n-a\n+b\n"
    )
    assert files_in_patch(patch) == ["new.py", "gone.py", "tést.py", "with space.py"]
    assert files_before_patch(patch) == ["old.py", "gone.py", "tést.py", "with space.py"]
    assert files_in_patch(patch) == _git_reading(patch)  # git's own reading of the names


def test_patch_paths_of_a_diff_with_wrong_hunk_counts_are_read_as_git_recounts_them() -> None:
    # Model output whose counts are off; ``git apply --recount`` (a fallback of
    # ``apply_patch``) takes it, so its files must be known to put them back.
    patch = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,9 +1,9 @@\n-x\n+y\n"
    patch += "diff --git a/b.py b/b.py\n--- a/b.py\n+++ b/b.py\n@@ -1 +1,3 @@\n-u\n+v\n"
    assert files_in_patch(patch) == ["a.py", "b.py"] == _git_reading(patch, "--recount")
    # Without a ``diff --git`` line, git's recount reads the next headers as hunk lines.
    run_on = patch.replace("diff --git a/b.py b/b.py\n", "")
    assert files_in_patch(run_on) == ["a.py"] == _git_reading(run_on, "--recount")
    assert files_in_patch("no diff here\n") == []


def test_patch_paths_of_every_dev_dataset_patch_are_what_git_and_swebench_read(
    swebench_dev: Path,
) -> None:
    get_modified_files = pytest.importorskip("swebench.utils").get_modified_files
    sets = [swebench_dev / f"{name}.jsonl" for name in ("lite_dev", "full_dev", "verified_dev")]
    rows = [json.loads(line) for path in sets for line in path.read_text().splitlines()]
    patches = list(dict.fromkeys(row[key] for row in rows for key in ("patch", "test_patch")))
    assert len(patches) > 800
    for patch in patches:
        # swebench resets the test files it reads this way before running them
        assert files_before_patch(patch) == list(dict.fromkeys(get_modified_files(patch)))
    # One git call reads them all (each patch starts a new file section); in the same order.
    ours = [new or old for patch in patches for old, new in patch_files(patch)]
    assert ours == _git_reading("".join(p if p.endswith("\n") else p + "\n" for p in patches))


def test_test_files_skip_data_and_django_labels() -> None:
    assert touched_test_files(TEST_PATCH) == ["tests/test_a.py", "tests/queries/test_b.py"]
    assert django_label("tests/queries/test_b.py") == "queries.test_b"
    django = recipe_for("django/django", "4.1")
    command = command_for_task(django, TEST_PATCH)
    assert command.argv[-2:] == ("test_a", "queries.test_b")
    assert command.argv[0] == "./tests/runtests.py"


def test_command_from_eval_script_and_assignments() -> None:
    script = "\n".join(
        [
            "git apply -v - <<'EOF'",
            "EOF",
            f": '{START_MARKER}'",
            "PYTHONWARNINGS='ignore::UserWarning' bin/test -C --verbose sympy/a/tests/test_b.py",
            f": '{END_MARKER}'",
            "git checkout abc sympy/a/tests/test_b.py",
        ]
    )
    command = command_from_eval_script(script)
    assert command is not None
    assert command.env == {"PYTHONWARNINGS": "ignore::UserWarning"}
    assert command.argv == ("bin/test", "-C", "--verbose", "sympy/a/tests/test_b.py")
    assert command_from_eval_script("no markers") is None
    # Shell syntax runs through bash as written; plain commands stay argv.
    assert parse_command("cp a b && pytest -rA x.py").argv == (
        "bash",
        "-c",
        "cp a b && pytest -rA x.py",
    )
    assert parse_command("pytest -rA 'a && b'").argv == ("pytest", "-rA", "a && b")
    assert parse_command("pytest tests/*.py > out.txt").argv[:2] == ("bash", "-c")


def test_registry_and_automatic_recipes(tmp_path: Path) -> None:
    assert recipe_for("pydicom/pydicom", "1.3").python == "3.6"
    assert recipe_for("pydicom/pydicom", "2.3").python == "3.10"
    assert recipe_for("sympy/sympy", "1.12").log_parser == "sympy"
    assert recipe_for("pvlib/pvlib-python", "0.8").constraints == ("numpy<2",)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nrequires-python = ">=3.8,<3.11"\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n'
    )
    (tmp_path / "requirements-dev.txt").write_text("hypothesis\n")
    recipe = auto_recipe(tmp_path)
    assert recipe.install == "python -m pip install -e .[test]"
    assert recipe.requirements == ("requirements-dev.txt",)
    assert recipe.python in {"3.8", "3.9", "3.10"}
    assert Recipe(python="3.9").digest() != Recipe(python="3.10").digest()


def test_interpreter_discovery_and_import_roots(tmp_path: Path) -> None:
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    exe = find_python(version)
    out = subprocess.run([str(exe), "-c", "import sys; print(sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert out.strip() == str(tuple(sys.version_info[:2]))
    try:
        find_python("1.9")
    except EnvironmentBuildError as exc:
        assert "install it" in str(exc)
    else:
        raise AssertionError("Python 1.9 should not be found")

    assert detect_import_roots(tmp_path) == ["."]
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    assert detect_import_roots(tmp_path) == ["src", "."]
    env = Environment.from_python(Path(sys.executable), Recipe(python=version))
    variables = env.test_env(tmp_path)
    assert variables["PYTHONPATH"].split(":") == [str(tmp_path / "src"), str(tmp_path)]
    assert variables["PATH"].startswith(str(Path(sys.executable).parent))
