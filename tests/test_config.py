"""Configuration layering: defaults < TOML < environment < CLI overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentless.config import load_config
from agentless.errors import ConfigError


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agentless.toml"
    path.write_text(text)
    return path


def test_layers_override_in_order(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path, '[model]\nname = "from-toml"\nbase_url = "http://toml/v1"\ntemperature = 0.3\n'
    )
    env = {"AGENTLESS_MODEL": "from-env", "OPENAI_API_KEY": "sk-env"}
    config = load_config(path, env=env, overrides={"model": {"name": "from-cli"}})
    assert config.model.name == "from-cli"
    assert config.model.base_url == "http://toml/v1"
    assert config.model.temperature == 0.3
    assert config.model.api_key is not None
    assert config.model.api_key.get_secret_value() == "sk-env"


def test_named_key_variable(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[model]\napi_key_env = "MY_KEY"\n')
    config = load_config(path, env={"MY_KEY": "secret-1", "OPENAI_API_KEY": "other"})
    assert config.model.api_key is not None
    assert config.model.api_key.get_secret_value() == "secret-1"


def test_none_overrides_do_not_mask_lower_layers(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[model]\nname = "kept"\n')
    config = load_config(path, env={}, overrides={"model": {"name": None}})
    assert config.model.name == "kept"


def test_key_is_not_in_repr_or_dump() -> None:
    config = load_config(Path("/dev/null"), env={"OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(config)
    assert "sk-very-secret" not in config.model_dump_json()


def test_key_in_file_is_refused(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[model]\napi_key = "sk-x"\n')
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_config(path, env={})


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[model\n")
    with pytest.raises(ConfigError, match=r"agentless\.toml"):
        load_config(path, env={})


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[model]\nnmae = 'typo'\n")
    with pytest.raises(ConfigError, match="nmae"):
        load_config(path, env={})


def test_the_local_profile_sits_under_the_config_file_and_the_flags(tmp_path: Path) -> None:
    toml = tmp_path / "a.toml"
    toml.write_text("[repair]\nsamples = 7\n")
    config = load_config(toml, env={}, profile="local", overrides={"localize": {"top_files": 9}})
    assert config.repair.samples == 7  # the file wins over the profile
    assert config.localize.top_files == 9  # and the flags over both
    assert config.model.context_window == 8192  # the rest is the profile's
    assert config.repair.max_tokens == 512
    assert load_config(toml, env={}).model.context_window is None


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="local"):
        load_config(Path("/dev/null"), env={}, profile="fast")
