"""`agentless doctor` against the loopback server, a closed port and a wrong key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.doctor import check_isolation, discover_pythons
from agentless.testing import ScriptedServer

KEY_VARS = {"OPENAI_API_KEY": None, "OPENAI_BASE_URL": None, "AGENTLESS_MODEL": None}


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray agentless.toml


def doctor(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["doctor", *args], env={**KEY_VARS, **(env or {})})
    return result.exit_code, result.output


def lines_for(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if line.split()[1:2] == [name]]


def test_passes_against_the_test_server() -> None:
    if not all(check.ok for check in check_isolation()):
        pytest.skip("this machine cannot isolate tests")
    with ScriptedServer() as srv:
        # A real process, as a user would run it.
        result = subprocess.run(
            [sys.executable, "-m", "agentless", "doctor", "--base-url", srv.url, "--model", "m"],
            capture_output=True,
            text=True,
            timeout=120,
            env={k: v for k, v in os.environ.items() if k not in KEY_VARS},
        )
        assert [r.path for r in srv.requests] == ["/v1/models", "/v1/chat/completions"]
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("models", "completion", "git", "network", "filesystem", "processes", "python"):
        [line] = lines_for(result.stdout, name)
        assert line.startswith("OK"), line
    assert "ms" in lines_for(result.stdout, "completion")[0]
    assert "fix:" not in result.stdout


def test_closed_port_gives_fix_it_line() -> None:
    with ScriptedServer() as srv:
        url = srv.url
    code, output = doctor("--base-url", url, "--model", "m")
    assert code == 1
    [line] = lines_for(output, "endpoint")
    assert line.startswith("FAIL")
    assert url in line and "Connection refused" in line
    assert "fix: start the model server" in output
    assert "--base-url" in output and "OPENAI_BASE_URL" in output


def test_wrong_key_gives_fix_it_line_without_the_key() -> None:
    with ScriptedServer(api_key="the-right-key") as srv:
        code, output = doctor(
            "--base-url", srv.url, "--model", "m", env={"OPENAI_API_KEY": "wrong-key-5551"}
        )
        assert srv.requests[0].headers["authorization"] == "Bearer wrong-key-5551"
    assert code == 1
    assert "HTTP 401" in output
    assert "fix: put a valid key in $OPENAI_API_KEY" in output
    assert "wrong-key-5551" not in output
    assert "the-right-key" not in output


def test_named_key_variable_is_used_and_named() -> None:
    with ScriptedServer(api_key="k-777") as srv:
        options = ("--base-url", srv.url, "--model", "m", "--api-key-env", "MY_KEY")
        code, output = doctor(*options, env={"MY_KEY": "k-777"})
        assert lines_for(output, "completion")[0].startswith("OK"), output
        code, output = doctor(*options, env={"MY_KEY": "nope"})
    assert code == 1
    assert "$MY_KEY" in output


def test_unlisted_model_names_the_available_ones() -> None:
    with ScriptedServer(models=["qwen-coder", "llama"], strict_models=True) as srv:
        code, output = doctor("--base-url", srv.url, "--model", "m")
    assert code == 1
    assert lines_for(output, "models")[0].startswith("WARN")
    assert "use one of: qwen-coder, llama" in output
    assert lines_for(output, "completion")[0].startswith("FAIL")  # this server refuses "m"


def test_an_unlisted_name_the_server_answers_is_a_warning_with_the_alias_fix() -> None:
    # llama.cpp's server lists its model file's path and answers any name.
    with ScriptedServer(models=["/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"]) as srv:
        _code, output = doctor("--base-url", srv.url, "--model", "qwen")
    [models, fix] = lines_for(output, "models") + [
        line for line in output.splitlines() if "--model_alias" in line
    ]
    assert models.startswith("WARN")
    assert "--model_alias qwen" in fix
    assert lines_for(output, "completion")[0].startswith("OK")
    assert "FAIL  models" not in output


def test_missing_model_name() -> None:
    code, output = doctor("--base-url", "http://127.0.0.1:9/v1")
    assert code == 1
    assert "AGENTLESS_MODEL" in output


def test_discovered_pythons_really_run() -> None:
    interpreters = discover_pythons()
    assert interpreters, "expected at least the interpreter running these tests"
    assert any(i.major_minor == sys.version_info[:2] for i in interpreters)
    for interp in interpreters:
        out = subprocess.run(
            [str(interp.path), "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        assert out.strip() == interp.version


def test_help_and_version() -> None:
    runner = CliRunner()
    assert "exit code is 0 only" in runner.invoke(main, ["doctor", "--help"]).output
    version = runner.invoke(main, ["--version"])
    assert version.exit_code == 0 and "agentless" in version.output


def test_password_in_the_base_url_is_not_printed() -> None:
    with ScriptedServer(models=["m", "other"]) as srv:
        url = srv.url.replace("http://", "http://user:s3cr3t-pw@")
        for model in ("m", "absent"):
            _code, output = doctor("--base-url", url, "--model", model)
            assert "listed at http://127.0.0.1" in output
            assert "s3cr3t-pw" not in output


def test_isolation_fails_without_bubblewrap_or_unshare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # neither bwrap nor unshare
    [check] = check_isolation()
    assert not check.ok and check.name == "isolation"
    assert "bubblewrap" in check.fix
