"""Prompt rendering and token estimates."""

from __future__ import annotations

import pytest

from agentless.errors import ConfigError
from agentless.templates import prompts_dir, render
from agentless.tokens import count_message_tokens, count_tokens


def test_every_prompt_template_parses() -> None:
    import jinja2

    env = jinja2.Environment()
    names = sorted(p.name for p in prompts_dir().iterdir() if p.is_file())
    assert names, "no prompt templates found"
    for name in names:
        env.parse((prompts_dir() / name).read_text())


def test_missing_template_and_variable_are_errors() -> None:
    with pytest.raises(ConfigError, match="no prompt template"):
        render("does-not-exist.j2")
    with pytest.raises(ConfigError, match="undefined"):
        render("repair_user.j2")


def test_token_estimate_grows_with_text_and_counts_punctuation() -> None:
    assert count_tokens("") == 0
    assert count_tokens("def f(x):") == 6  # def, f, (, x, ), :
    assert count_tokens("a" * 40) == 10
    long = "x = compute_value(alpha, beta)\n" * 100
    assert 100 * 8 <= count_tokens(long) <= 100 * 12
    assert count_message_tokens([{"role": "user", "content": "hi"}]) == 5
