"""A model that answers nothing and remembers every prompt: ``agentless run --dry-run``.

The pipeline runs for real against it (retrieval, fallbacks, prompt assembly), so the prompts
shown are the ones a real run would send first, with their estimated token counts, and no
server is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentless.model._types import Completion, Message, Usage


@dataclass(frozen=True)
class PromptRecord:
    """One request the pipeline would have sent."""

    stage: str
    messages: list[dict[str, str]]
    n: int
    temperature: float | None


class DryRunModel:
    """Records prompts; every completion is empty, so stages fall back as they would on a
    model that names nothing."""

    def __init__(self, name: str = "dry-run") -> None:
        self._name = name
        self.prompts: list[PromptRecord] = []

    @property
    def name(self) -> str:
        return self._name

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
        copied = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
        self.prompts.append(PromptRecord(stage, copied, n, temperature))
        return [Completion(text="", usage=Usage(calls=1), index=i) for i in range(n)]
