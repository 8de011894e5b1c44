"""Localization of one issue: retrieval, then the three model stages, then recall metrics."""

from __future__ import annotations

import dataclasses

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
    retrieved = [(hit.path, hit.score) for hit in hits]
    ranked = [hit.path for hit in hits]
    if model is None:
        return Localization(retrieved=retrieved, files=ranked[: config.top_files])
    files, model_files, files_record = localize_files(model, issue, index, ranked, config)
    elements, elements_record = localize_elements(model, issue, index, files, config)
    location_sets, windows_record = localize_windows(model, issue, index, elements, config)
    return Localization(
        retrieved=retrieved,
        model_files=model_files,
        files=files,
        elements=elements,
        location_sets=location_sets,
        stages=[files_record, elements_record, windows_record],
    )


def localize_task(
    task: Task, index: RepoIndex, model: Model | None, config: LocalizeConfig | None = None
) -> Localization:
    """``localize`` on the task's issue, plus recall against its gold patch when it has one.

    The gold patch is read only here, after every stage has finished.
    """
    config = config or LocalizeConfig()
    result = localize(task.problem_statement, index, model, config)
    if not task.patch:
        return result
    gold = gold_locations(task.patch, index)
    return dataclasses.replace(
        result, metrics=recall_report(result, gold, margin=config.context_margin)
    )
