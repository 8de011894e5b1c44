"""The scripted server speaks the protocol on its own (checked with raw httpx, no client)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from agentless.testing import Fault, RecordedRequest, Reply, ScriptedServer


def chat(srv: ScriptedServer, **body: object) -> httpx.Response:
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body}
    return httpx.post(f"{srv.url}/chat/completions", json=payload, timeout=10)


def test_binds_loopback_and_releases_the_port() -> None:
    with ScriptedServer() as srv:
        assert srv.url.startswith("http://127.0.0.1:") and srv.url.endswith("/v1")
        port = srv.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)


def test_plain_reply_shape_and_usage() -> None:
    with ScriptedServer(default=Reply("x y", reasoning="r")) as srv:
        data = chat(srv, n=2).json()
    assert data["object"] == "chat.completion"
    assert [c["index"] for c in data["choices"]] == [0, 1]
    assert data["choices"][0]["message"] == {
        "role": "assistant",
        "content": "x y",
        "reasoning_content": "r",
    }
    assert data["usage"]["prompt_tokens"] == 1
    assert data["usage"]["completion_tokens"] == 2 * (2 + 1)
    assert data["usage"]["completion_tokens_details"]["reasoning_tokens"] == 2


def test_stream_events_end_with_usage_and_done() -> None:
    with ScriptedServer(default="alpha beta gamma") as srv:
        response = chat(srv, stream=True, stream_options={"include_usage": True})
        bare = chat(srv, stream=True)
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "alpha beta gamma"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3
    assert '"usage"' not in bare.text


def test_requests_are_recorded_with_headers_and_body() -> None:
    with ScriptedServer() as srv:
        httpx.get(f"{srv.url}/models", headers={"X-Probe": "1"})
        chat(srv, temperature=0.3)
        [listing, completion] = srv.requests
    assert isinstance(completion, RecordedRequest)
    assert listing.method == "GET" and listing.headers["x-probe"] == "1"
    assert completion.body["temperature"] == 0.3
    assert completion.prompt == "hi"
    assert srv.chat_requests == [completion]


def test_auth_applies_to_models_and_chat() -> None:
    with ScriptedServer(api_key="k") as srv:
        assert httpx.get(f"{srv.url}/models").status_code == 401
        good = httpx.get(f"{srv.url}/models", headers={"Authorization": "Bearer k"})
        assert good.json()["data"][0]["id"] == "m"
        assert chat(srv).status_code == 401


def test_callable_reply_sees_the_request() -> None:
    with ScriptedServer(default=lambda req: f"you said {req.messages[-1]['content']}") as srv:
        assert chat(srv).json()["choices"][0]["message"]["content"] == "you said hi"


def test_faults_in_order_and_permanent() -> None:
    with ScriptedServer() as srv:
        srv.inject(Fault.http(429, retry_after=1.5)).inject(Fault.http(502), times=2)
        first = chat(srv)
        assert first.status_code == 429 and first.headers["retry-after"] == "1.5"
        assert [chat(srv).status_code for _ in range(3)] == [502, 502, 200]
        srv.inject(Fault.http(500), times=None)
        assert [chat(srv).status_code for _ in range(3)] == [500, 500, 500]
        srv.clear_faults()
        assert chat(srv).status_code == 200


def test_malformed_and_truncated_bodies() -> None:
    with ScriptedServer() as srv:
        srv.inject(Fault.malformed())
        bad = chat(srv)
        assert bad.status_code == 200
        with pytest.raises(ValueError):
            bad.json()
        srv.inject(Fault.truncated())
        with pytest.raises(httpx.RemoteProtocolError):
            chat(srv)
        srv.inject(Fault.truncated())
        cut = chat(srv, stream=True)
        assert "[DONE]" not in cut.text and "data:" in cut.text


def test_dropped_connection() -> None:
    with ScriptedServer() as srv:
        srv.inject(Fault.drop())
        with pytest.raises(httpx.RemoteProtocolError):
            chat(srv)
        assert chat(srv).status_code == 200


def test_stall_is_cut_short_when_the_server_stops() -> None:
    with ScriptedServer() as srv:
        srv.inject(Fault.stall(30))
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{srv.url}/chat/completions",
                json={"model": "m", "messages": []},
                timeout=0.3,
            )
        began = time.monotonic()
    assert time.monotonic() - began < 5


def test_n_modes_and_max_choices() -> None:
    with ScriptedServer(n_mode="reject") as srv:
        assert chat(srv, n=3).status_code == 400
        assert chat(srv, n=1).status_code == 200
    with ScriptedServer(n_mode="ignore") as srv:
        assert len(chat(srv, n=3).json()["choices"]) == 1
    with ScriptedServer(max_choices=2) as srv:
        assert len(chat(srv, n=3).json()["choices"]) == 2


def test_prefix_cache_counts_shared_prompt_prefix() -> None:
    with ScriptedServer() as srv:
        base = "shared instructions and repository context"
        first = chat(srv, messages=[{"role": "user", "content": base + " question one"}])
        second = chat(srv, messages=[{"role": "user", "content": base + " question two"}])
    assert first.json()["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert second.json()["usage"]["prompt_tokens_details"]["cached_tokens"] == 6


def test_unknown_route_is_404() -> None:
    with ScriptedServer() as srv:
        assert httpx.post(f"{srv.url}/embeddings", json={}).status_code == 404
