"""The edit-format registry feeds detection, parsing, the config type, --format and prompts."""

from __future__ import annotations

from typing import get_args

import pytest
from click.testing import CliRunner

from agentless import AgentlessError
from agentless.cli import main
from agentless.config import load_config
from agentless.edits import (
    EDIT_FORMATS,
    FORMATS,
    EditFormatError,
    EditFormatName,
    apply_reply,
    detect_format,
    parse_edits,
)
from agentless.errors import ConfigError, EditError
from agentless.templates import render

SAMPLES = {
    "diff": "a.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n",
    "udiff": "```diff\n--- a/a.py\n+++ b/a.py\n@@\n-x = 1\n+x = 2\n```\n",
    "whole": "a.py\n```python\nx = 2\n```\n",
}


def test_registry_names_are_the_config_literal_and_the_formats() -> None:
    assert tuple(EDIT_FORMATS) == get_args(EditFormatName) == tuple(SAMPLES)
    assert ("auto", *EDIT_FORMATS) == FORMATS


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_format_is_detected_parsed_and_applied(name: str) -> None:
    reply = SAMPLES[name]
    assert detect_format(reply) == name
    assert [e.path for e in parse_edits(reply, name, known={"a.py"})] == ["a.py"]
    assert apply_reply(reply, {"a.py": "x = 1\n"}, name).files == {"a.py": "x = 2\n"}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_format_has_its_prompt_section(name: str) -> None:
    section = render(EDIT_FORMATS[name].prompt)
    system = render("repair_system.j2", edit_format=name)
    assert section.strip() and section.strip() in system
    # The illustration sits on a path no repository has, which the engine refuses by name.
    assert "__format_example__/" in section


def test_unknown_format_is_an_agentless_error_naming_the_choices() -> None:
    with pytest.raises(EditFormatError) as raised:
        apply_reply("x", {}, "foo")
    assert isinstance(raised.value, EditError) and isinstance(raised.value, AgentlessError)
    assert isinstance(raised.value, ValueError)  # as before the error tree took it in
    assert all(name in str(raised.value) for name in FORMATS)
    with pytest.raises(EditFormatError):
        parse_edits("x", "foo")


def test_config_edit_format_is_a_choice_not_a_free_string() -> None:
    assert load_config(overrides={"repair": {"edit_format": "udiff"}}).repair.edit_format == "udiff"
    with pytest.raises(ConfigError) as raised:
        load_config(overrides={"repair": {"edit_format": "foo"}})
    message = str(raised.value)
    assert "edit_format" in message and all(f"'{n}'" in message for n in EDIT_FORMATS)


@pytest.mark.parametrize(
    ("argv", "choices"),
    [
        (["apply", "-", "--format", "foo"], FORMATS),
        (["run", "--format", "foo"], tuple(EDIT_FORMATS)),
    ],
)
def test_cli_format_choices_come_from_the_registry(
    argv: list[str], choices: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(main, argv, input="")
    assert result.exit_code == 2
    assert all(f"'{name}'" in result.output for name in choices), result.output
