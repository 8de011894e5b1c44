"""What localization produces: located files, elements, location sets, and a record per stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TypedDict

from agentless._jsonform import JSONMapping, JSONObject
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

    @classmethod
    def from_dict(cls, data: JSONMapping) -> Attempt:
        """Inverse of the entries ``StageRecord.to_dict`` writes."""
        return cls(
            round=int(data["round"]),
            temperature=float(data["temperature"]),
            replies=list(data.get("replies", [])),
            usage=Usage.from_dict(data.get("usage", {})),
            named=int(data.get("named", 0)),
        )


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

    def to_dict(self) -> JSONObject:
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

    @classmethod
    def from_dict(cls, data: JSONMapping) -> StageRecord:
        """Inverse of ``to_dict`` (the summed ``usage`` is derived, not read)."""
        return cls(
            stage=str(data["stage"]),
            attempts=[Attempt.from_dict(a) for a in data.get("attempts", [])],
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            dropped=list(data.get("dropped", [])),
            fallback=str(data.get("fallback", "")),
        )


class FilesRecall(TypedDict, total=False):
    """Recall of the file stage: what its model named, and the merged ranking."""

    model_file_recall: float
    file_recall: float


class ElementsRecall(TypedDict, total=False):
    """Recall of the element stage (``function_recall`` is ``None`` without gold functions)."""

    file_recall: float
    function_recall: float | None


class WindowsRecall(TypedDict, total=False):
    """Recall of the edit windows, over their union and per location set."""

    file_recall: float
    function_recall: float | None
    line_recall: float | None
    per_set_function_recall: list[float | None]


class RecallReport(TypedDict, total=False):
    """Recall of each stage against a gold patch (fractions in 0..1); empty without one.
    ``retrieval`` maps ``file_recall@K`` to the recall of the top K retrieved files; the model
    stages appear only when they ran. Already its JSON form."""

    gold_files: list[str]
    gold_functions: dict[str, list[str]]
    retrieval: dict[str, float]
    files: FilesRecall
    elements: ElementsRecall
    windows: WindowsRecall


@dataclass(frozen=True)
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
    metrics: RecallReport = field(default_factory=lambda: RecallReport())

    @property
    def usage(self) -> Usage:
        """Tokens and cost of all stages."""
        return sum((stage.usage for stage in self.stages), Usage())

    def to_dict(self) -> JSONObject:
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

    @classmethod
    def from_dict(cls, data: JSONMapping) -> Localization:
        """Inverse of ``to_dict`` (spans and scores as tuples again; ``usage`` is derived)."""
        return cls(
            retrieved=[(str(path), float(score)) for path, score in data.get("retrieved", [])],
            model_files=list(data.get("model_files", [])),
            files=list(data.get("files", [])),
            elements=[ElementRef(**element) for element in data.get("elements", [])],
            location_sets=[
                {path: [(int(s), int(e)) for s, e in spans] for path, spans in loc.items()}
                for loc in data.get("location_sets", [])
            ],
            stages=[StageRecord.from_dict(stage) for stage in data.get("stages", [])],
            metrics=RecallReport(**data.get("metrics", {})),
        )
