"""What localization produces: located files, elements, location sets, and a record per stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from agentless.model import Usage
from agentless.spans import Span

LocationSet = dict[str, list[Span]]
"""Path -> spans to edit; an empty list means the whole file (nothing finer was found)."""


@dataclass(frozen=True)
class ElementRef:
    """A located class / function / method / variable (or a whole ``file``) with its span."""

    path: str
    kind: str
    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Attempt:
    """One model call of a stage: its retry round (0 = first), temperature, replies, and how
    many real things the replies named."""

    round: int
    temperature: float
    replies: list[str]
    usage: Usage
    named: int


@dataclass
class StageRecord:
    """How a stage went: attempts (retries included), prompt size, budget drops, fallback."""

    stage: str
    attempts: list[Attempt] = field(default_factory=list)
    prompt_tokens: int = 0
    dropped: list[str] = field(default_factory=list)
    fallback: str = ""

    @property
    def usage(self) -> Usage:
        """Tokens and cost of every call of this stage."""
        return sum((attempt.usage for attempt in self.attempts), Usage())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "stage": self.stage,
            "attempts": [
                {
                    "round": a.round,
                    "temperature": a.temperature,
                    "replies": a.replies,
                    "named": a.named,
                    "usage": a.usage.to_dict(),
                }
                for a in self.attempts
            ],
            "prompt_tokens": self.prompt_tokens,
            "dropped": self.dropped,
            "fallback": self.fallback,
            "usage": self.usage.to_dict(),
        }


@dataclass
class Localization:
    """The outcome of localization for one issue.

    ``retrieved`` are the BM25 files (with scores), ``model_files`` what the file stage's model
    named, ``files`` the merged ranking that the later stages used; ``location_sets`` feed
    repair, one per edit-window sample. ``metrics`` holds recall against the gold patch when
    the task has one (computed after the stages, which never see it).
    """

    retrieved: list[tuple[str, float]] = field(default_factory=list)
    model_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    elements: list[ElementRef] = field(default_factory=list)
    location_sets: list[LocationSet] = field(default_factory=list)
    stages: list[StageRecord] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def usage(self) -> Usage:
        """Tokens and cost of all stages."""
        return sum((stage.usage for stage in self.stages), Usage())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (spans as ``[start, end]`` lists)."""
        return {
            "retrieved": [[path, score] for path, score in self.retrieved],
            "model_files": self.model_files,
            "files": self.files,
            "elements": [asdict(element) for element in self.elements],
            "location_sets": [
                {path: [list(span) for span in spans] for path, spans in loc.items()}
                for loc in self.location_sets
            ],
            "stages": [stage.to_dict() for stage in self.stages],
            "metrics": self.metrics,
            "usage": self.usage.to_dict(),
        }
