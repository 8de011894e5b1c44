"""Prompt templates: one Jinja2 file per prompt, kept in the top-level ``prompts/`` folder.

In a wheel the folder ships as ``agentless/prompts``; in a source checkout it sits beside the
package. Undefined variables are errors, so a renamed field cannot silently empty a prompt.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from agentless.errors import ConfigError


def prompts_dir() -> Path:
    """Where the prompt templates live (installed wheel first, then the source tree)."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "prompts", package.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError("prompt templates not found: reinstall agentless-repair")


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(prompts_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **variables: Any) -> str:
    """Render ``prompts/<name>`` with ``variables``; a missing template or variable raises."""
    try:
        return _environment().get_template(name).render(**variables)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"no prompt template named {name!r} in {prompts_dir()}") from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"prompt {name!r}: {exc.message}") from None
