"""The README's model configuration example is valid and does what the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentless.config import load_config
from agentless.model import OpenAICompatibleModel
from agentless.testing import ScriptedServer

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_toml() -> str:
    section = README.read_text().split("## Model configuration", 1)[1]
    match = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert match, "README's Model configuration section has no TOML example"
    return match.group(1)


def test_readme_toml_example_loads_and_drives_the_client(tmp_path: Path) -> None:
    path = tmp_path / "agentless.toml"
    path.write_text(readme_toml())
    with ScriptedServer(default="a b", models=["qwen2.5-coder-32b"]) as srv:
        config = load_config(
            path,
            env={"MY_PROVIDER_KEY": "k", "OPENAI_API_KEY": "not-this-one"},
            overrides={"model": {"base_url": srv.root}},
        )
        assert config.model.api_key is not None
        assert config.model.api_key.get_secret_value() == "k"
        model = OpenAICompatibleModel.from_config(config.model)
        [completion] = model.complete([{"role": "user", "content": "one two three"}])
        body = srv.chat_requests[0].body
        assert srv.chat_requests[0].headers["authorization"] == "Bearer k"
    assert body["model"] == "qwen2.5-coder-32b"
    assert body["top_k"] == 20 and body["repetition_penalty"] == 1.05
    assert body["seed"] == 42 and body["max_tokens"] == 4096
    assert completion.usage.cost == pytest.approx((3 * 0.20 + 2 * 0.60) / 1e6)


def test_readme_scripted_server_example_runs_as_written() -> None:
    section = README.read_text().split("For tests and benchmarks, `agentless.testing", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match and "ScriptedServer(" in match.group(1)
    exec(compile(match.group(1), "README.md", "exec"), {})  # its own asserts must hold
