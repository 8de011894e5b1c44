"""Read tasks from SWE-bench files (JSON, JSONL, parquet), exercise folders or a local repo."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from agentless.errors import TaskError
from agentless.tasks._exercises import exercise_task, find_exercises
from agentless.tasks._model import Task
from agentless.tasks._text import decoded


def load_tasks(path: str | Path) -> list[Task]:
    """Load every task in ``path``.

    A ``.json`` / ``.jsonl`` / ``.parquet`` file holds SWE-bench rows; a folder holds exercises
    (one exercise folder with ``.meta/config.json``, or a folder of them, searched recursively).
    """
    path = Path(path)
    if not path.exists():
        raise TaskError(f"task file or folder not found: {path}")
    if path.is_dir():
        return load_exercises(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = list(_read_jsonl(path))
    elif suffix == ".json":
        rows = _read_json(path)
    elif suffix == ".parquet":
        rows = _read_parquet(path)
    else:
        raise TaskError(
            f"unknown task file type {suffix!r} for {path}: use .json, .jsonl or .parquet"
        )
    return [_row_to_task(row, path, n) for n, row in enumerate(rows, 1)]


def select_instances(tasks: Sequence[Task], ids: Iterable[str] | None) -> list[Task]:
    """Keep the tasks named in ``ids`` (in dataset order); unknown ids are an error."""
    if not ids:
        return list(tasks)
    wanted = list(dict.fromkeys(ids))
    known = {task.instance_id for task in tasks}
    missing = [i for i in wanted if i not in known]
    if missing:
        raise TaskError(f"instance id(s) not in the dataset: {', '.join(missing)}")
    chosen = set(wanted)
    return [task for task in tasks if task.instance_id in chosen]


def local_task(
    repo: str | Path,
    issue: str,
    *,
    test_cmd: str = "",
    instance_id: str = "",
    commit: str = "",
) -> Task:
    """A task for a user's own repository: ``issue`` is the issue text or a file holding it;
    ``commit`` the commit to repair ('' = the current HEAD, or the folder as it is)."""
    repo_path = Path(repo).resolve()
    if not repo_path.is_dir():
        raise TaskError(f"repository folder not found: {repo}")
    text = _issue_text(issue)
    return Task(
        instance_id=instance_id or repo_path.name,
        repo=str(repo_path),
        base_commit=commit,
        problem_statement=text,
        kind="local",
        test_cmd=test_cmd,
    )


_FILE_LIKE = re.compile(r"^\S+\.(md|txt|rst|markdown|issue|text)$|^\S*[/\\]\S*$", re.IGNORECASE)


def _issue_text(issue: str) -> str:
    """The issue itself: the file it names, else the text; a missing file that looks like a
    path (one word ending in .md/.txt/..., or holding a slash) is an error, not issue text."""
    one_line = len(issue) < 4096 and "\n" not in issue
    path = Path(issue)
    if one_line and path.is_file():
        text = decoded(path)
    elif one_line and _FILE_LIKE.match(issue.strip()):
        raise TaskError(
            f"issue file not found: {issue} (give an existing file, or the issue text itself "
            "in quotes)"
        )
    else:
        text = issue
    if not text.strip():
        raise TaskError("the issue text is empty: pass --issue with a file or the text itself")
    return text


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise TaskError(f"{path}:{lineno}: not UTF-8 (byte {exc.start})") from None
            except json.JSONDecodeError as exc:
                raise TaskError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise TaskError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise TaskError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise TaskError(f"{path}: expected a JSON object or a list of rows")


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TaskError(
            f"reading {path} needs pyarrow: pip install 'agentless-repair[parquet]' "
            "(or convert it to JSONL)"
        ) from None
    return list(pq.read_table(path).to_pylist())


def _row_to_task(row: Any, path: Path, n: int) -> Task:
    if not isinstance(row, dict):
        raise TaskError(f"{path}: row {n} is not a JSON object")
    ident = row.get("instance_id", f"row {n}")
    try:
        task = Task.model_validate(row)
    except PydanticValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise TaskError(f"{path}: {ident}: missing or invalid field(s): {fields}") from None
    if not task.problem_statement.strip():
        raise TaskError(
            f"{path}: {ident}: problem_statement is empty (the model would have nothing to "
            "repair); fix the row or leave it out with --instances"
        )
    return task


def load_exercises(root: Path) -> list[Task]:
    """Aider/Exercism-style exercises (folders with ``.meta/config.json`` and ``.docs/``), read
    by the exercise benchmark's reader: ids are ``language__name``, every file of each role."""
    return [exercise_task(exercise) for exercise in find_exercises(root)]
