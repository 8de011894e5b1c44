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


def test_set_reaches_any_field_above_every_other_layer(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[repair]\nsamples = 2\n[run]\nworkers = 3\n")
    settings = [
        "repair.samples=6",
        "validate.regression=false",
        "model.stop=['END']",
        "model.extra_body.top_k=40",
        "run.cache_dir=/srv/cache",
        "model.name=2026-01-01",  # text where the field wants text, not a TOML date
    ]
    config = load_config(
        path, env={}, overrides={"repair": {"samples": 4}}, profile="local", settings=settings
    )
    assert config.repair.samples == 6 and config.run.workers == 3
    assert config.validate_.regression is False
    assert config.model.stop == ("END",) and config.model.extra_body == {"top_k": 40}
    assert config.run.cache_dir == Path("/srv/cache") and config.model.name == "2026-01-01"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("repair.sampels=3", "repair has no field 'sampels'; choose from context_margin,"),
        ("repiar.samples=3", "no field 'repiar'; choose from exercises, localize, model,"),
        ("repair=3", "a section; set one of its fields"),
        ("model.temperature.x=1", "model.temperature is a value, not a section"),
        ("repair.samples=many", "repair.samples=many: Input should be a valid integer"),
        ("repair.edit_format=patch", "Input should be 'diff', 'udiff' or 'whole'"),
        ("run.workers=0", "greater than or equal to 1"),
        ("repair.samples", "expected section.field=value"),
        ("model.api_key=sk-1", "the API key comes from the environment"),
    ],
)
def test_a_bad_setting_names_the_field_and_the_choices(setting: str, message: str) -> None:
    with pytest.raises(ConfigError, match="--set") as raised:
        load_config(None, env={}, settings=[setting])
    assert message in str(raised.value)


def test_every_registry_refuses_an_unknown_name_the_same_way() -> None:
    from agentless.edits._formats import edit_format
    from agentless.errors import AgentlessError
    from agentless.model._local_models import known_model
    from agentless.validate import get_parser

    asks = {
        "edit format 'patch'; choose one of auto, diff, udiff, whole": lambda: edit_format("patch"),
        "log parser 'cobol'; choose one of ": lambda: get_parser("cobol"),
        "local model 'gpt'; choose one of ": lambda: known_model("gpt"),
        "profile 'fast'; choose one of local": lambda: load_config(None, env={}, profile="fast"),
    }
    for message, ask in asks.items():
        with pytest.raises(AgentlessError) as raised:
            ask()
        assert str(raised.value).startswith(f"unknown {message}"), str(raised.value)
    with pytest.raises(ConfigError, match=r"or give the path of a \.gguf file"):
        known_model("x")
