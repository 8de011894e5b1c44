"""Values and protocols shared by every model implementation.

Nothing here knows about tasks, repositories or edits: a model turns chat messages into
completions and accounts for what that cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = Mapping[str, Any]
"""One chat message: ``{"role": "user", "content": "..."}``."""


def _add_cost(a: float | None, b: float | None) -> float | None:
    # Unknown plus anything stays unknown: a partial sum would understate the bill.
    if a is None or b is None:
        return None
    return a + b


@dataclass(frozen=True)
class Usage:
    """Tokens, time and money spent; additive with ``+`` and ``sum(..., Usage())``.

    ``cost`` is ``None`` when the price of the model is unknown (never a silent 0). ``latency``
    is the summed wall time of the HTTP calls, ``retries`` the number of extra attempts, and
    ``calls`` the number of logical requests (retries of one request count once).
    ``unknown`` counts the calls whose token counts the server did not report and that could
    not be taken another way: their tokens are missing from the sums, and cost is ``None``.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    latency: float = 0.0
    retries: int = 0
    calls: int = 0
    cost: float | None = 0.0
    unknown: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: object) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            latency=self.latency + other.latency,
            retries=self.retries + other.retries,
            calls=self.calls + other.calls,
            cost=_add_cost(self.cost, other.cost),
            unknown=self.unknown + other.unknown,
        )

    def __radd__(self, other: object) -> Usage:
        # Lets ``sum(usages)`` start from the integer 0.
        if other == 0:
            return self
        return self.__add__(other)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Usage:
        """Inverse of ``to_dict``; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Completion:
    """One sampled reply.

    ``text`` is the answer only; reasoning models' thinking (``reasoning_content``, or a
    leading ``<think>`` block) is kept apart in ``reasoning``. ``usage`` is this completion's
    share of its HTTP call: summing the usages of all completions a ``complete()`` returned
    gives the totals of the calls made. ``cached`` is true when the reply came from the run
    store instead of the server (its usage is what the original call cost).
    """

    text: str
    finish_reason: str | None = "stop"
    usage: Usage = field(default_factory=Usage)
    reasoning: str = ""
    index: int = 0
    model: str = ""
    cached: bool = False

    @property
    def truncated(self) -> bool:
        """True when generation stopped at the token limit (``finish_reason == "length"``)."""
        return self.finish_reason == "length"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``cached`` is not stored: it describes one retrieval)."""
        data = dataclasses.asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, cached: bool = False) -> Completion:
        """Inverse of ``to_dict``."""
        return cls(
            text=str(data.get("text", "")),
            finish_reason=data.get("finish_reason"),
            usage=Usage.from_dict(data.get("usage") or {}),
            reasoning=str(data.get("reasoning", "")),
            index=int(data.get("index", 0)),
            model=str(data.get("model", "")),
            cached=cached,
        )


@runtime_checkable
class Model(Protocol):
    """Anything that turns chat messages into ``n`` completions."""

    @property
    def name(self) -> str:
        """The model name, as used in predictions files and reports."""
        ...

    def complete(
        self,
        messages: Sequence[Message],
        *,
        n: int = 1,
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
        stage: str = "",
        **kw: Any,
    ) -> list[Completion]:
        """Return exactly ``n`` completions for ``messages``, or raise a ``ModelError``.
        ``stage`` names the pipeline step asking (``localize_files``, ``repair``, ...): the
        store and the usage per stage are keyed by it."""
        ...


@dataclass(frozen=True)
class CallRecord:
    """One logical model request (retries included), as handed to a ``CallRecorder``.

    ``request`` is the JSON body that was sent, without any credential; ``completions``
    carry their sample indices; ``error`` is empty on success.
    """

    key: str
    stage: str
    model: str
    url: str
    request: Mapping[str, Any]
    completions: Sequence[Completion]
    usage: Usage
    status: int | None = None
    error: str = ""
    started_at: float = 0.0


@runtime_checkable
class CallRecorder(Protocol):
    """Where a model records its calls and finds earlier replies (the run store is one).

    Defined here, satisfied structurally, so that ``model/`` never imports the store.
    """

    def cached_samples(self, key: str, n: int) -> dict[int, Completion]:
        """Earlier completions for request ``key`` with sample index below ``n``."""
        ...

    def record_call(self, call: CallRecord) -> object:
        """Persist one call (successful or not) and cache its completions by index.

        The return value (the store returns the row id) is ignored by models.
        """
        ...
