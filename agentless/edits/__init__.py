"""The edit engine: model replies in, file texts and a canonical diff out. Pure functions.

``apply_reply(reply, files, fmt)`` parses SEARCH/REPLACE blocks (``diff``), unified diffs
(``udiff``) or whole files (``whole``), places each edit by a ladder of matching strategies,
and returns an ``EditResult``. An edit that cannot be placed uniquely and safely is a failure
with feedback for the model, never a guess. The formats are registered in ``EDIT_FORMATS``.
This package imports nothing else of agentless but its exception tree (``EditFormatError`` is
an ``AgentlessError``); names load on first use, so that reading the format registry is cheap.
``FORMATS`` lists the format names ``apply_reply`` accepts (``EditFormatName`` is the type of
a registered one); ``FailureReason`` is why an edit failed; ``EXAMPLE_FOLDER`` is the folder the
prompts' format illustrations use, which no repository has; ``is_placeholder`` tells a comment
that stands for omitted code. The modules behind these names are private.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentless.edits._apply import apply_reply
    from agentless.edits._data import Edit, EditFailure, EditFormatError, EditResult, FailureReason
    from agentless.edits._formats import EDIT_FORMATS, FORMATS, EditFormat, EditFormatName
    from agentless.edits._lazy import is_placeholder
    from agentless.edits._parse import detect_format, parse_edits
    from agentless.edits._paths import EXAMPLE_FOLDER
    from agentless.edits._paths import normalize as normalize_path
    from agentless.edits._render import render_diff

_EXPORTS = {
    "EXAMPLE_FOLDER": ("agentless.edits._paths", "EXAMPLE_FOLDER"),
    "EDIT_FORMATS": ("agentless.edits._formats", "EDIT_FORMATS"),
    "FORMATS": ("agentless.edits._formats", "FORMATS"),
    "Edit": ("agentless.edits._data", "Edit"),
    "EditFailure": ("agentless.edits._data", "EditFailure"),
    "EditFormat": ("agentless.edits._formats", "EditFormat"),
    "EditFormatError": ("agentless.edits._data", "EditFormatError"),
    "EditFormatName": ("agentless.edits._formats", "EditFormatName"),
    "EditResult": ("agentless.edits._data", "EditResult"),
    "FailureReason": ("agentless.edits._data", "FailureReason"),
    "apply_reply": ("agentless.edits._apply", "apply_reply"),
    "detect_format": ("agentless.edits._parse", "detect_format"),
    "is_placeholder": ("agentless.edits._lazy", "is_placeholder"),
    "normalize_path": ("agentless.edits._paths", "normalize"),
    "parse_edits": ("agentless.edits._parse", "parse_edits"),
    "render_diff": ("agentless.edits._render", "render_diff"),
}

__all__ = [
    "EDIT_FORMATS",
    "EXAMPLE_FOLDER",
    "FORMATS",
    "Edit",
    "EditFailure",
    "EditFormat",
    "EditFormatError",
    "EditFormatName",
    "EditResult",
    "FailureReason",
    "apply_reply",
    "detect_format",
    "is_placeholder",
    "normalize_path",
    "parse_edits",
    "render_diff",
]


def __getattr__(name: str) -> object:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'agentless.edits' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
