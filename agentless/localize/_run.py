"""Localization of one issue: retrieval, then the three model stages, then recall metrics."""

from __future__ import annotations

from agentless.config import LocalizeConfig
from agentless.localize._metrics import gold_locations, recall_report
from agentless.localize._results import Localization
from agentless.localize._stages import localize_elements, localize_files, localize_windows
from agentless.model import Model
from agentless.repo import RepoIndex
from agentless.tasks import Task


def localize(
    issue: str, index: RepoIndex, model: Model | None, config: LocalizeConfig | None = None
) -> Localization:
    """Files, elements and location sets for ``issue``; ``model=None`` stops after retrieval."""
    config = config or LocalizeConfig()
    hits = index.search(issue, config.retrieval_top_k)
    result = Localization(retrieved=[(hit.path, hit.score) for hit in hits])
    retrieved = [hit.path for hit in hits]
    if model is None:
        result.files = retrieved[: config.top_files]
        return result
    result.files, result.model_files, files = localize_files(model, issue, index, retrieved, config)
    result.elements, elements = localize_elements(model, issue, index, result.files, config)
    result.location_sets, windows = localize_windows(model, issue, index, result.elements, config)
    result.stages = [files, elements, windows]
    return result


def localize_task(
    task: Task, index: RepoIndex, model: Model | None, config: LocalizeConfig | None = None
) -> Localization:
    """``localize`` on the task's issue, plus recall against its gold patch when it has one.

    The gold patch is read only here, after every stage has finished.
    """
    config = config or LocalizeConfig()
    result = localize(task.problem_statement, index, model, config)
    if task.patch:
        gold = gold_locations(task.patch, index)
        result.metrics = recall_report(result, gold, margin=config.context_margin)
    return result
