"""Recall of each localization stage against a gold patch.

Used after localization, for tasks that have a gold patch; no stage ever sees it. The truth is
the set of files the patch changes, the functions (methods, classes) enclosing its changed lines
in the original files, and those lines themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile

from agentless.localize._results import (
    ElementRef,
    Localization,
    LocationSet,
    RecallReport,
)
from agentless.repo import Element, RepoIndex, walk_elements

KS = (1, 3, 5)


@dataclass
class GoldLocations:
    """Where a gold patch changes the original code."""

    files: list[str] = field(default_factory=list)
    lines: dict[str, set[int]] = field(default_factory=dict)
    functions: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    @property
    def function_count(self) -> int:
        return sum(len(names) for names in self.functions.values())


def gold_locations(patch: str, index: RepoIndex) -> GoldLocations:
    """Files, changed original lines and enclosing definitions of ``patch``."""
    gold = GoldLocations()
    try:
        patched = PatchSet(patch)
    except UnidiffParseError:
        return gold
    for patched_file in patched:
        path = patched_file.source_file.removeprefix("a/")
        if patched_file.is_added_file:
            path = patched_file.target_file.removeprefix("b/")
        gold.files.append(path)
        lines = _changed_lines(patched_file)
        gold.lines[path] = lines
        if path in index.files:
            gold.functions[path] = _enclosing(index.skeleton(path), lines)
    return gold


def _changed_lines(patched_file: PatchedFile) -> set[int]:
    """Original line numbers removed, or next to which lines were added."""
    lines: set[int] = set()
    for hunk in patched_file:
        previous = hunk.source_start
        for line in hunk:
            if line.source_line_no is not None:
                previous = line.source_line_no
                if line.is_removed:
                    lines.add(previous)
            elif line.is_added:
                lines.add(max(1, previous))
    return lines


def _enclosing(elements: Sequence[Element], lines: Iterable[int]) -> dict[str, tuple[int, int]]:
    """Innermost function, method or class around each line (module-level lines count none)."""
    spans = [e for e in walk_elements(list(elements)) if e.kind != "variable"]
    found: dict[str, tuple[int, int]] = {}
    for line in lines:
        around = [e for e in spans if e.start <= line <= e.end]
        if around:
            inner = min(around, key=lambda e: e.end - e.start)
            found[inner.name] = (inner.start, inner.end)
    return found


# --- recall --------------------------------------------------------------------------------


def recall_report(localization: Localization, gold: GoldLocations, margin: int = 0) -> RecallReport:
    """File / function / line recall of each stage (fractions in 0..1)."""
    if not gold.files:
        return {}
    retrieved = [path for path, _ in localization.retrieved]
    report: RecallReport = {
        "gold_files": gold.files,
        "gold_functions": {p: sorted(names) for p, names in gold.functions.items()},
        "retrieval": {f"file_recall@{k}": file_recall(retrieved[:k], gold) for k in KS},
    }
    if not localization.stages:  # retrieval only: no model stage to measure
        return report
    report["files"] = {
        "model_file_recall": file_recall(localization.model_files, gold),
        "file_recall": file_recall(localization.files, gold),
    }
    report["elements"] = {
        "file_recall": file_recall([e.path for e in localization.elements], gold),
        "function_recall": element_function_recall(localization.elements, gold),
    }
    sets = localization.location_sets
    if sets:
        union: LocationSet = {}
        for location in sets:
            for path, spans in location.items():
                union.setdefault(path, []).extend(spans)
        report["windows"] = {
            "file_recall": file_recall(list(union), gold),
            "function_recall": span_function_recall(union, gold),
            "line_recall": line_recall(union, gold, margin),
            "per_set_function_recall": [span_function_recall(s, gold) for s in sets],
        }
    return report


def file_recall(paths: Sequence[str], gold: GoldLocations) -> float:
    """Share of gold files among ``paths``."""
    return len(set(paths) & set(gold.files)) / len(gold.files) if gold.files else 0.0


def element_function_recall(elements: Sequence[ElementRef], gold: GoldLocations) -> float | None:
    """Share of gold functions named (a located class covers its methods)."""
    if not gold.function_count:
        return None
    hit = 0
    for path, names in gold.functions.items():
        located = [e.name for e in elements if e.path == path]
        for name in names:
            if any(name == other or name.startswith(other + ".") for other in located) or any(
                e.kind == "file" for e in elements if e.path == path
            ):
                hit += 1
    return hit / gold.function_count


def span_function_recall(location: LocationSet, gold: GoldLocations) -> float | None:
    """Share of gold functions that some span overlaps (a whole-file entry covers all)."""
    if not gold.function_count:
        return None
    hit = 0
    for path, names in gold.functions.items():
        spans = location.get(path)
        if spans is None:
            continue
        for start, end in names.values():
            if not spans or any(s <= end and start <= e for s, e in spans):
                hit += 1
    return hit / gold.function_count


def line_recall(location: LocationSet, gold: GoldLocations, margin: int = 0) -> float | None:
    """Share of changed original lines inside the spans (widened by ``margin``)."""
    total = sum(len(lines) for lines in gold.lines.values())
    if not total:
        return None
    hit = 0
    for path, lines in gold.lines.items():
        spans = location.get(path)
        if spans is None:
            continue
        hit += sum(
            1
            for line in lines
            if not spans or any(s - margin <= line <= e + margin for s, e in spans)
        )
    return hit / total
