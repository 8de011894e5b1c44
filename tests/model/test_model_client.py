"""The client's request shape, n sampling, streaming and accounting against the loopback server."""

from __future__ import annotations

import pytest

from agentless.config import ModelConfig, Price
from agentless.errors import ConfigError, ModelRequestError
from agentless.model import Completion, Model, OpenAICompatibleModel, Usage, cost_of, request_key
from agentless.model._openai_compat import normalize_base_url
from agentless.testing import Fault, Reply, ScriptedServer

MESSAGES = [
    {"role": "system", "content": "You repair code."},
    {"role": "user", "content": "the parser drops the last line"},
]


def test_base_url_with_or_without_v1() -> None:
    with ScriptedServer(default="hi") as srv:
        for base in (srv.root, srv.root + "/", srv.url, srv.url + "/"):
            model = OpenAICompatibleModel("m", base)
            assert model.complete(MESSAGES)[0].text == "hi"
        assert {r.path for r in srv.chat_requests} == {"/v1/chat/completions"}


def test_explicit_paths_are_kept() -> None:
    assert normalize_base_url("http://h:1/api/v1") == "http://h:1/api/v1"
    assert normalize_base_url("http://h:1/v1beta/openai/") == "http://h:1/v1beta/openai"
    with pytest.raises(ConfigError, match="http"):
        normalize_base_url("h:1/v1")


@pytest.mark.parametrize("base", ["http://[::1", "::", "http://h:port/v1"])
def test_unparsable_base_url_is_a_config_error(base: str) -> None:
    with pytest.raises(ConfigError, match="base URL"):
        OpenAICompatibleModel("m", base)


def test_request_carries_options_and_extra_body() -> None:
    with ScriptedServer() as srv:
        model = OpenAICompatibleModel(
            "m", srv.url, extra_body={"top_k": 20, "repetition_penalty": 1.1}, seed=7
        )
        model.complete(
            MESSAGES, temperature=0.4, max_tokens=50, stop=["```"], extra_body={"top_k": 5}
        )
        body = srv.chat_requests[-1].body
    assert body["model"] == "m"
    assert body["messages"] == MESSAGES
    assert body["temperature"] == 0.4
    assert body["max_tokens"] == 50
    assert body["stop"] == ["```"]
    assert body["seed"] == 7
    assert body["top_k"] == 5  # the per-call extra body wins over the configured one
    assert body["repetition_penalty"] == 1.1
    assert "n" not in body


def test_rules_choose_replies_and_cycle() -> None:
    with ScriptedServer(default="fallback") as srv:
        srv.on("last line", "first", "second")
        srv.on(lambda msgs: len(msgs) == 1, "one message")
        model = OpenAICompatibleModel("m", srv.url)
        assert [c.text for c in model.complete(MESSAGES, n=3)] == ["first", "second", "first"]
        assert model.complete([{"role": "user", "content": "x"}])[0].text == "one message"
        two = [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}]
        assert model.complete(two)[0].text == "fallback"


@pytest.mark.parametrize("n_mode", ["honour", "reject", "ignore"])
def test_n_samples_whatever_the_server_does_with_n(n_mode: str) -> None:
    with ScriptedServer(n_mode=n_mode) as srv:  # type: ignore[arg-type]
        srv.on("last line", *[f"candidate {i}" for i in range(5)])
        model = OpenAICompatibleModel("m", srv.url, concurrency=3)
        completions = model.complete(MESSAGES, n=5, temperature=0.8)
        assert len(completions) == 5
        assert [c.index for c in completions] == [0, 1, 2, 3, 4]
        assert sorted(c.text for c in completions) == [f"candidate {i}" for i in range(5)]
        asked = [r.n for r in srv.chat_requests]
        # "ignore" answered one of the five in the n request; "reject" answered none.
        expected_asked = {"honour": [5], "ignore": [5, 1, 1, 1, 1], "reject": [5, 1, 1, 1, 1, 1]}
        assert asked == expected_asked[n_mode]
        # Once the server has shown it will not do n, later calls go straight to singles.
        before = len(srv.chat_requests)
        assert len(model.complete(MESSAGES, n=2)) == 2
        expected = [2] if n_mode == "honour" else [1, 1]
        assert [r.n for r in srv.chat_requests[before:]] == expected


def test_fewer_choices_are_topped_up_with_single_requests() -> None:
    with ScriptedServer(max_choices=2) as srv:
        completions = OpenAICompatibleModel("m", srv.url).complete(MESSAGES, n=5)
        assert len(completions) == 5
        assert [r.n for r in srv.chat_requests] == [5, 1, 1, 1]


def test_single_requests_vary_the_seed() -> None:
    with ScriptedServer(n_mode="reject") as srv:
        OpenAICompatibleModel("m", srv.url, seed=100).complete(MESSAGES, n=3)
        seeds = sorted(r.body["seed"] for r in srv.chat_requests if r.n == 1)
    assert seeds == [100, 101, 102]


@pytest.mark.parametrize("n", [1, 3])
def test_streaming_and_plain_give_same_text_and_usage(n: int) -> None:
    reply = Reply("def f():\n    return  1\n\n# done", reasoning="think  about it")
    results = {}
    for stream in (False, True):
        # A fresh server each time, so the simulated prefix cache starts equal.
        with ScriptedServer(default=reply) as srv:
            model = OpenAICompatibleModel("m", srv.url, stream=stream)
            results[stream] = model.complete(MESSAGES, n=n)
            assert bool(srv.chat_requests[-1].body.get("stream")) is stream

    def view(cs: list[Completion]) -> list[tuple[object, ...]]:
        return [
            (c.text, c.reasoning, c.finish_reason, c.usage.prompt_tokens, c.usage.completion_tokens)
            for c in cs
        ]

    assert view(results[False]) == view(results[True])
    assert results[True][0].text == reply.text
    assert results[True][0].reasoning == reply.reasoning


def test_length_finish_is_flagged() -> None:
    with ScriptedServer(default="one two three four five six") as srv:
        for stream in (False, True):
            [c] = OpenAICompatibleModel("m", srv.url, stream=stream).complete(
                MESSAGES, max_tokens=3
            )
            assert c.truncated
            assert c.finish_reason == "length"
            assert c.text == "one two three"


def test_think_block_is_moved_to_reasoning() -> None:
    with ScriptedServer(default="<think>\nhmm, tricky\n</think>\n\nthe answer") as srv:
        [c] = OpenAICompatibleModel("m", srv.url).complete(MESSAGES)
    assert c.text == "the answer"
    assert c.reasoning == "hmm, tricky"


def test_usage_and_cost_from_price_table() -> None:
    price = Price(prompt=2.0, completion=10.0, cached_prompt=0.5)
    with ScriptedServer(default="a b c d") as srv:
        model = OpenAICompatibleModel("m", srv.url, prices={"m": price})
        [first] = model.complete(MESSAGES)
        [second] = model.complete(MESSAGES)
    assert first.usage.prompt_tokens == 9
    assert first.usage.completion_tokens == 4
    assert first.usage.cached_tokens == 0
    assert first.usage.calls == 1
    assert first.usage.latency > 0
    assert first.usage.cost == pytest.approx((9 * 2.0 + 4 * 10.0) / 1e6)
    # The same prompt again is served from the server's prefix cache, priced lower.
    assert second.usage.cached_tokens == 9
    assert second.usage.cost == pytest.approx((9 * 0.5 + 4 * 10.0) / 1e6)


def test_unknown_price_is_unknown_cost_not_zero() -> None:
    with ScriptedServer() as srv:
        model = OpenAICompatibleModel("m", srv.url, prices={"other": Price(prompt=1, completion=1)})
        [c] = model.complete(MESSAGES)
    assert c.usage.cost is None
    assert (c.usage + Usage(cost=1.0)).cost is None


def test_shares_of_an_n_call_add_up_to_the_call() -> None:
    price = Price(prompt=1.0, completion=1.0)
    with ScriptedServer(default="x y z") as srv:
        completions = OpenAICompatibleModel("m", srv.url, prices={"m": price}).complete(
            MESSAGES, n=4
        )
    total = sum((c.usage for c in completions), Usage())
    assert total.calls == 1
    assert total.prompt_tokens == 9
    assert total.completion_tokens == 12
    assert total.cost == pytest.approx(21 / 1e6)


def test_cost_of_without_price() -> None:
    assert cost_of(Usage(prompt_tokens=5), None) is None


def test_request_key_ignores_transport_details_only() -> None:
    base = {"model": "m", "messages": MESSAGES, "temperature": 0.0}
    assert request_key(base) == request_key({**base, "stream": True, "n": 4})
    assert request_key(base) != request_key({**base, "temperature": 0.1})
    assert request_key(base) != request_key({**base, "top_k": 3})
    assert request_key(base) != request_key({**base, "model": "other"})


def test_from_config_and_protocol() -> None:
    with ScriptedServer(api_key="k1") as srv:
        config = ModelConfig(name="m", base_url=srv.root, api_key="k1", temperature=0.2)  # type: ignore[arg-type]
        model = OpenAICompatibleModel.from_config(config)
        assert isinstance(model, Model)
        assert model.name == "m"
        assert "k1" not in repr(model)
        assert model.complete(MESSAGES)[0].text == "OK"
        assert srv.chat_requests[-1].body["temperature"] == 0.2


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="nonsense"):
        OpenAICompatibleModel("m", "http://127.0.0.1:9/v1", nonsense=1)
    with pytest.raises(ConfigError, match="--model"):
        OpenAICompatibleModel("", "http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="n must be"):
        OpenAICompatibleModel("m", "http://127.0.0.1:9/v1").complete(MESSAGES, n=0)


def test_a_bad_request_is_not_mistaken_for_refusing_n() -> None:
    with ScriptedServer() as srv:
        model = OpenAICompatibleModel("m", srv.url)
        srv.inject(Fault.http(400, message="unknown field top_q"), times=None)
        with pytest.raises(ModelRequestError, match="top_q"):
            model.complete(MESSAGES, n=3)
        # The n request failed, then the first single failed the same way: raised, n kept.
        assert [r.n for r in srv.chat_requests][:2] == [3, 1]
        srv.clear_faults()
        before = len(srv.chat_requests)
        assert len(model.complete(MESSAGES, n=2, temperature=0.5)) == 2
        assert [r.n for r in srv.chat_requests[before:]] == [2]
