"""The sandbox: loopback-only network, time limits that kill whole process trees, scrubbed
environment, output and memory caps. Every network attempt here is made from inside the
sandbox's namespace."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agentless.errors import ConfigError, SandboxUnavailableError
from agentless.validate._sandbox import Sandbox, scrub_environment
from tests.isolation_modes import MODES as ISOLATED


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@pytest.mark.parametrize("use_bwrap", ISOLATED)
def test_only_loopback_is_reachable(tmp_path: Path, use_bwrap: bool) -> None:
    sandbox = Sandbox(use_bwrap=use_bwrap, timeout=30)
    code = """
        import errno, socket, threading, time
        print("interfaces", sorted(name for _, name in socket.if_nameindex()))
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        threading.Thread(target=lambda: server.accept()[0].sendall(b"hello"), daemon=True).start()
        client = socket.create_connection(server.getsockname(), timeout=5)
        print("loopback", client.recv(5).decode())
        start = time.monotonic()
        outside = socket.socket()
        outside.settimeout(10)
        code = outside.connect_ex(("192.0.2.1", 80))  # TEST-NET-1, documentation range
        print("outside", errno.errorcode.get(code, code), round(time.monotonic() - start, 2))
    """
    result = sandbox.run(python(code), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.isolation == ("bwrap" if use_bwrap else "unshare")
    lines = dict(line.split(" ", 1) for line in result.output.splitlines())
    assert lines["interfaces"] == "['lo']"
    assert lines["loopback"] == "hello"
    verdict, seconds = lines["outside"].split()
    assert verdict == "ENETUNREACH"
    assert float(seconds) < 1.0  # refused at once, not after a connect timeout


@pytest.mark.parametrize("use_bwrap", ISOLATED)
def test_tarpit_addresses_time_out_as_on_a_real_network(tmp_path: Path, use_bwrap: bool) -> None:
    code = """
        import errno, socket, time
        for address in ("10.255.255.1", "240.1.2.3", "10.255.255.53"):
            sock = socket.socket()
            sock.settimeout(0.5)
            start = time.monotonic()
            code = sock.connect_ex((address, 80))
            print(address, errno.errorcode.get(code, code), round(time.monotonic() - start, 1))
    """
    result = Sandbox(use_bwrap=use_bwrap, timeout=30).run(python(code), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()}
    assert lines["10.255.255.1"] == ["EAGAIN", "0.5"]  # a timeout, as requests' tests expect
    assert lines["240.1.2.3"] == ["EAGAIN", "0.5"]
    assert lines["10.255.255.53"][0] == "ENETUNREACH"  # anything else fails at once


@pytest.mark.parametrize("use_bwrap", [*ISOLATED, pytest.param(None, id="no-isolation")])
def test_time_limit_kills_the_command_and_its_children(
    tmp_path: Path, use_bwrap: bool | None
) -> None:
    sandbox = Sandbox(isolation=use_bwrap is not None, use_bwrap=bool(use_bwrap))
    beat = tmp_path / "heartbeat"
    child = f"import time, pathlib\nwhile True:\n    pathlib.Path({str(beat)!r}).touch(); time.sleep(0.05)"
    code = f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", {child!r}])
        subprocess.Popen([sys.executable, "-c", {child!r}], start_new_session=True)
        time.sleep(3600)
    """
    start = time.monotonic()
    result = sandbox.run(python(code), cwd=tmp_path, timeout=1.5)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - start < 10
    assert beat.exists()
    before = beat.stat().st_mtime_ns
    time.sleep(0.5)
    assert beat.stat().st_mtime_ns == before, "a child kept running after the time limit"


def test_api_keys_and_proxies_never_reach_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-parent")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    sandbox = Sandbox(timeout=30)
    passed = {"OPENAI_API_KEY": "sk-secret-explicit", "no_proxy": "x", "KEEP_ME": "yes"}
    result = sandbox.run(["env"], cwd=tmp_path, env=passed)
    assert result.exit_code == 0
    assert "sk-secret" not in result.output
    assert "proxy" not in result.output.lower()
    assert "KEEP_ME=yes" in result.output
    assert f"HOME={tmp_path}" not in result.output  # a scratch home, not the caller's
    assert "API_KEY" not in "".join(scrub_environment({"ANTHROPIC_API_KEY": "x"}))


def test_output_cap_keeps_head_and_tail(tmp_path: Path) -> None:
    sandbox = Sandbox(timeout=30, max_output_bytes=2000)
    code = "print('FIRST'); print('x' * 100_000); print('LAST')"
    result = sandbox.run(python(code), cwd=tmp_path)
    assert result.exit_code == 0 and result.truncated
    assert result.output.startswith("FIRST")
    assert result.output.rstrip().endswith("LAST")
    assert "bytes of output dropped" in result.output
    assert len(result.output) < 2200


def test_memory_cap(tmp_path: Path) -> None:
    sandbox = Sandbox(timeout=30, memory_mb=300)
    code = "b = bytearray(600 * 1024 * 1024); print('allocated')"
    result = sandbox.run(python(code), cwd=tmp_path)
    assert result.exit_code != 0
    assert "MemoryError" in result.output and "allocated" not in result.output


@pytest.mark.parametrize("use_bwrap", ISOLATED)
def test_system_is_read_only_and_worktree_writable(tmp_path: Path, use_bwrap: bool) -> None:
    worktree = tmp_path / "wt"
    worktree.mkdir()
    outside = Path(__file__).parent / "outside.txt"  # not under /tmp, which is private
    sandbox = Sandbox(timeout=30, use_bwrap=use_bwrap)
    code = f"""
        import pathlib
        pathlib.Path("inside.txt").write_text("ok")
        try:
            pathlib.Path({str(outside)!r}).write_text("escaped")
        except OSError as exc:
            print("refused", exc.errno)
    """
    result = sandbox.run(python(code), cwd=worktree)
    assert result.exit_code == 0, result.output
    assert "refused" in result.output
    assert (worktree / "inside.txt").read_text() == "ok"
    assert not outside.exists()


def test_missing_isolation_is_an_error_unless_opted_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # neither bwrap nor unshare can be found
    with pytest.raises(SandboxUnavailableError, match="--no-isolation"):
        Sandbox().run([sys.executable, "-c", "pass"], cwd=tmp_path)
    with caplog.at_level(logging.WARNING, logger="agentless.validate._sandbox"):
        result = Sandbox(isolation=False).run([sys.executable, "-c", "print(1)"], cwd=tmp_path)
    assert result.ok and result.isolation == "none"
    assert "isolation is OFF" in caplog.text


def test_a_pinned_mode_is_used_and_an_unknown_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # unshare even where bubblewrap, the stronger default, is installed.
    result = Sandbox(mode="unshare", timeout=30).run(python("print(1)"), cwd=tmp_path)
    assert result.ok and result.isolation == "unshare"
    with pytest.raises(ConfigError, match=r"unknown sandbox mode 'docker'; choose one of bwrap, "):
        Sandbox(mode="docker")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SandboxUnavailableError, match="unshare: not installed"):
        Sandbox(mode="unshare").run([sys.executable, "-c", "pass"], cwd=tmp_path)


def test_failing_and_missing_commands_are_results(tmp_path: Path) -> None:
    sandbox = Sandbox(timeout=30)
    assert sandbox.run(python("raise SystemExit(3)"), cwd=tmp_path).exit_code == 3
    missing = sandbox.run(["no-such-program-here"], cwd=tmp_path)
    assert missing.exit_code == 127 and "cannot run" in missing.output


@pytest.mark.parametrize("use_bwrap", ISOLATED)
def test_a_virtualenv_under_tmp_stays_usable(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, use_bwrap: bool
) -> None:
    # A CI clone or scratch venv under /tmp would vanish behind the sandbox's private /tmp.
    venv = tmp_path_factory.mktemp("venv-under-tmp") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "marker.txt").write_text("seen\n")
    code = "import sys, pathlib; print(sys.prefix, (pathlib.Path(sys.prefix) / 'marker.txt').read_text())"
    sandbox = Sandbox(use_bwrap=use_bwrap, timeout=60)
    result = sandbox.run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.split() == [str(venv), "seen"]
    written = sandbox.run(
        [str(venv / "bin" / "python"), "-c", f"open({str(venv / 'x')!r}, 'w')"], cwd=tmp_path
    )
    assert written.exit_code != 0  # visible, not writable
    assert not (venv / "x").exists()
