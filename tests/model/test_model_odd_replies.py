"""Replies no well-behaved server sends: each ends as a ModelError or a usable completion,
never as a Python error from inside the client. A fixed-body HTTP server on loopback plays the
odd server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agentless.errors import ModelUnavailableError
from agentless.model import OpenAICompatibleModel

MESSAGES = [{"role": "user", "content": "fix it"}]
QUICK = {"max_attempts": 2, "backoff_base": 0.01, "backoff_max": 0.01}


@contextmanager
def fixed_server(body: bytes, headers: dict[str, str] | None = None) -> Iterator[str]:
    """A loopback server answering every POST with ``body``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _reply(**fields: object) -> bytes:
    return json.dumps({"model": "m", **fields}).encode()


def _assert_unavailable(
    body: bytes, headers: dict[str, str] | None = None, **options: object
) -> None:
    with (
        fixed_server(body, headers) as url,
        OpenAICompatibleModel("m", url, **QUICK, **options) as model,
        pytest.raises(ModelUnavailableError, match="after 2 attempt"),
    ):
        model.complete(MESSAGES)


@pytest.mark.parametrize(
    "body",
    [
        _reply(choices=[None]),
        _reply(choices=["just text"]),
        _reply(choices=[{"index": None, "message": {"content": "x"}}]),
        _reply(choices=[{"index": 0, "message": "x"}]),
        b"[1, 2]",
    ],
    ids=["null-choice", "string-choice", "null-index", "string-message", "json-list"],
)
def test_malformed_reply_is_retried_then_unavailable(body: bytes) -> None:
    _assert_unavailable(body)


def test_undecodable_body_is_retried_then_unavailable() -> None:
    # Declares gzip, sends plain bytes: httpx cannot decode it.
    body = _reply(choices=[{"index": 0, "message": {"content": "x"}}])
    _assert_unavailable(body, {"Content-Encoding": "gzip"})


def test_content_given_as_parts_is_joined() -> None:
    parts = [{"type": "text", "text": "first "}, {"type": "text", "text": "second"}]
    body = _reply(choices=[{"index": 0, "message": {"content": parts}, "finish_reason": "stop"}])
    with fixed_server(body) as url, OpenAICompatibleModel("m", url, **QUICK) as model:
        [completion] = model.complete(MESSAGES)
    assert completion.text == "first second"


def test_unreadable_usage_is_unknown_usage() -> None:
    choice = {"index": 0, "message": {"content": "x"}, "finish_reason": "stop"}
    body = _reply(choices=[choice], usage={"prompt_tokens": {}, "prompt_tokens_details": "?"})
    with fixed_server(body) as url, OpenAICompatibleModel("m", url, **QUICK) as model:
        [completion] = model.complete(MESSAGES)
    assert completion.text == "x"
    assert completion.usage.prompt_tokens == 0
    assert completion.usage.cost is None


@pytest.mark.parametrize(
    "chunks",
    [
        ["[1]"],
        ['{"choices": [null]}'],
        ['{"choices": [{"index": "a", "delta": {"content": "x"}}]}'],
    ],
    ids=["list-chunk", "null-choice", "bad-index"],
)
def test_malformed_stream_chunk_is_retried_then_unavailable(chunks: list[str]) -> None:
    body = "".join(f"data: {c}\n\n" for c in [*chunks, "[DONE]"]).encode()
    _assert_unavailable(body, {"Content-Type": "text/event-stream"}, stream=True)


def test_server_that_ignores_stream_still_answers() -> None:
    # Some proxies answer stream=true with one plain JSON reply.
    choice = {"index": 0, "message": {"content": "whole"}, "finish_reason": "stop"}
    body = _reply(choices=[choice], usage={"prompt_tokens": 3, "completion_tokens": 1})
    with fixed_server(body) as url, OpenAICompatibleModel("m", url, stream=True, **QUICK) as model:
        [completion] = model.complete(MESSAGES)
    assert completion.text == "whole"
    assert completion.usage.prompt_tokens == 3
