"""Running tasks with a run directory: the store, the model with its call log, result files.

A run directory holds ``store.db`` (every model call, the response cache, every result),
``predictions.jsonl`` (SWE-bench form, one row per task, latest wins) and per task
``<instance>/result.json`` and ``<instance>/patch.diff``. Re-running into the same directory
answers repeated model requests from the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agentless.config import Config
from agentless.errors import ConfigError
from agentless.model import DryRunModel, Model, OpenAICompatibleModel, PromptRecord
from agentless.pipeline import Services, TaskResult, run_task
from agentless.store import Store
from agentless.tasks import Task
from agentless.tokens import count_message_tokens


def require_model(config: Config) -> None:
    """Fail early, saying what to set, when no model is configured."""
    if not config.model.name:
        raise ConfigError(
            "no model configured: set AGENTLESS_MODEL and OPENAI_BASE_URL (and OPENAI_API_KEY "
            "if the server needs one), or pass --model NAME --base-url URL; "
            "`agentless doctor` checks the endpoint"
        )


def open_model(config: Config, store: Store) -> Model:
    """The configured model, recording every call in ``store`` and answering repeats from it."""
    require_model(config)
    return OpenAICompatibleModel.from_config(config.model, store, use_cache=config.run.use_cache)


@dataclass(frozen=True)
class RunOutcome:
    """A finished task run and where its files are."""

    result: TaskResult
    run_dir: Path
    task_dir: Path


def run_one(
    task: Task, config: Config, run_dir: Path, *, services: Services | None = None
) -> RunOutcome:
    """Run ``task`` with its results and model calls kept in ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with Store.for_run(run_dir) as store:
        store.set_meta("config", config.model_dump(mode="json", exclude={"model": {"api_key"}}))
        model = open_model(config, store)
        result = run_task(task, model, config, services=services)
        store.save_result(task.instance_id, result.patch, result.to_dict())
    task_dir = write_result_files(run_dir, result)
    return RunOutcome(result, run_dir, task_dir)


def write_result_files(run_dir: Path, result: TaskResult) -> Path:
    """``result.json``, ``patch.diff`` and the task's row in ``predictions.jsonl``."""
    task_dir = run_dir / _safe(result.instance_id)
    task_dir.mkdir(parents=True, exist_ok=True)
    (task_dir / "result.json").write_text(json.dumps(result.to_dict(), indent=2), "utf-8")
    (task_dir / "patch.diff").write_text(result.patch, "utf-8")
    predictions = run_dir / "predictions.jsonl"
    rows = []
    if predictions.is_file():
        rows = [json.loads(line) for line in predictions.read_text("utf-8").splitlines() if line]
    rows = [row for row in rows if row.get("instance_id") != result.instance_id]
    rows.append(result.prediction())
    text = "".join(json.dumps(row) + "\n" for row in rows)
    tmp = predictions.with_suffix(".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(predictions)
    return task_dir


def dry_run(
    task: Task, config: Config, *, services: Services | None = None
) -> tuple[list[tuple[PromptRecord, int]], int]:
    """The distinct prompts a run would send first, each with its estimated token count, and
    the estimated prompt tokens of every request (samples included). No model is called and no
    test runs."""
    model = DryRunModel(config.model.name or "dry-run")
    # Empty replies would only add retries and reflections; count the first-round requests.
    quiet = config.model_copy(
        update={
            "repair": config.repair.model_copy(update={"reflections": 0}),
            "localize": config.localize.model_copy(update={"max_retries": 0}),
        }
    )
    run_task(task, model, quiet, services=services, validate=False)
    unique: dict[str, tuple[PromptRecord, int]] = {}
    total = 0
    for record in model.prompts:
        tokens = count_message_tokens(record.messages)
        total += tokens
        unique.setdefault(json.dumps(record.messages), (record, tokens))
    return list(unique.values()), total


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._+-" else "_" for ch in name) or "task"
