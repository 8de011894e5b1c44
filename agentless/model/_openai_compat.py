"""A client for OpenAI-compatible chat-completions endpoints over httpx.

Works with hosted APIs and local servers (vLLM, llama.cpp, Ollama, LiteLLM). Behind
``complete()`` live retries, the ``n``-sample fallback, streaming, usage and cost accounting,
and the optional call recorder / reply cache (the run store).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError as PydanticValidationError

from agentless.config import ModelConfig, Price
from agentless.errors import (
    ConfigError,
    ContextLengthError,
    ModelError,
    ModelRequestError,
    ModelUnavailableError,
)
from agentless.model._retry import RetryPolicy, is_retryable_status, parse_retry_after
from agentless.model._types import CallRecord, CallRecorder, Completion, Message, Model, Usage
from agentless.tokens import count_message_tokens

logger = logging.getLogger("agentless.model")

# Fields of the request body that change the reply; the cache key is built from these.
_NOT_IN_KEY = frozenset({"n", "stream", "stream_options"})

# What a reply of the wrong shape raises while it is read (a list where a dict belongs, ...).
_MALFORMED = (AttributeError, TypeError, ValueError)

_CONTEXT_PATTERNS = re.compile(
    r"context[ _-]?(length|size|window)|maximum context|too many tokens|prompt is too long"
    r"|input is too long|exceeds? the (available )?context",
    re.IGNORECASE,
)


def normalize_base_url(base_url: str) -> str:
    """Add ``/v1`` to a bare host URL; keep any explicit path (e.g. ``/api/v1``, ``/v1beta/openai``)."""
    url = base_url.strip().rstrip("/")
    if not url:
        raise ConfigError("model base URL is empty; pass --base-url or set OPENAI_BASE_URL")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"model base URL {safe_url(url)!r} cannot be parsed: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise ConfigError(
            f"model base URL must start with http:// or https://, got {safe_url(url)!r}"
        )
    if parsed.path in ("", "/"):
        url += "/v1"
    return url


def _is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    return host in ("localhost", "::1") or host.startswith("127.")


def safe_url(url: str) -> str:
    """The URL without any user:password part, fit for messages and logs."""
    return re.sub(r"//[^/@]*@", "//", url)


def request_key(body: Mapping[str, Any]) -> str:
    """A stable hash of everything in a request body that influences the reply."""
    keyed = {k: v for k, v in body.items() if k not in _NOT_IN_KEY}
    canonical = json.dumps(keyed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def cost_of(usage: Usage, price: Price | None) -> float | None:
    """Cost of ``usage`` under ``price`` (per million tokens); ``None`` when the price is unknown."""
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cached_price = price.prompt if price.cached_prompt is None else price.cached_prompt
    total = (
        (usage.prompt_tokens - cached) * price.prompt
        + cached * cached_price
        + usage.completion_tokens * price.completion
    )
    return total / 1_000_000


class _Retryable(Exception):
    """One attempt failed in a way that another attempt may fix."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@dataclass
class _Choice:
    text: str = ""
    reasoning: str = ""
    finish_reason: str | None = None


@dataclass
class _Reply:
    choices: list[_Choice]
    usage: dict[str, Any] | None
    model: str = ""
    retries: int = 0
    latency: float = 0.0


@dataclass
class _StreamAssembler:
    """Accumulates SSE chunks into choices and the final usage."""

    choices: dict[int, _Choice] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    model: str = ""

    def add(self, chunk: Mapping[str, Any]) -> None:
        self.model = self.model or str(chunk.get("model") or "")
        if chunk.get("usage"):
            self.usage = dict(chunk["usage"])
        for raw in chunk.get("choices") or []:
            choice = self.choices.setdefault(_choice_index(raw), _Choice())
            delta = raw.get("delta") or {}
            choice.text += _text(delta.get("content"))
            choice.reasoning += _text(delta.get("reasoning_content") or delta.get("reasoning"))
            if raw.get("finish_reason"):
                choice.finish_reason = raw["finish_reason"]

    def complete(self) -> bool:
        return bool(self.choices) and all(c.finish_reason for c in self.choices.values())

    def reply(self) -> _Reply:
        ordered = [self.choices[i] for i in sorted(self.choices)]
        return _Reply(choices=ordered, usage=self.usage, model=self.model)


def _text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list (as some servers send)."""
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    raise TypeError(f"message content is a {type(content).__name__}")


def _message_choice(raw: Mapping[str, Any]) -> _Choice:
    message = raw.get("message") or {}
    return _Choice(
        text=_text(message.get("content")),
        reasoning=_text(message.get("reasoning_content") or message.get("reasoning")),
        finish_reason=raw.get("finish_reason"),
    )


def _choice_index(raw: Mapping[str, Any]) -> int:
    return int(raw.get("index", 0))


def _split_think(text: str, reasoning: str) -> tuple[str, str]:
    # Some servers leave a reasoning model's thinking inline as a leading <think> block.
    stripped = text.lstrip()
    if not reasoning and stripped.startswith("<think>") and "</think>" in stripped:
        thought, _, answer = stripped[len("<think>") :].partition("</think>")
        return answer.lstrip("\n"), thought.strip()
    return text, reasoning


def _server_message(text: str) -> str:
    """The human-readable error message from an error body (OpenAI, vLLM, llama.cpp, plain)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:500] or "(empty body)"
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            for name in ("message", "detail", "msg"):
                if err.get(name):
                    return str(err[name])[:500]
        elif isinstance(err, str):
            return err[:500]
        if data.get("detail"):
            return str(data["detail"])[:500]
    return text.strip()[:500]


def _usage_from(raw: Mapping[str, Any] | None) -> Usage | None:
    """The reply's token counts; ``None`` when absent or unreadable (cost then stays unknown)."""
    try:
        return _read_usage(raw) if raw else None
    except _MALFORMED:
        logger.warning("the server's usage block is unreadable; tokens and cost are unknown")
        return None


def _read_usage(raw: Mapping[str, Any]) -> Usage:
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    cached = prompt_details.get("cached_tokens") or raw.get("prompt_cache_hit_tokens") or 0
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        cached_tokens=int(cached),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def _share(total: Usage, position: int, count: int) -> Usage:
    """This choice's share of a call's usage, so that the shares add up to the call.

    The prompt, latency and retries were paid once, so they go to the first choice;
    completion tokens (reported only in total) are split evenly, remainder first.
    """
    first = position == 0
    completion, remainder = divmod(total.completion_tokens, count)
    reasoning, r_remainder = divmod(total.reasoning_tokens, count)
    return Usage(
        prompt_tokens=total.prompt_tokens if first else 0,
        cached_tokens=total.cached_tokens if first else 0,
        completion_tokens=completion + (remainder if first else 0),
        reasoning_tokens=reasoning + (r_remainder if first else 0),
        latency=total.latency if first else 0.0,
        retries=total.retries if first else 0,
        calls=1 if first else 0,
        unknown=total.unknown if first else 0,
    )


class OpenAICompatibleModel:
    """A ``Model`` backed by an OpenAI-compatible ``/chat/completions`` endpoint.

    ``options`` are any ``ModelConfig`` fields (temperature, max_tokens, stop, seed, stream,
    extra_body, timeout, max_attempts, retry_budget, backoff_base, backoff_max, concurrency,
    prices). ``recorder`` (e.g. the run ``Store``) records every call and, unless
    ``use_cache`` is false, answers repeated requests without calling the server.
    ``transport`` is handed to httpx (tests and embedding only).
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str | None = None,
        *,
        recorder: CallRecorder | None = None,
        use_cache: bool = True,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        try:
            self.config = ModelConfig(name=model, base_url=base_url, **options)
        except PydanticValidationError as exc:
            raise ConfigError(f"invalid model options: {exc}") from None
        if not model:
            raise ConfigError("no model name given; pass --model or set AGENTLESS_MODEL")
        self.base_url = normalize_base_url(base_url)
        self._api_key = api_key or ""
        self.recorder = recorder
        self.use_cache = use_cache
        self.retry = RetryPolicy(
            max_attempts=self.config.max_attempts,
            budget=self.config.retry_budget,
            base=self.config.backoff_base,
            max_delay=self.config.backoff_max,
        )
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        # No cap on connections here: callers (the runner, the n fallback) bound concurrency.
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
            transport=transport,
            # Proxies from the environment serve hosted endpoints; never route loopback there.
            trust_env=not _is_loopback(self.base_url),
        )
        self._n_supported = True
        self._prompt_tokens: dict[str, int] = {}

    @classmethod
    def from_config(
        cls,
        config: ModelConfig,
        recorder: CallRecorder | None = None,
        *,
        use_cache: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> OpenAICompatibleModel:
        """Build a client from a ``ModelConfig`` (the key is read from its ``SecretStr``).
        ``transport`` lets many clients share one connection pool (the batch runner's)."""
        options = config.model_dump(exclude={"name", "base_url", "api_key", "api_key_env"})
        options["prices"] = config.prices
        key = config.api_key.get_secret_value() if config.api_key is not None else None
        return cls(
            config.name,
            config.base_url,
            key,
            recorder=recorder,
            use_cache=use_cache,
            transport=transport,
            **options,
        )

    @property
    def name(self) -> str:
        """The model name sent as ``model`` in each request."""
        return self.config.name

    def __repr__(self) -> str:
        return f"OpenAICompatibleModel(model={self.name!r}, base_url={safe_url(self.base_url)!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> OpenAICompatibleModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public calls ---------------------------------------------------------------------

    def complete(
        self,
        messages: Sequence[Message],
        *,
        n: int = 1,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] | None = None,
        seed: int | None = None,
        stream: bool | None = None,
        extra_body: Mapping[str, Any] | None = None,
        stage: str = "",
        **kw: Any,
    ) -> list[Completion]:
        """Return exactly ``n`` completions for ``messages``.

        Unset options fall back to the model's configuration; extra keywords (``top_p=...``)
        go into the request body like ``extra_body``. ``stage`` labels the call in the store.
        Raises ``ModelRequestError`` / ``ContextLengthError`` when the server refuses the
        request and ``ModelUnavailableError`` when retries are exhausted.
        """
        if n < 1:
            raise ConfigError(f"n must be at least 1, got {n}")
        body = self._body(messages, temperature, max_tokens, stop, seed, extra_body, kw)
        self._fit_reply_limit(body)
        use_stream = self.config.stream if stream is None else stream
        key = request_key(body)
        found = self._cached(key, n)
        missing = [i for i in range(n) if i not in found]
        if missing:
            try:
                found.update(self._fetch(body, key, missing, stage, use_stream))
            except ContextLengthError as exc:
                # The server's own count may say a smaller limit fits where the estimate did not.
                smaller = _room_from_server(exc, self.config.min_reply_tokens)
                if smaller is None or smaller >= int(body.get("max_tokens") or 0):
                    raise
                body = {**body, "max_tokens": smaller}
                key = request_key(body)
                found = self._cached(key, n)
                missing = [i for i in range(n) if i not in found]
                found.update(self._fetch(body, key, missing, stage, use_stream))
        return [found[i] for i in range(n)]

    def _fit_reply_limit(self, body: dict[str, Any]) -> None:
        """With a known context window: cut ``max_tokens`` to the room the prompt leaves (and
        set it when unset, so a server never generates until its context is full), or raise
        ``ContextLengthError`` before sending when less than ``min_reply_tokens`` is left."""
        window = self.config.context_window
        if window is None:
            return
        prompt = count_message_tokens(body["messages"])
        room = window - prompt
        wanted = body.get("max_tokens")
        needed = min(self.config.min_reply_tokens, int(wanted or self.config.min_reply_tokens))
        if room < needed:
            raise ContextLengthError(
                f"the prompt (about {prompt} tokens) leaves {max(room, 0)} of the "
                f"{window}-token context window for the reply, under the {needed} needed; "
                "not sent: shorten the prompt (localize.prompt_token_budget, "
                "repair.prompt_token_budget) or raise model.context_window and the server's",
                url=safe_url(self.base_url),
            )
        if wanted is None or int(wanted) > room:
            body["max_tokens"] = room

    def list_models(self) -> list[str]:
        """The model ids the server offers (``GET /models``)."""
        url = f"{self.base_url}/models"

        def attempt() -> _Reply:
            data = self._get_json(url)
            ids = [str(m.get("id", "")) for m in data.get("data") or [] if isinstance(m, dict)]
            return _Reply(choices=[_Choice(text=i) for i in ids], usage=None)

        reply = self._with_retries(url, attempt)
        return [c.text for c in reply.choices]

    # --- request assembly -----------------------------------------------------------------

    def _body(
        self,
        messages: Sequence[Message],
        temperature: float | None,
        max_tokens: int | None,
        stop: Sequence[str] | None,
        seed: int | None,
        extra_body: Mapping[str, Any] | None,
        kw: Mapping[str, Any],
    ) -> dict[str, Any]:
        cfg = self.config
        body: dict[str, Any] = {
            "model": cfg.name,
            "messages": [dict(m) for m in messages],
            "temperature": cfg.temperature if temperature is None else temperature,
        }
        tokens = cfg.max_tokens if max_tokens is None else max_tokens
        if tokens is not None:
            body["max_tokens"] = tokens
        stops = list(cfg.stop if stop is None else stop)
        if stops:
            body["stop"] = stops
        chosen_seed = cfg.seed if seed is None else seed
        if chosen_seed is not None:
            body["seed"] = chosen_seed
        body.update(cfg.extra_body)
        body.update(extra_body or {})
        body.update(kw)
        return body

    def _cached(self, key: str, n: int) -> dict[int, Completion]:
        if self.recorder is None or not self.use_cache:
            return {}
        return dict(self.recorder.cached_samples(key, n))

    # --- sampling with the n fallback -----------------------------------------------------

    def _fetch(
        self, body: dict[str, Any], key: str, indices: list[int], stage: str, stream: bool
    ) -> dict[int, Completion]:
        got: dict[int, Completion] = {}
        remaining = list(indices)
        refused = False
        if len(remaining) > 1 and self._n_supported:
            batch, refused = self._try_n(body, key, remaining, stage, stream)
            got.update(batch)
            remaining = [i for i in remaining if i not in batch]
        if len(remaining) == 1:
            got.update(self._single(body, key, remaining[0], stage, stream))
        elif remaining:
            workers = min(self.config.concurrency, len(remaining))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="model") as pool:
                futures = [
                    pool.submit(self._single, body, key, i, stage, stream) for i in remaining
                ]
                for future in futures:
                    got.update(future.result())
        if refused:
            # Single requests worked where the n request was refused: n itself was the problem.
            self._n_supported = False
        return got

    def _try_n(
        self, body: dict[str, Any], key: str, indices: list[int], stage: str, stream: bool
    ) -> tuple[dict[int, Completion], bool]:
        """Ask for all samples in one request; returns the samples and whether n was refused."""
        try:
            batch = self._request({**body, "n": len(indices)}, key, indices, stage, stream)
        except ContextLengthError:
            raise
        except ModelRequestError as exc:
            if exc.status not in (400, 422):
                raise
            # Many servers (llama.cpp, some proxies) refuse n > 1; a real problem with the
            # request will show again on the first single request.
            logger.info("server refused n=%d (%s); using single requests", len(indices), exc)
            return {}, True
        if len(batch) == 1 and len(indices) > 1:
            logger.info("server ignored n=%d; using single requests", len(indices))
            self._n_supported = False
        return batch, False

    def _single(
        self, body: dict[str, Any], key: str, index: int, stage: str, stream: bool
    ) -> dict[int, Completion]:
        single = dict(body)
        if "seed" in single and index > 0:
            # The same seed would give the same sample n times over.
            single["seed"] = int(single["seed"]) + index
        return self._request(single, key, [index], stage, stream)

    # --- one logical request: retries, accounting, recording ------------------------------

    def _request(
        self, body: dict[str, Any], key: str, indices: list[int], stage: str, stream: bool
    ) -> dict[int, Completion]:
        url = f"{self.base_url}/chat/completions"
        sent = dict(body)
        if stream:
            sent.update(stream=True, stream_options={"include_usage": True})
        started = time.time()
        began = time.monotonic()
        try:
            reply = self._with_retries(url, lambda: self._post(url, sent, stream))
        except ModelError as exc:
            spent = Usage(latency=time.monotonic() - began, retries=exc.attempts - 1, calls=1)
            self._record(key, stage, url, sent, [], spent, started, exc)
            raise
        if stream and reply.usage is None:
            reply.usage = self._usage_not_streamed(body, reply)
        completions = self._completions(reply, indices)
        total = sum((c.usage for c in completions), Usage())
        self._record(key, stage, url, sent, completions, total, started, None)
        return {c.index: c for c in completions}

    def _completions(self, reply: _Reply, indices: list[int]) -> list[Completion]:
        usage = _usage_from(reply.usage)
        price = self.config.prices.get(self.name)
        total = dataclasses.replace(
            usage or Usage(unknown=1), latency=reply.latency, retries=reply.retries
        )
        choices = reply.choices[: len(indices)]
        result = []
        for position, (index, choice) in enumerate(zip(indices, choices, strict=False)):
            share = _share(total, position, len(choices))
            cost = cost_of(share, price) if usage is not None else None
            text, reasoning = _split_think(choice.text, choice.reasoning)
            result.append(
                Completion(
                    text=text,
                    finish_reason=choice.finish_reason,
                    usage=dataclasses.replace(share, cost=cost),
                    reasoning=reasoning,
                    index=index,
                    model=reply.model,
                )
            )
        return result

    def _usage_not_streamed(self, body: Mapping[str, Any], reply: _Reply) -> dict[str, Any] | None:
        """Token counts for a stream that ended without a usage chunk (llama-cpp-python's
        server never sends one): the prompt's from a one-token request of the same prompt
        (cheap: the server reuses the prompt it has just read), the reply's from the server's
        tokenize endpoint. Only for servers on this machine, where the extra request costs
        nothing; elsewhere, and when either count fails, the usage is unknown (never 0)."""
        if not _is_loopback(self.base_url):
            return None
        messages = json.dumps(body.get("messages"), sort_keys=True)
        prompt = self._prompt_tokens.get(messages)
        if prompt is None:
            prompt = self._probe_prompt_tokens(body)
            if prompt is not None:
                self._prompt_tokens[messages] = prompt
        counts = [self._count_text_tokens(choice.text) for choice in reply.choices]
        if prompt is None or any(count is None for count in counts):
            logger.warning(
                "the stream ended without token counts and the server could not count them; "
                "usage of this call is unknown"
            )
            return None
        return {"prompt_tokens": prompt, "completion_tokens": sum(c or 0 for c in counts)}

    def _probe_prompt_tokens(self, body: Mapping[str, Any]) -> int | None:
        probe = {k: v for k, v in body.items() if k not in ("n", "stream", "stream_options")}
        probe.update(max_tokens=1, temperature=0.0)
        try:
            with _http_errors():
                response = self._client.post(f"{self.base_url}/chat/completions", json=probe)
            data = response.json() if response.status_code == 200 else {}
            return int(data["usage"]["prompt_tokens"])
        except (_Retryable, KeyError, TypeError, ValueError):
            return None

    def _count_text_tokens(self, text: str) -> int | None:
        if not text:
            return 0
        root = self.base_url.removesuffix("/v1")
        # llama-cpp-python's server, then llama.cpp's own.
        for path, payload, read in (
            ("/extras/tokenize/count", {"input": text}, lambda d: int(d["count"])),
            ("/tokenize", {"content": text}, lambda d: len(d["tokens"])),
        ):
            try:
                with _http_errors():
                    response = self._client.post(root + path, json=payload)
                if response.status_code == 200:
                    return read(response.json())
            except (_Retryable, KeyError, TypeError, ValueError):
                continue
        return None

    def _record(
        self,
        key: str,
        stage: str,
        url: str,
        body: Mapping[str, Any],
        completions: list[Completion],
        usage: Usage,
        started: float,
        error: ModelError | None,
    ) -> None:
        if self.recorder is None:
            return
        self.recorder.record_call(
            CallRecord(
                key=key,
                stage=stage,
                model=self.name,
                url=safe_url(url),
                request=body,
                completions=completions,
                usage=usage,
                status=error.status if error is not None else 200,
                error=self._redact(str(error)) if error is not None else "",
                started_at=started,
            )
        )

    def _with_retries(self, url: str, attempt: Callable[[], _Reply]) -> _Reply:
        """Run ``attempt`` until it succeeds, a non-retryable error, or the budget is spent."""
        slept = 0.0
        tries = 0
        began = time.monotonic()
        while True:
            tries += 1
            try:
                reply = attempt()
            except ModelError as exc:
                exc.attempts = tries  # e.g. a 400 after a 503: the record shows the retry
                raise
            except _Retryable as exc:
                delay = self.retry.next_delay(tries, slept, exc.retry_after)
                if delay is None:
                    raise self._unavailable(url, exc, tries, time.monotonic() - began) from None
                logger.warning(
                    "model call to %s failed (%s); retry %d in %.2fs",
                    safe_url(url),
                    self._redact(exc.reason),
                    tries,
                    delay,
                )
                time.sleep(delay)
                slept += delay
                continue
            reply.retries = tries - 1
            reply.latency = time.monotonic() - began
            return reply

    def _unavailable(
        self, url: str, exc: _Retryable, tries: int, elapsed: float
    ) -> ModelUnavailableError:
        status = f"HTTP {exc.status}" if exc.status is not None else "no HTTP status"
        return ModelUnavailableError(
            f"model endpoint {safe_url(url)} unavailable after {tries} attempt(s) over "
            f"{elapsed:.1f}s (last: {status}: {self._redact(exc.reason)}); check that the "
            "server is up and reachable, or raise model.max_attempts / model.retry_budget",
            url=safe_url(url),
            status=exc.status,
            attempts=tries,
        )

    # --- one HTTP attempt -----------------------------------------------------------------

    def _post(self, url: str, body: Mapping[str, Any], stream: bool) -> _Reply:
        with _http_errors():
            if stream:
                return self._post_stream(url, body)
            response = self._client.post(url, json=body)
        self._check_status(url, response)
        data = self._json(response)
        return self._parse(data)

    def _post_stream(self, url: str, body: Mapping[str, Any]) -> _Reply:
        with self._client.stream("POST", url, json=body) as response:
            if response.status_code >= 300:
                response.read()
                self._check_status(url, response)
            if "json" in response.headers.get("content-type", ""):
                # The server ignored stream=true and sent the whole reply at once.
                response.read()
                return self._parse(self._json(response))
            assembler = _StreamAssembler()
            done = False
            for payload in _sse_data(response.iter_lines()):
                if payload == "[DONE]":
                    done = True
                    break
                _add_chunk(assembler, payload)
        if not (done or assembler.complete()):
            raise _Retryable("stream ended before the reply was complete", 200)
        return assembler.reply()

    def _get_json(self, url: str) -> dict[str, Any]:
        with _http_errors():
            response = self._client.get(url)
        self._check_status(url, response)
        return self._json(response)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise _Retryable("response body is not valid JSON", response.status_code) from None
        if not isinstance(data, dict):
            raise _Retryable("response body is not a JSON object", response.status_code)
        return data

    def _parse(self, data: Mapping[str, Any]) -> _Reply:
        raw_choices = data.get("choices")
        if not isinstance(raw_choices, list) or not raw_choices:
            detail = _server_message(json.dumps(data)) if data.get("error") else "no choices"
            raise _Retryable(f"malformed reply: {detail}", 200)
        try:
            choices = [_message_choice(raw) for raw in sorted(raw_choices, key=_choice_index)]
        except _MALFORMED as exc:
            raise _Retryable(f"malformed reply: {exc}", 200) from None
        return _Reply(choices=choices, usage=data.get("usage"), model=str(data.get("model", "")))

    def _check_status(self, url: str, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        message = self._redact(_server_message(response.text))
        if is_retryable_status(status):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _Retryable(message, status, retry_after)
        where = safe_url(url)
        if status in (400, 413, 422) and _CONTEXT_PATTERNS.search(message):
            raise ContextLengthError(
                f"{where}: the prompt does not fit the model's context window (HTTP {status}: "
                f"{message}); shorten the context (e.g. lower localize.prompt_token_budget)",
                url=where,
                status=status,
            )
        raise ModelRequestError(
            f"{where} refused the request (HTTP {status}: {message}); {_hint(status, self)}",
            url=where,
            status=status,
        )

    def _redact(self, text: str) -> str:
        if self._api_key and self._api_key in text:
            return text.replace(self._api_key, "[redacted]")
        return text


_SERVER_COUNTS = re.compile(
    r"maximum context length is (\d+) tokens.*?\((\d+) in the messages", re.IGNORECASE | re.S
)


def _room_from_server(exc: ContextLengthError, minimum: int) -> int | None:
    """The reply room a server's context error states (OpenAI's wording, which vLLM and
    llama-cpp-python use: "maximum context length is W tokens ... (P in the messages, ...")"""
    match = _SERVER_COUNTS.search(str(exc))
    if match is None:
        return None
    room = int(match.group(1)) - int(match.group(2))
    return room if room >= minimum else None


def _hint(status: int, model: OpenAICompatibleModel) -> str:
    if status in (401, 403):
        return (
            f"check the API key in ${model.config.api_key_env} (or name another variable "
            "with --api-key-env)"
        )
    if status == 404:
        return (
            f"check the model name ({model.name!r}) and the base URL ({safe_url(model.base_url)})"
        )
    return "check the request options (model.extra_body, stop, max_tokens)"


@contextmanager
def _http_errors() -> Iterator[None]:
    """Turn httpx's failures to get a response into retryable attempts."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise _Retryable(f"timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise _Retryable(f"connection failed: {exc or type(exc).__name__}") from None
    except httpx.DecodingError as exc:
        raise _Retryable(f"response body could not be decoded: {exc}", 200) from None


def _add_chunk(assembler: _StreamAssembler, payload: str) -> None:
    try:
        chunk = json.loads(payload)
    except ValueError:
        raise _Retryable("stream chunk is not valid JSON", 200) from None
    if not isinstance(chunk, dict):
        raise _Retryable("stream chunk is not a JSON object", 200)
    if chunk.get("error") and not chunk.get("choices"):
        raise _Retryable(f"error in stream: {_server_message(payload)}", 200)
    try:
        assembler.add(chunk)
    except _MALFORMED as exc:
        raise _Retryable(f"malformed stream chunk: {exc}", 200) from None


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data:`` payloads of a server-sent-event stream, one per event."""
    for line in lines:
        if line.startswith("data:"):
            yield line[len("data:") :].strip()


if TYPE_CHECKING:

    def _is_a_model(model: OpenAICompatibleModel) -> Model:
        # mypy proves here that the client satisfies the Model protocol.
        return model
