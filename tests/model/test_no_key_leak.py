"""The API key never reaches the store, the logs, error messages or the console."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from agentless.config import load_config
from agentless.errors import ModelError
from agentless.model import OpenAICompatibleModel
from agentless.store import Store
from agentless.testing import Fault, ScriptedServer


@pytest.fixture
def key() -> str:
    return "sk-leakcheck-" + secrets.token_hex(12)


def exercise(model: OpenAICompatibleModel, srv: ScriptedServer) -> list[str]:
    """Successes, retries, refusals and exhausted retries; returns the error messages."""
    messages = [{"role": "user", "content": "hello there"}]
    model.complete(messages, n=2, stage="ok")
    model.complete(messages, stream=True, stage="ok-stream", temperature=0.5)
    srv.inject(Fault.http(429, retry_after=0.01))
    model.complete([{"role": "user", "content": "after a 429"}], stage="retried")
    errors = []
    srv.inject(Fault.http(503), times=None)
    for stage in ("exhausted", "exhausted-stream"):
        with pytest.raises(ModelError) as info:
            model.complete(
                [{"role": "user", "content": stage}], stage=stage, stream=stage.endswith("stream")
            )
        errors.append(str(info.value))
    srv.clear_faults()
    with pytest.raises(ModelError) as info:
        model.complete([{"role": "user", "content": "word " * 50}], stage="too-long")
    errors.append(str(info.value))
    return errors


def scan_files(folder: Path, secret: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_key_absent_from_store_logs_and_errors(
    tmp_path: Path, key: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    run_dir = tmp_path / "run"
    store = Store.for_run(run_dir)
    with ScriptedServer(api_key=key, context_limit=40) as srv:
        config = load_config(
            Path("/dev/null"),
            env={"OPENAI_API_KEY": key},
            overrides={"model": {"name": "m", "base_url": srv.url, "backoff_base": 0.001}},
        )
        model = OpenAICompatibleModel.from_config(config.model, store)
        errors = exercise(model, srv)
        # The key really was sent: this test would be empty otherwise.
        assert all(r.headers.get("authorization") == f"Bearer {key}" for r in srv.requests)
        # While the store is open its WAL holds the recent writes: scan those too.
        assert scan_files(run_dir, key) == []
        assert len(store.calls()) >= 5
    store.close()
    assert scan_files(run_dir, key) == []
    assert all(key not in e for e in errors)
    assert key not in repr(model)
    assert key not in caplog.text
    assert all(key not in r.getMessage() for r in caplog.records)
    out, err = capfd.readouterr()
    assert key not in out and key not in err


def test_key_echoed_by_a_server_is_redacted(tmp_path: Path, key: str) -> None:
    # The scripted server echoes a wrong key in its 401 message, as careless servers do.
    with Store.for_run(tmp_path) as store, ScriptedServer(api_key="the-real-one") as srv:
        model = OpenAICompatibleModel("m", srv.url, key, recorder=store)
        with pytest.raises(ModelError) as info:
            model.complete([{"role": "user", "content": "hi"}], stage="auth")
        assert key not in str(info.value)
        assert "[redacted]" in str(info.value)
        [call] = store.calls("auth")
        assert call.status == 401 and key not in call.error
    assert scan_files(tmp_path, key) == []


def test_cli_never_prints_the_key(tmp_path: Path, key: str) -> None:
    for server_key in (key, "another-key"):
        with ScriptedServer(api_key=server_key) as srv:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "agentless",
                    "doctor",
                    "--base-url",
                    srv.url,
                    "--model",
                    "m",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp_path,
                env={**os.environ, "OPENAI_API_KEY": key},
            )
        assert "completion" in result.stdout or "endpoint" in result.stdout
        assert key not in result.stdout and key not in result.stderr
