"""Rows carry their own facts: what a v5 row's eval_script says, recipes looked up by
owner/name (also for rows whose code comes from a local path), and guessed recipes that say
what they guessed. The dataset rows are read from ../shared when present."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from swebench_rows import DEV_DIR

from agentless.repo import Workspace
from agentless.tasks import Task, load_tasks
from agentless.validate import parse_eval_script
from agentless.validate._evaluate import task_setup
from agentless.validate._recipes import REGISTRY, registered_recipe, repo_name
from tests.gitrepos import make_repo

SHARED = DEV_DIR
DATASETS = [SHARED / f"{name}.jsonl" for name in ("verified_dev", "lite_dev", "full_dev")]

SCRIPT = """#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
export LANG=en_US.UTF-8
git config --global --add safe.directory /testbed
git status
git -c core.fileMode=false diff 1234567
python -m pip install -e .[test] --verbose
git checkout 1234567 pkg/tests/test_a.py pkg/tests/test_b.py
git apply -v - <<'EOF_114329324912'
diff --git a/pkg/tests/test_a.py b/pkg/tests/test_a.py
: '>>>>> Start Test Output'
python -m pip install nonsense-inside-the-heredoc
EOF_114329324912
: '>>>>> Start Test Output'
tox --current-env -epy39 -v -- pkg/tests/test_a.py
: '>>>>> End Test Output'
git checkout 1234567 pkg/tests/test_a.py pkg/tests/test_b.py
"""


def test_eval_script_facts_without_container_lines() -> None:
    facts = parse_eval_script(SCRIPT)
    assert facts is not None
    assert facts.install == ("python -m pip install -e .[test] --verbose",)
    assert facts.test_command == "tox --current-env -epy39 -v -- pkg/tests/test_a.py"
    assert facts.reset_files == ("pkg/tests/test_a.py", "pkg/tests/test_b.py")
    assert facts.exports == {"LANG": "en_US.UTF-8"}
    assert parse_eval_script("echo no markers") is None


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda p: p.stem)
def test_every_dev_row_has_facts_and_a_recipe(dataset: Path) -> None:
    if not dataset.is_file():
        pytest.skip(f"{dataset} absent (../shared/data/swebench)")
    for line in dataset.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        facts = parse_eval_script(row["eval_script"])
        assert facts is not None, row["instance_id"]
        assert facts.install and facts.test_command and facts.reset_files, row["instance_id"]
        assert not any("conda" in c or "/testbed" in c for c in facts.install)
        assert registered_recipe(row["repo"], row["version"]) is not None, row["instance_id"]


def test_every_swebench_repository_has_recipes() -> None:
    expected = {
        "django/django", "sympy/sympy", "sphinx-doc/sphinx", "matplotlib/matplotlib",
        "scikit-learn/scikit-learn", "astropy/astropy", "pydata/xarray", "pytest-dev/pytest",
        "pylint-dev/pylint", "psf/requests", "mwaskom/seaborn", "pallets/flask",
        "sqlfluff/sqlfluff", "marshmallow-code/marshmallow", "pvlib/pvlib-python",
        "pylint-dev/astroid", "pyvista/pyvista", "pydicom/pydicom",
    }  # fmt: skip
    assert expected <= set(REGISTRY)
    unfetchable = ("django/django", "scikit-learn/scikit-learn", "matplotlib/matplotlib")
    for repo in unfetchable:
        assert all(not recipe.verified for recipe in REGISTRY[repo].values())
    sphinx = registered_recipe("sphinx-doc/sphinx", "3.5")
    assert sphinx is not None and sphinx.pre_install[0].apply("    pytest {posargs}\n") == (
        "    pytest -rA {posargs}\n"
    )
    astropy = registered_recipe("astropy/astropy", "5.0")
    assert astropy is not None and astropy.build_constraints == ("setuptools==68.0.0",)


def test_recipes_are_found_by_owner_name_for_a_row_from_a_local_path(tmp_path: Path) -> None:
    repo = tmp_path / "requests-checkout"
    [base] = make_repo(repo, {"setup.py": "from setuptools import setup\nsetup()\n"})
    assert repo_name(str(repo), "psf__requests-1142") == "psf/requests"
    assert repo_name("pydata/xarray", "whatever") == "pydata/xarray"
    task = Task(
        instance_id="psf__requests-1142",
        repo=str(repo),
        base_commit=base,
        problem_statement="x",
        version="1.1",
        eval_script=SCRIPT.replace("tox --current-env -epy39 -v --", "pytest -rA"),
    )
    setup = task_setup(task, Workspace(tmp_path / "cache"))
    assert setup.spec.repo == "psf/requests"
    assert setup.spec.recipe.python == "3.9" and setup.spec.recipe.fixtures == ("httpbin",)
    # The row's own install and test command win over the registry's.
    assert setup.spec.recipe.install == "python -m pip install -e .[test] --verbose"
    assert setup.command.argv == ("pytest", "-rA", "pkg/tests/test_a.py")
    assert setup.reset_files == ("pkg/tests/test_a.py", "pkg/tests/test_b.py")


def test_an_unknown_repository_gets_a_guessed_recipe_that_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repo = tmp_path / "mystery"
    files = {"pyproject.toml": '[project]\nname = "m"\nrequires-python = ">=3.9,<3.12"\n'}
    [base] = make_repo(repo, files)
    task = Task(instance_id="m-1", repo=str(repo), base_commit=base, problem_statement="x")
    with caplog.at_level(logging.WARNING):
        setup = task_setup(task, Workspace(tmp_path / "cache"))
    recipe = setup.spec.recipe
    assert not recipe.verified and recipe.python in {"3.9", "3.10", "3.11"}
    assert f"guessed Python {recipe.python} from requires-python" in caplog.text
    assert "no recipe for" in caplog.text


@pytest.mark.skipif(not DATASETS[0].is_file(), reason="../shared/data/swebench absent")
def test_verified_rows_keep_the_registry_python_and_read_the_row_install() -> None:
    tasks = {t.instance_id: t for t in load_tasks(DATASETS[0])}
    sphinx = next(t for i, t in tasks.items() if i.startswith("sphinx-doc__"))
    setup = task_setup(sphinx, Workspace(Path("/nonexistent-cache-not-used")))
    assert setup.command.argv[:3] == ("tox", "--current-env", "-epy39")
    assert setup.parser == "parse_log_sphinx" and setup.spec.recipe.python == "3.9"
