"""Human-readable text of a localization (for ``agentless localize``)."""

from __future__ import annotations

from collections.abc import Mapping

from agentless.localize._results import Localization
from agentless.model import Usage


def describe(result: Localization) -> list[str]:
    """Lines describing every stage's output, its cost, and recall when known."""
    lines = ["retrieval (BM25):"]
    lines += [
        f"  {n}. {path}  ({score:.2f})" for n, (path, score) in enumerate(result.retrieved, 1)
    ]
    records = {record.stage: record for record in result.stages}
    if "files" in records:
        lines.append(f"files{_status(records['files'].fallback)}:")
        chosen = set(result.model_files)
        lines += [
            f"  {n}. {p}{'  (model)' if p in chosen else ''}" for n, p in enumerate(result.files, 1)
        ]
    if "elements" in records:
        lines.append(f"elements{_status(records['elements'].fallback)}:")
        lines += [
            f"  {e.path}: {e.kind} {e.name or '(whole file)'} (lines {e.start}-{e.end})"
            for e in result.elements
        ]
    if "windows" in records:
        lines.append(f"location sets{_status(records['windows'].fallback)}:")
        for n, location in enumerate(result.location_sets, 1):
            parts = [
                f"{path}: "
                + (", ".join(f"{s}-{e}" if s != e else str(s) for s, e in spans) or "whole file")
                for path, spans in location.items()
            ]
            lines.append(f"  #{n} " + "; ".join(parts))
    for record in result.stages:
        lines.append(f"cost of {record.stage}: {_cost(record.usage)}")
    lines.append(f"total cost: {_cost(result.usage)}")
    if result.metrics:
        lines.append("recall against the gold patch:")
        lines += _metrics(result.metrics)
    return lines


def _status(fallback: str) -> str:
    return f" [fallback: {fallback}]" if fallback else ""


def _cost(usage: Usage) -> str:
    money = "unknown price" if usage.cost is None else f"${usage.cost:.4f}"
    return (
        f"calls {usage.calls}, prompt tokens {usage.prompt_tokens} ({usage.cached_tokens} cached), "
        f"completion tokens {usage.completion_tokens}, {money}"
    )


def _metrics(metrics: Mapping[str, object]) -> list[str]:
    lines = []
    for stage in ("retrieval", "files", "elements", "windows"):
        values = metrics.get(stage)
        if isinstance(values, dict):
            shown = ", ".join(
                f"{name} {value:.2f}" if isinstance(value, float) else f"{name} {value}"
                for name, value in values.items()
            )
            lines.append(f"  {stage}: {shown}")
    return lines
