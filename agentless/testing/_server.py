"""A scripted OpenAI-compatible chat server on loopback, for tests and benchmarks.

The model is the boundary of this project, so tests drive the real client against this real
HTTP server instead of mocking anything::

    with ScriptedServer(default="fine") as srv:
        srv.on("bug in foo", "```python\\nfix\\n```")      # substring of the messages
        srv.on(lambda msgs: len(msgs) > 2, "long chat")    # or any predicate
        srv.inject(Fault.http(429, retry_after=0.2))       # next request gets a 429
        model = OpenAICompatibleModel("m", srv.url)
        ...
        assert len(srv.chat_requests) == 2

Replies are chosen by the first matching rule (in the order added), else the default. A rule
with several replies hands them out in turn, one per generated sample. Faults are consumed in
order by chat requests; ``times=None`` makes one permanent. The server binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

__all__ = ["Fault", "RecordedRequest", "Reply", "ScriptedServer"]


@dataclass(frozen=True)
class Reply:
    """A scripted answer; ``reasoning`` is sent as ``reasoning_content``."""

    text: str
    reasoning: str = ""
    finish_reason: str = "stop"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of a completion request (empty otherwise)."""
        if isinstance(self.body, dict):
            return list(self.body.get("messages") or [])
        return []

    @property
    def n(self) -> int:
        """The ``n`` the client asked for (1 when absent)."""
        return int(self.body.get("n", 1)) if isinstance(self.body, dict) else 1

    @property
    def prompt(self) -> str:
        """All message contents joined, as the matching rules see them."""
        return _prompt_text(self.messages)


ReplySource = str | Reply | Callable[[RecordedRequest], "str | Reply"]
Matcher = str | Callable[[list[dict[str, Any]]], bool]
FaultKind = Literal["http", "drop", "malformed", "stall", "truncate"]


@dataclass(frozen=True)
class Fault:
    """A failure the server produces instead of (or before) a normal answer."""

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    message: str = ""

    @classmethod
    def http(cls, status: int, *, retry_after: float | None = None, message: str = "") -> Fault:
        """Answer with this HTTP status (and ``Retry-After`` when given)."""
        return cls("http", status=status, retry_after=retry_after, message=message)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without sending a response."""
        return cls("drop")

    @classmethod
    def malformed(cls) -> Fault:
        """Answer 200 with a body that is not valid JSON."""
        return cls("malformed")

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before answering normally (to trigger client timeouts)."""
        return cls("stall", seconds=seconds)

    @classmethod
    def truncated(cls) -> Fault:
        """Start a normal answer and close the connection half way."""
        return cls("truncate")


@dataclass
class _Rule:
    match: Matcher
    replies: list[ReplySource]
    used: int = 0

    def matches(self, messages: list[dict[str, Any]]) -> bool:
        if isinstance(self.match, str):
            return self.match in _prompt_text(messages)
        return bool(self.match(messages))


@dataclass
class _FaultSlot:
    fault: Fault
    remaining: int | None  # None = forever


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(_content_text(m.get("content")) for m in messages)


def _tokens(text: str) -> list[str]:
    # One token per whitespace-separated word: crude, deterministic, and easy to assert on.
    return text.split()


def _clip(text: str, limit: int | None) -> tuple[str, bool]:
    """``text`` cut after ``limit`` tokens, and whether it was cut."""
    if limit is None:
        return text, False
    words = list(re.finditer(r"\S+", text))
    if len(words) <= limit:
        return text, False
    return (text[: words[limit - 1].end()] if limit > 0 else ""), True


def _common_prefix(a: list[str], b: list[str]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


@dataclass
class _State:
    default: ReplySource
    api_key: str | None
    n_mode: str
    max_choices: int | None
    models: tuple[str, ...]
    strict_models: bool
    context_limit: int | None
    latency: float
    stream_usage: bool
    rules: list[_Rule] = field(default_factory=list)
    faults: list[_FaultSlot] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    answered: list[tuple[float, RecordedRequest]] = field(default_factory=list)
    prompts_seen: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class ScriptedServer:
    """A real HTTP server on ``127.0.0.1`` that speaks the chat-completions protocol.

    Options: ``api_key`` (requests must send ``Bearer <key>``, else 401), ``n_mode``
    (``"honour"``, ``"reject"`` -> 400 for n > 1, ``"ignore"`` -> one choice), ``max_choices``
    (return at most this many), ``models`` (listed by ``/v1/models``; with ``strict_models``
    other names get 404), ``context_limit`` (prompt + max_tokens above it -> 400 "maximum
    context length"), ``latency`` (seconds added to every chat answer), ``stream_usage``
    (False: streams never carry a usage chunk, as llama-cpp-python's server).
    Token counts in ``usage`` are whitespace-separated words; ``cached_tokens`` is the longest
    token prefix shared with an earlier prompt (a prefix cache, as vLLM's).
    """

    def __init__(
        self,
        default: ReplySource = "OK",
        *,
        api_key: str | None = None,
        n_mode: Literal["honour", "reject", "ignore"] = "honour",
        max_choices: int | None = None,
        models: Sequence[str] = ("m",),
        strict_models: bool = False,
        context_limit: int | None = None,
        latency: float = 0.0,
        stream_usage: bool = True,
    ) -> None:
        self._state = _State(
            default=default,
            api_key=api_key,
            n_mode=n_mode,
            max_choices=max_choices,
            models=tuple(models),
            strict_models=strict_models,
            context_limit=context_limit,
            latency=latency,
            stream_usage=stream_usage,
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> ScriptedServer:
        """Bind a free loopback port and serve in a background thread."""
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self._state)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; stalled handlers are woken up."""
        self._state.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        if self._httpd is None:
            raise RuntimeError("ScriptedServer is not running; use it as a context manager")
        return int(self._httpd.server_address[1])

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL clients use: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.root}/v1"

    # --- scripting ------------------------------------------------------------------------

    def on(self, match: Matcher, *replies: ReplySource) -> ScriptedServer:
        """Answer requests whose messages contain ``match`` (or satisfy it) with ``replies``."""
        if not replies:
            raise ValueError("on() needs at least one reply")
        with self._state.lock:
            self._state.rules.append(_Rule(match, list(replies)))
        return self

    def set_default(self, reply: ReplySource) -> None:
        """The reply for requests no rule matches."""
        self._state.default = reply

    def inject(self, fault: Fault, times: int | None = 1) -> ScriptedServer:
        """Apply ``fault`` to the next ``times`` chat requests (``None``: to all of them)."""
        with self._state.lock:
            self._state.faults.append(_FaultSlot(fault, times))
        return self

    def clear_faults(self) -> None:
        """Forget pending faults, including permanent ones."""
        with self._state.lock:
            self._state.faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the chat-completion requests."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def answered(self) -> list[tuple[float, RecordedRequest]]:
        """Chat requests whose whole reply was sent, with the time (``time.time()``) it was."""
        with self._state.lock:
            return list(self._state.answered)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, state: _State) -> None:
        self.state = state
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    # --- routing --------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._guard(self._route_get)

    def do_POST(self) -> None:
        self._guard(self._route_post)

    def _guard(self, route: Callable[[], None]) -> None:
        try:
            route()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            # The client gave up (e.g. its timeout fired during a stall): nothing to answer.
            self.close_connection = True

    def _route_get(self) -> None:
        self._record(None)
        if not self._routed("/models"):
            return
        models = [{"id": m, "object": "model", "owned_by": "scripted"} for m in self.state.models]
        self._json(200, {"object": "list", "data": models})

    def _route_post(self) -> None:
        body = self._read_body()
        self._record(body)
        if not self._routed("/chat/completions"):
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._error(400, "request body must be a JSON object with 'messages'", "invalid_body")
            return
        fault = self._take_fault()
        if fault is not None and fault.kind == "stall":
            self.state.stopping.wait(fault.seconds)
            fault = None
        if fault is not None and self._apply_fault(fault, body):
            return
        if self.state.latency:
            self.state.stopping.wait(self.state.latency)
        self._chat(body, truncate=fault is not None and fault.kind == "truncate")

    def _routed(self, endpoint: str) -> bool:
        """True for an authorized request to ``endpoint``; else the error is already sent."""
        if not self.path.rstrip("/").endswith(endpoint):
            self._error(404, f"no route for {self.command} {self.path}", "not_found")
            return False
        return self._authorized()

    @property
    def state(self) -> _State:
        return self.server.state

    # --- request checks -------------------------------------------------------------------

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.state.lock:
            self.state.requests.append(RecordedRequest(self.command, self.path, headers, body))

    def _authorized(self) -> bool:
        expected = self.state.api_key
        if expected is None:
            return True
        given = self.headers.get("Authorization", "")
        if given == f"Bearer {expected}":
            return True
        # Echo what was sent, as careless servers do, so clients must redact it themselves.
        shown = given.removeprefix("Bearer ") or "(none)"
        self._error(401, f"Incorrect API key provided: {shown}", "invalid_api_key")
        return False

    def _take_fault(self) -> Fault | None:
        with self.state.lock:
            if not self.state.faults:
                return None
            slot = self.state.faults[0]
            if slot.remaining is not None:
                slot.remaining -= 1
                if slot.remaining <= 0:
                    self.state.faults.pop(0)
            return slot.fault

    def _apply_fault(self, fault: Fault, body: dict[str, Any]) -> bool:
        """Produce the fault; ``False`` when a normal (possibly truncated) answer follows."""
        if fault.kind == "http":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            message = fault.message or f"scripted failure {fault.status}"
            self._error(fault.status, message, "scripted", headers)
            return True
        if fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.kind == "malformed":
            if body.get("stream"):
                self._raw(200, b'data: {"choices": [{"delta": \n\n', "text/event-stream")
            else:
                self._raw(200, b'{"id": "x", "choices": [', "application/json")
            return True
        return False

    # --- answers --------------------------------------------------------------------------

    def _chat(self, body: dict[str, Any], *, truncate: bool) -> None:
        model = str(body.get("model", ""))
        if self.state.strict_models and model not in self.state.models:
            self._error(404, f"The model `{model}` does not exist.", "model_not_found")
            return
        messages = body["messages"]
        prompt_tokens = _tokens(_prompt_text(messages))
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        if self._too_long(len(prompt_tokens), max_tokens):
            return
        count = self._choice_count(int(body.get("n") or 1))
        if count is None:
            return
        request = RecordedRequest(self.command, self.path, {}, body)
        choices = [self._choice(request, i, max_tokens) for i in range(count)]
        usage = self._usage(prompt_tokens, choices)
        if body.get("stream"):
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            include = include and self.state.stream_usage
            self._stream(model, choices, usage if include else None, truncate=truncate)
        else:
            self._complete(model, choices, usage, truncate=truncate)
        if not truncate:
            with self.state.lock:
                self.state.answered.append((time.time(), request))

    def _too_long(self, prompt_tokens: int, max_tokens: Any) -> bool:
        limit = self.state.context_limit
        wanted = prompt_tokens + int(max_tokens or 0)
        if limit is None or wanted <= limit:
            return False
        self._error(
            400,
            f"This model's maximum context length is {limit} tokens. However, you requested "
            f"{wanted} tokens ({prompt_tokens} in the messages, {int(max_tokens or 0)} in the "
            "completion). Please reduce the length of the messages or completion.",
            "context_length_exceeded",
        )
        return True

    def _choice_count(self, n: int) -> int | None:
        mode = self.state.n_mode
        if n > 1 and mode == "reject":
            self._error(400, "only one completion choice is allowed (n must be 1)", "invalid_n")
            return None
        count = 1 if mode == "ignore" else n
        if self.state.max_choices is not None:
            count = min(count, self.state.max_choices)
        return max(count, 1)

    def _choice(self, request: RecordedRequest, index: int, max_tokens: Any) -> dict[str, Any]:
        reply = self._next_reply(request)
        text, cut = _clip(reply.text, int(max_tokens) if max_tokens else None)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        return {
            "index": index,
            "message": message,
            "finish_reason": "length" if cut else reply.finish_reason,
        }

    def _next_reply(self, request: RecordedRequest) -> Reply:
        source: ReplySource = self.state.default
        with self.state.lock:
            for rule in self.state.rules:
                if rule.matches(request.messages):
                    source = rule.replies[rule.used % len(rule.replies)]
                    rule.used += 1
                    break
        value = source(request) if callable(source) else source
        return value if isinstance(value, Reply) else Reply(str(value))

    def _usage(self, prompt: list[str], choices: list[dict[str, Any]]) -> dict[str, Any]:
        completion = sum(len(_tokens(c["message"]["content"])) for c in choices)
        reasoning = sum(len(_tokens(c["message"].get("reasoning_content", ""))) for c in choices)
        with self.state.lock:
            cached = max((_common_prefix(prompt, p) for p in self.state.prompts_seen), default=0)
            self.state.prompts_seen.append(prompt)
            del self.state.prompts_seen[:-64]
        return {
            "prompt_tokens": len(prompt),
            "completion_tokens": completion + reasoning,
            "total_tokens": len(prompt) + completion + reasoning,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }

    def _complete(
        self, model: str, choices: list[dict[str, Any]], usage: dict[str, Any], *, truncate: bool
    ) -> None:
        payload = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": choices,
            "usage": usage,
        }
        data = json.dumps(payload).encode()
        if truncate:
            # Promise the whole body, deliver half, hang up.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._raw(200, data, "application/json")

    def _stream(
        self,
        model: str,
        choices: list[dict[str, Any]],
        usage: dict[str, Any] | None,
        *,
        truncate: bool,
    ) -> None:
        # The body ends when the connection closes (no length, no chunking), so a truncated
        # stream looks like a clean end of stream without [DONE].
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        events = list(_stream_events(model, choices, usage))
        if truncate:
            events = events[: max(1, len(events) // 2)]
        for event in events:
            self.wfile.write(b"data: " + event.encode() + b"\n\n")
            self.wfile.flush()

    def _error(
        self, status: int, message: str, code: str, headers: Mapping[str, str] | None = None
    ) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        body = {"error": {"message": message, "type": kind, "code": code}}
        self._raw(status, json.dumps(body).encode(), "application/json", headers)

    def _json(self, status: int, payload: Any) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json")

    def _raw(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def _pieces(text: str) -> list[str]:
    """Split text into a few stream deltas at word boundaries, keeping whitespace."""
    return re.findall(r"\S+\s*|\s+", text)


def _stream_events(
    model: str, choices: list[dict[str, Any]], usage: dict[str, Any] | None
) -> list[str]:
    def chunk(choices_part: list[dict[str, Any]], **extra: Any) -> str:
        data = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": choices_part,
            **extra,
        }
        return json.dumps(data)

    events = []
    for choice in choices:
        index = choice["index"]
        message = choice["message"]
        events.append(chunk([{"index": index, "delta": {"role": "assistant"}}]))
        for piece in _pieces(message.get("reasoning_content", "")):
            events.append(chunk([{"index": index, "delta": {"reasoning_content": piece}}]))
        for piece in _pieces(message["content"]):
            events.append(chunk([{"index": index, "delta": {"content": piece}}]))
        final = {"index": index, "delta": {}, "finish_reason": choice["finish_reason"]}
        events.append(chunk([final]))
    if usage is not None:
        events.append(chunk([], usage=usage))
    events.append("[DONE]")
    return events
