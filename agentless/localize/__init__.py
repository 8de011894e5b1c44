"""Localization: which files, elements and lines an issue is about.

``localize(issue, index, model, config)`` runs retrieval and the three model stages (files ->
elements -> edit windows); ``localize_task`` adds recall against a task's gold patch.
"""

from agentless.localize.results import (
    Attempt,
    ElementRef,
    Localization,
    LocationSet,
    Span,
    StageRecord,
)
from agentless.localize.run import localize, localize_task

__all__ = [
    "Attempt",
    "ElementRef",
    "Localization",
    "LocationSet",
    "Span",
    "StageRecord",
    "localize",
    "localize_task",
]
