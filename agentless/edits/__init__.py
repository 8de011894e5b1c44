"""The edit engine: model replies in, file texts and a canonical diff out. Pure functions.

``apply_reply(reply, files, fmt)`` parses SEARCH/REPLACE blocks (``diff``), unified diffs
(``udiff``) or whole files (``whole``), places each edit by a ladder of matching strategies,
and returns an ``EditResult``. An edit that cannot be placed uniquely and safely is a failure
with feedback for the model, never a guess. This package imports nothing else of agentless.
"""

from agentless.edits.apply import apply_reply
from agentless.edits.data import Edit, EditFailure, EditFormatError, EditResult, FailureReason
from agentless.edits.parse import FORMATS, detect_format, parse_edits
from agentless.edits.paths import normalize as normalize_path
from agentless.edits.render import render_diff

__all__ = [
    "FORMATS",
    "Edit",
    "EditFailure",
    "EditFormatError",
    "EditResult",
    "FailureReason",
    "apply_reply",
    "detect_format",
    "normalize_path",
    "parse_edits",
    "render_diff",
]
