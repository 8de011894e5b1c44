"""The edit engine: model replies in, file texts and a canonical diff out. Pure functions.

``apply_reply(reply, files, fmt)`` parses SEARCH/REPLACE blocks (``diff``), unified diffs
(``udiff``) or whole files (``whole``), places each edit by a ladder of matching strategies,
and returns an ``EditResult``. An edit that cannot be placed uniquely and safely is a failure
with feedback for the model, never a guess. The formats are registered in ``EDIT_FORMATS``.
This package imports nothing else of agentless but its exception tree (``EditFormatError`` is
an ``AgentlessError``); names load on first use, so that reading the format registry is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentless.edits.apply import apply_reply
    from agentless.edits.data import Edit, EditFailure, EditFormatError, EditResult, FailureReason
    from agentless.edits.formats import EDIT_FORMATS, FORMATS, EditFormat, EditFormatName
    from agentless.edits.parse import detect_format, parse_edits
    from agentless.edits.paths import normalize as normalize_path
    from agentless.edits.render import render_diff

_EXPORTS = {
    "EDIT_FORMATS": ("agentless.edits.formats", "EDIT_FORMATS"),
    "FORMATS": ("agentless.edits.formats", "FORMATS"),
    "Edit": ("agentless.edits.data", "Edit"),
    "EditFailure": ("agentless.edits.data", "EditFailure"),
    "EditFormat": ("agentless.edits.formats", "EditFormat"),
    "EditFormatError": ("agentless.edits.data", "EditFormatError"),
    "EditFormatName": ("agentless.edits.formats", "EditFormatName"),
    "EditResult": ("agentless.edits.data", "EditResult"),
    "FailureReason": ("agentless.edits.data", "FailureReason"),
    "apply_reply": ("agentless.edits.apply", "apply_reply"),
    "detect_format": ("agentless.edits.parse", "detect_format"),
    "normalize_path": ("agentless.edits.paths", "normalize"),
    "parse_edits": ("agentless.edits.parse", "parse_edits"),
    "render_diff": ("agentless.edits.render", "render_diff"),
}

__all__ = [
    "EDIT_FORMATS",
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
    "normalize_path",
    "parse_edits",
    "render_diff",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'agentless.edits' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
