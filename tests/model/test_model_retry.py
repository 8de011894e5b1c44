"""Retries against real faults from the loopback server: what is retried, how often, how long."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from agentless.errors import ContextLengthError, ModelRequestError, ModelUnavailableError
from agentless.model import OpenAICompatibleModel, RetryPolicy
from agentless.model._retry import parse_retry_after
from agentless.testing import Fault, ScriptedServer

MESSAGES = [{"role": "user", "content": "fix the bug please"}]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(default="patched it") as srv:
        yield srv


def fast_model(url: str, **options: object) -> OpenAICompatibleModel:
    defaults: dict[str, object] = {"backoff_base": 0.001, "backoff_max": 0.01, "timeout": 5.0}
    defaults.update(options)
    return OpenAICompatibleModel("m", url, **defaults)


@pytest.mark.parametrize("stream", [False, True])
def test_429_with_retry_after_is_honoured(server: ScriptedServer, stream: bool) -> None:
    server.inject(Fault.http(429, retry_after=0.3))
    model = fast_model(server.url)
    began = time.monotonic()
    [completion] = model.complete(MESSAGES, stream=stream)
    waited = time.monotonic() - began
    assert completion.text == "patched it"
    assert len(server.chat_requests) == 2
    assert completion.usage.retries == 1
    # The computed backoff is at most 10 ms; only Retry-After explains the wait.
    assert waited >= 0.3


@pytest.mark.parametrize("stream", [False, True])
def test_two_500s_then_success(server: ScriptedServer, stream: bool) -> None:
    server.inject(Fault.http(500), times=2)
    [completion] = fast_model(server.url).complete(MESSAGES, stream=stream)
    assert completion.text == "patched it"
    assert len(server.chat_requests) == 3
    assert completion.usage.retries == 2


@pytest.mark.parametrize(
    "fault", [Fault.drop(), Fault.malformed(), Fault.truncated(), Fault.http(408)]
)
@pytest.mark.parametrize("stream", [False, True])
def test_one_bad_answer_then_success(server: ScriptedServer, fault: Fault, stream: bool) -> None:
    server.inject(fault)
    [completion] = fast_model(server.url).complete(MESSAGES, stream=stream)
    assert completion.text == "patched it"
    assert len(server.chat_requests) == 2
    assert completion.usage.retries == 1


def test_stalled_response_times_out_and_is_retried(server: ScriptedServer) -> None:
    server.inject(Fault.stall(3.0))
    [completion] = fast_model(server.url, timeout=0.3).complete(MESSAGES)
    assert completion.text == "patched it"
    assert completion.usage.retries == 1


def test_always_503_raises_typed_error_after_budget(server: ScriptedServer) -> None:
    server.inject(Fault.http(503, message="overloaded"), times=None)
    model = fast_model(server.url, max_attempts=4)
    with pytest.raises(ModelUnavailableError) as info:
        model.complete(MESSAGES)
    assert len(server.chat_requests) == 4
    message = str(info.value)
    assert server.url in message
    assert "HTTP 503" in message
    assert "overloaded" in message
    assert info.value.status == 503


def test_time_budget_stops_retrying_before_attempts_run_out(server: ScriptedServer) -> None:
    # Each 429 asks for 0.2 s; a 0.5 s budget allows two waits, so three attempts.
    server.inject(Fault.http(429, retry_after=0.2), times=None)
    model = fast_model(server.url, max_attempts=50, retry_budget=0.5)
    with pytest.raises(ModelUnavailableError, match="HTTP 429"):
        model.complete(MESSAGES)
    assert len(server.chat_requests) == 3


def test_connection_refused_is_unavailable_without_status() -> None:
    with ScriptedServer() as srv:
        url = srv.url
    model = fast_model(url, max_attempts=2)
    with pytest.raises(ModelUnavailableError, match="no HTTP status") as info:
        model.complete(MESSAGES)
    assert info.value.status is None
    assert url in str(info.value)


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_are_not_retried(server: ScriptedServer, status: int) -> None:
    server.inject(Fault.http(status, message=f"server says no ({status})"), times=None)
    with pytest.raises(ModelRequestError, match=rf"server says no \({status}\)") as info:
        fast_model(server.url).complete(MESSAGES)
    assert info.value.status == status
    assert not isinstance(info.value, ContextLengthError)
    assert len(server.chat_requests) == 1


def test_wrong_key_is_401_with_hint() -> None:
    with ScriptedServer(api_key="right-key") as srv:
        model = fast_model(srv.url)
        with pytest.raises(ModelRequestError, match="OPENAI_API_KEY") as info:
            model.complete(MESSAGES)
        assert info.value.status == 401
        assert len(srv.chat_requests) == 1
        good = OpenAICompatibleModel("m", srv.url, "right-key")
        assert good.complete(MESSAGES)[0].text == "OK"
        assert srv.chat_requests[-1].headers["authorization"] == "Bearer right-key"


def test_context_too_long_is_its_own_error() -> None:
    with ScriptedServer(context_limit=10) as srv:
        model = fast_model(srv.url)
        with pytest.raises(ContextLengthError, match="maximum context length") as info:
            model.complete([{"role": "user", "content": "word " * 20}])
        assert info.value.status == 400
        assert len(srv.chat_requests) == 1
        # A prompt that fits goes through.
        assert model.complete([{"role": "user", "content": "short"}], max_tokens=5)


def test_unknown_model_is_404() -> None:
    with ScriptedServer(models=["real"], strict_models=True) as srv:
        with pytest.raises(ModelRequestError, match="does not exist") as info:
            fast_model(srv.url).complete(MESSAGES)
        assert info.value.status == 404


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, budget=1000, base=1.0, max_delay=8.0)
    delays = [policy.backoff(a) for a in range(1, 7)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(d <= 8.0 for d in delays)
    assert policy.next_delay(10, 0.0) is None
    assert policy.next_delay(1, 999.5, retry_after=1.0) is None
    assert policy.next_delay(1, 0.0, retry_after=3.0) == 3.0


def test_retry_after_accepts_seconds_and_dates() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0)
    assert later == pytest.approx(10.0)
