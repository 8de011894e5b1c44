"""Localization: which files, elements and lines an issue is about.

``localize(issue, index, model, config)`` runs retrieval and the three model stages (files ->
elements -> edit windows); ``localize_task`` adds recall against a task's gold patch, and
``describe`` renders a ``Localization`` for the terminal. A ``LocationSet`` maps a file to
the line spans of one sample's edit windows. The modules behind these names are
private.
"""

from agentless.localize._report import describe
from agentless.localize._results import (
    Attempt,
    ElementRef,
    Localization,
    LocationSet,
    RecallReport,
    StageRecord,
)
from agentless.localize._run import localize, localize_task

__all__ = [
    "Attempt",
    "ElementRef",
    "Localization",
    "LocationSet",
    "RecallReport",
    "StageRecord",
    "describe",
    "localize",
    "localize_task",
]
