"""Install at the task's commit: build products (here a generated version file) are those of
the commit under test, layers are cached per (environment, commit), and a patch that changes
a build input is installed again. Real venvs, real git, real sandboxed test runs; the install
step is a small build script (no package registry)."""

from __future__ import annotations

import dataclasses
import ensurepip
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentless.repo import Workspace
from agentless.tasks import Task
from agentless.validate import (
    Edit,
    EnvironmentManager,
    Evaluator,
    Recipe,
    Sandbox,
    ValidationPlan,
    check,
    installed_task,
)
from agentless.validate._environments import _mirror_scripts
from agentless.validate._evaluate import task_setup
from tests.gitrepos import commit_files, git, make_repo

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
RECIPE = Recipe(
    python=PYTHON,
    install="python build.py develop",  # "develop": the code stays in place (editable)
    upgrade_pip=False,
    test_cmd="python -m unittest -v",
    log_parser="unittest",
)
BUILD = """import pathlib, re
version = re.search(r"VERSION = '(.*)'", pathlib.Path("setup.py").read_text()).group(1)
pathlib.Path("pkg/_generated.py").write_text(f"VERSION = {version!r}\\n")
"""
TEST = """import pathlib, re, unittest

from pkg._generated import VERSION


class TestBuilt(unittest.TestCase):
    def test_version_is_this_commits(self):
        declared = re.search(r"VERSION = '(.*)'", pathlib.Path("setup.py").read_text()).group(1)
        self.assertEqual(VERSION, declared)
"""


def test_id() -> str:
    suffix = ".test_version_is_this_commits" if sys.version_info >= (3, 11) else ""
    return f"test_version_is_this_commits (tests.test_built.TestBuilt{suffix})"


test_id.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture()
def repo(tmp_path: Path) -> dict[str, str]:
    root = tmp_path / "project"
    files = {
        "setup.py": "VERSION = '1'\n",
        "build.py": BUILD,
        ".gitignore": "pkg/_generated.py\n",
        "pkg/__init__.py": "",
        "tests/__init__.py": "",
    }
    [env_commit] = make_repo(root, files)
    base = commit_files(root, {"setup.py": "VERSION = '2'\n", "pkg/__init__.py": "# two\n"})
    (root / "tests" / "test_built.py").write_text(TEST)
    git(root, "add", "--intent-to-add", "tests/test_built.py")
    test_patch = git(root, "diff") + "\n"
    git(root, "rm", "-q", "--cached", "tests/test_built.py")
    (root / "tests" / "test_built.py").unlink()
    (root / "setup.py").write_text("VERSION = '3'\n")
    touches_build = git(root, "diff") + "\n"
    git(root, "checkout", "-q", "--", ".")
    (root / "pkg" / "__init__.py").write_text("# a fix\n")
    plain = git(root, "diff") + "\n"
    git(root, "checkout", "-q", "--", ".")
    return {
        "repo": str(root),
        "env": env_commit,
        "base": base,
        "test_patch": test_patch,
        "build_patch": touches_build,
        "plain_patch": plain,
    }


def task(repo: dict[str, str], iid: str) -> Task:
    return Task(
        instance_id=iid,
        repo=repo["repo"],
        base_commit=repo["base"],
        environment_setup_commit=repo["env"],
        problem_statement="x",
        test_patch=repo["test_patch"],
        FAIL_TO_PASS=json.dumps([test_id()]),
        version="1.0",
    )


def test_tests_see_the_build_products_of_their_own_commit(
    tmp_path: Path, repo: dict[str, str]
) -> None:
    envs = EnvironmentManager(tmp_path / "envs")
    evaluator = Evaluator(
        out_dir=tmp_path / "out",
        workspace=Workspace(tmp_path / "cache"),
        envs=envs,
        sandbox=Sandbox(timeout=120),
        recipes={repo["repo"]: RECIPE},
    )
    # The shared environment was built at the environment commit (VERSION 1); the task's
    # commit says 2, and its tests see 2.
    first = evaluator.evaluate(task(repo, "t-plain"), repo["plain_patch"])
    assert first.outcome == "resolved", first.detail
    assert not first.install_reused and first.reinstall_seconds == 0.0
    # The layer is kept for the commit: the next task there installs nothing.
    again = evaluator.evaluate(task(repo, "t-again"), repo["plain_patch"])
    assert again.resolved and again.install_reused and again.install_seconds == 0.0
    # A patch to a build input (setup.py) is installed again: its tests see 3.
    rebuilt = evaluator.evaluate(task(repo, "t-build"), repo["build_patch"])
    assert rebuilt.outcome == "resolved", rebuilt.detail
    assert rebuilt.reinstall_seconds > 0
    # ... and that layer is rebuilt fresh at its next use, not reused in its patched state.
    after = evaluator.evaluate(task(repo, "t-after"), repo["plain_patch"])
    assert after.resolved and not after.install_reused
    log = (tmp_path / "out" / "t-build" / "run_instance.log").read_text()
    assert "installed again after the patch" in log


def test_pre_install_edits_are_committed_and_survive_the_reset(
    tmp_path: Path, repo: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recipe's pre-install edit is committed in the layer's copy (through GitPython), so the
    reset after each task keeps it and the task's patch applies on top of it — also for a user
    whose git signs every commit (the commit is ours, unsigned: no key is asked for)."""
    config = tmp_path / "gitconfig"
    config.write_text("[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    marker = "import pathlib, re  # pre-install"
    edit = Edit("build.py", "import pathlib, re", marker)
    recipe = dataclasses.replace(RECIPE, pre_install=(edit,))
    evaluator = Evaluator(
        out_dir=tmp_path / "out",
        workspace=Workspace(tmp_path / "cache"),
        envs=EnvironmentManager(tmp_path / "envs"),
        sandbox=Sandbox(timeout=120),
        recipes={repo["repo"]: recipe},
    )
    result = evaluator.evaluate(task(repo, "t-pre"), repo["plain_patch"])
    assert result.outcome == "resolved", result.detail
    [layer] = [p.parent for p in (tmp_path / "envs").glob(f"**/{repo['base']}/src/.git")]
    assert marker in (layer / "build.py").read_text()
    assert git(layer, "log", "-1", "--format=%s") == "agentless: pre-install"
    assert git(layer, "status", "--porcelain", "--untracked-files=no") == ""


def test_check_installs_the_next_patch_again_after_one_that_was_installed(
    tmp_path: Path, repo: dict[str, str]
) -> None:
    # Several patches in one layer: the build-input patch is installed (its tests see 3);
    # the next one must not run against that build (the generated file is a kept build
    # product), so it is installed again from its own tree and sees 2.
    workspace = Workspace(tmp_path / "cache")
    the_task = task(repo, "t-many")
    recipes = {repo["repo"]: RECIPE}
    setup = task_setup(the_task, workspace, recipes)
    with installed_task(
        the_task, workspace, EnvironmentManager(tmp_path / "envs"), recipes
    ) as layer:
        plan = ValidationPlan(
            tree=layer.tree,
            env=layer.env,
            sandbox=Sandbox(timeout=120),
            grading=setup.grading(the_task),
            reset=layer.reset,
            restore=functools.partial(workspace.restore, layer.tree),
            layer=layer,
        )
        verdicts = check(plan, {"build": repo["build_patch"], "plain": repo["plain_patch"]})
    build, plain = verdicts["build"].graded, verdicts["plain"].graded
    assert build is not None and build.resolved and build.reinstall_seconds is not None
    assert plain is not None and plain.resolved, plain.grade
    assert plain.reinstall_seconds is not None


def write_console_script_as_pip_does(bin_dir: Path, entry: str) -> None:
    """A console script written by pip's installer code (distlib's ScriptMaker, as pip sets
    it up) for ``bin_dir``'s interpreter."""
    wheels = sorted((Path(ensurepip.__file__).parent / "_bundled").glob("pip-*.whl"))
    if not wheels:
        pytest.skip("this interpreter's ensurepip carries no pip wheel")
    code = (
        "import sys\n"
        "from pip._vendor.distlib.scripts import ScriptMaker\n"
        "maker = ScriptMaker(None, sys.argv[1])\n"
        "maker.executable, maker.variants = sys.argv[2], {''}\n"
        "maker.make(sys.argv[3])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(wheels[-1])}
    argv = [sys.executable, "-c", code, str(bin_dir), str(bin_dir / "python"), entry]
    subprocess.run(argv, env=env, check=True)


def test_console_scripts_reach_the_layer_past_the_shebang_length_limit(tmp_path: Path) -> None:
    # pip writes a /bin/sh header instead of #! when the interpreter's path is over the
    # kernel's 127 bytes, as under a deep temporary folder: pip's own script writer (from the
    # wheel ensurepip carries; installing pip into the venv took 5 s) shows its form.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    for name in ("shared", "layer"):
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(deep / name)], check=True
        )
    shared_bin, layer_bin = deep / "shared" / "bin", deep / "layer" / "bin"
    write_console_script_as_pip_does(shared_bin, "probe = agentless_probe:main")
    header = (shared_bin / "probe").read_text().split("\n")[:3]
    assert header[0] == "#!/bin/sh", "this venv's path is short enough for a #! line"
    (shared_bin / "probe").write_text("\n".join(header) + "\nimport sys\nprint(sys.executable)\n")
    _mirror_scripts(shared_bin, layer_bin)
    ran = subprocess.run([str(layer_bin / "probe")], capture_output=True, text=True, check=True)
    assert Path(ran.stdout.strip()).parent == layer_bin
