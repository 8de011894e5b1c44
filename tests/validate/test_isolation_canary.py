"""Canaries for isolation, in both sandbox modes: untrusted code leaves nothing behind, and
nothing it started outlives agentless, not even after ``kill -9``.

"agentless" here is a real Python process running our own Sandbox / EnvironmentManager /
Workspace code; the test kills it with SIGKILL and then looks at the machine's processes
and folders.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from agentless.repo import Workspace
from agentless.validate import Environment, Recipe, Sandbox, sweep_scratch
from agentless.validate._validators import run_script
from tests.gitrepos import make_repo
from tests.isolation_modes import MODES

REPO_ROOT = Path(__file__).resolve().parents[2]


def _targets(tmp_path: Path, token: str) -> dict[str, Path]:
    return {
        "home": Path.home() / f".{token}",
        "tmp": Path("/tmp") / token,
        "parent": tmp_path / token,
        "etc": Path("/etc") / token,
    }


def _writer(targets: dict[str, Path]) -> str:
    paths = {name: str(path) for name, path in targets.items()}
    return textwrap.dedent(
        f"""
        import os, pathlib
        targets = {paths!r}
        targets["own-home"] = os.path.join(os.environ["HOME"], "canary")
        for name, path in sorted(targets.items()):
            try:
                pathlib.Path(path).write_text("escaped")
                print(name, "written")
            except OSError as exc:
                print(name, "refused", exc.errno)
        pathlib.Path("inside.txt").write_text("ok")
        """
    )


def _assert_nothing_left(targets: dict[str, Path], worktree: Path) -> None:
    left = [str(path) for path in targets.values() if path.exists()]
    for path in left:
        Path(path).unlink()
    assert not left, f"the sandboxed code left files behind: {left}"
    assert (worktree / "inside.txt").read_text() == "ok"


@pytest.mark.parametrize("use_bwrap", MODES)
def test_a_test_run_leaves_nothing_outside_the_worktree(tmp_path: Path, use_bwrap: bool) -> None:
    worktree = tmp_path / "repo"
    worktree.mkdir()
    targets = _targets(tmp_path, f"agentless-canary-{uuid.uuid4().hex}")
    (worktree / "test_canary.py").write_text(_writer(targets))
    sandbox = Sandbox(use_bwrap=use_bwrap, timeout=60)
    result = sandbox.run([sys.executable, "test_canary.py"], cwd=worktree)
    assert result.exit_code == 0, result.output
    assert result.isolation == ("bwrap" if use_bwrap else "unshare")
    assert "etc refused" in result.output and "home refused" in result.output
    _assert_nothing_left(targets, worktree)


@pytest.mark.parametrize("use_bwrap", MODES)
def test_a_reproduction_script_leaves_nothing_outside_the_worktree(
    tmp_path: Path, use_bwrap: bool
) -> None:
    worktree = tmp_path / "repo"
    worktree.mkdir()
    targets = _targets(tmp_path, f"agentless-canary-{uuid.uuid4().hex}")
    env = Environment.from_python(Path(sys.executable), Recipe(python=""))
    script = _writer(targets) + "\nprint('Issue reproduced')\n"
    run = run_script(worktree, env, script, sandbox=Sandbox(use_bwrap=use_bwrap, timeout=60))
    assert run.verdict == "reproduced", run.output
    _assert_nothing_left(targets, worktree)


# --- kill -9 ----------------------------------------------------------------------------------


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token.encode() in entry.read_bytes():
                found.append(int(entry.parent.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def _wait_for(predicate, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _start_agentless(code: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    script = tmp_path / "agentless_stand_in.py"
    script.write_text(textwrap.dedent(code))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, str(script)], env=env, cwd=tmp_path)


def _kill_and_check(agent: subprocess.Popen[bytes], token: str, ready: Path) -> None:
    try:
        assert _wait_for(ready.exists, 60), "the sandboxed work never started"
        assert _processes_with(token), "the marked processes should be running"
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=10)
        assert _wait_for(lambda: not _processes_with(token), 10), (
            f"processes outlived agentless: {_processes_with(token)}"
        )
    finally:
        if agent.poll() is None:
            agent.kill()
        for pid in _processes_with(token):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("use_bwrap", MODES)
def test_kill_9_during_a_test_leaves_no_process(tmp_path: Path, use_bwrap: bool) -> None:
    token = f"canary{uuid.uuid4().hex}"
    worktree = tmp_path / "repo"
    worktree.mkdir()
    ready = worktree / "started"
    # A test that starts a child in its own session (as daemons do) and waits forever.
    child = f"import time; time.sleep(600)  # {token}"
    test = (
        f"import subprocess, sys, time, pathlib\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}], start_new_session=True)\n"
        f"pathlib.Path('started').touch()\n"
        f"time.sleep(600)  # {token}\n"
    )
    (worktree / "test_forever.py").write_text(test)
    agent = _start_agentless(
        f"""
        from pathlib import Path
        from agentless.validate._sandbox import Sandbox
        Sandbox(use_bwrap={use_bwrap}, timeout=600).run(
            ["{sys.executable}", "test_forever.py"], cwd=Path({str(worktree)!r}))
        """,
        tmp_path,
    )
    _kill_and_check(agent, token, ready)


def test_kill_9_during_an_environment_build_leaves_no_process(tmp_path: Path) -> None:
    token = f"canary{uuid.uuid4().hex}"
    repo = tmp_path / "project"
    [base] = make_repo(repo, {"setup.py": "print('not used')\n"})
    ready = tmp_path / "build-started"
    grandchild = f"import time; time.sleep(600)  # {token}"
    install = (
        f"import subprocess, sys, time, pathlib; "
        f"subprocess.Popen([sys.executable, '-c', {grandchild!r}], start_new_session=True); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(600)"
    )
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    agent = _start_agentless(
        f"""
        import shlex
        from pathlib import Path
        from agentless.validate._environments import EnvironmentManager, EnvSpec
        from agentless.validate._recipes import Recipe
        recipe = Recipe(python={version!r}, upgrade_pip=False,
                        install=shlex.join(["python", "-c", {install!r}]))
        EnvironmentManager(Path({str(tmp_path / "envs")!r})).get(
            EnvSpec("o/r", "k", recipe), Path({str(repo)!r}), {base!r})
        """,
        tmp_path,
    )
    _kill_and_check(agent, token, ready)


def test_the_next_start_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    make_repo(repo, {"a.py": "x = 1\n"})
    cache = tmp_path / "cache"
    ready = tmp_path / "checked-out"
    agent = _start_agentless(
        f"""
        import pathlib, time
        from agentless.repo._workspace import Workspace
        from agentless.validate._sandbox import Sandbox
        ws = Workspace(pathlib.Path({str(cache)!r}))
        with ws.checkout({str(repo)!r}) as tree:
            sandbox = Sandbox(isolation=False, timeout=600)
            pathlib.Path({str(ready)!r}).write_text(str(tree))
            sandbox.run(["sleep", "600"], cwd=tree)
        """,
        tmp_path,
    )
    try:
        assert _wait_for(ready.exists, 60)
        tree = Path(ready.read_text())
        time.sleep(0.5)  # the unisolated run's scratch folder is made
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=10)
    finally:
        if agent.poll() is None:
            agent.kill()
    assert tree.is_dir(), "the killed run could not clean up"
    leftovers = [p for p in Path("/tmp").glob(f"agentless-sbx-{agent.pid}-*")]
    assert leftovers, "the unisolated run's scratch folder should be left behind"
    swept = Workspace(cache).sweep_abandoned()
    assert tree in swept and not tree.exists()
    assert set(leftovers) <= set(sweep_scratch())
    listing = subprocess.run(
        ["git", "worktree", "list"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(tree) not in listing


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_stop_tests_and_remove_worktrees(tmp_path: Path, signum: int) -> None:
    token = f"canary{uuid.uuid4().hex}"
    repo = tmp_path / "project"
    make_repo(repo, {"a.py": "x = 1\n"})
    ready = tmp_path / "checked-out"
    agent = _start_agentless(
        f"""
        import faulthandler, pathlib, signal, sys
        from agentless.repo._workspace import Workspace
        from agentless.validate import _procs as procs
        from agentless.validate._sandbox import Sandbox
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test's "where are you?"
        ws = Workspace(pathlib.Path({str(tmp_path / "cache")!r}))
        try:
            with procs.stop_on_signals(), ws.checkout({str(repo)!r}) as tree:
                pathlib.Path({str(ready)!r}).write_text(str(tree))
                Sandbox(timeout=600).run(
                    [sys.executable, "-c", "import time; time.sleep(600)  # {token}"], cwd=tree)
        except procs.Stopped:
            sys.exit(130)
        """,
        tmp_path,
    )
    try:
        assert _wait_for(lambda: ready.exists() and bool(_processes_with(token)), 60)
        tree = Path(ready.read_text())
        agent.send_signal(signum)
        try:
            code = agent.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # Seen once in a fresh clone's first `make test`, not reproduced since: the stacks
            # of every thread of the stuck process go to its stderr, in the report.
            agent.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
            raise AssertionError("agentless did not stop within 20 s of the signal") from None
        assert code == 130
        assert not _processes_with(token), "the test kept running after the signal"
        assert not tree.exists(), "the worktree was left behind"
    finally:
        if agent.poll() is None:
            agent.kill()
        for pid in _processes_with(token):
            os.kill(pid, signal.SIGKILL)
