"""Room for the reply in the context window, and usage when a stream carries none."""

from __future__ import annotations

import logging

import pytest

from agentless import OpenAICompatibleModel
from agentless.errors import ContextLengthError
from agentless.testing import ScriptedServer

PROMPT = [{"role": "user", "content": "word " * 100}]


def test_max_tokens_is_cut_to_the_room_the_prompt_leaves() -> None:
    with ScriptedServer(default="ok") as srv:
        model = OpenAICompatibleModel("m", srv.url, context_window=400, min_reply_tokens=16)
        model.complete(PROMPT, max_tokens=1000)
        model.complete(PROMPT)  # unset: set to the room, so the server cannot run to the end
        limits = [r.body["max_tokens"] for r in srv.chat_requests]
    assert limits[0] == limits[1] and 200 < limits[0] < 400


def test_a_prompt_leaving_too_little_room_is_not_sent() -> None:
    with ScriptedServer(default="ok") as srv:
        model = OpenAICompatibleModel("m", srv.url, context_window=110, min_reply_tokens=64)
        with pytest.raises(ContextLengthError, match="not sent"):
            model.complete(PROMPT)
        assert srv.chat_requests == []


def test_the_servers_own_count_gives_a_limit_that_fits() -> None:
    # The estimate allows 500, the server's count says 150 fit: one retry with 150.
    with ScriptedServer(default="ok", context_limit=250) as srv:
        model = OpenAICompatibleModel("m", srv.url, min_reply_tokens=32, backoff_base=0.01)
        [reply] = model.complete(PROMPT, max_tokens=500)
        limits = [r.body.get("max_tokens") for r in srv.requests if r.path.endswith("/completions")]
    assert reply.text == "ok"
    assert limits[-1] == 150


def test_a_stream_without_usage_that_nobody_can_count_is_unknown_never_zero(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with ScriptedServer(default="some reply words", stream_usage=False) as srv:
        model = OpenAICompatibleModel(
            "m", srv.url, stream=True, prices={"m": {"prompt": 1.0, "completion": 1.0}}
        )
        with caplog.at_level(logging.WARNING, logger="agentless.model"):
            [reply] = model.complete(PROMPT)
        paths = [r.path for r in srv.requests]
    assert reply.text == "some reply words"
    # The prompt's count came from a one-token request; the scripted server has no tokenize
    # endpoint, so the reply's count is unknown, and with it the call's usage and cost.
    assert paths[:2] == ["/v1/chat/completions", "/v1/chat/completions"]
    assert srv.chat_requests[1].body["max_tokens"] == 1
    assert reply.usage.unknown == 1
    assert reply.usage.cost is None
    assert "usage of this call is unknown" in caplog.text
