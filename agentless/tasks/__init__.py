"""Tasks: what to repair. SWE-bench rows, Aider-style exercise folders, a local repo + issue.

``load_tasks(path)`` reads SWE-bench rows (JSON, JSONL, parquet) and exercise folders;
``local_task`` makes one task of a local repository and an issue. An exercise folder is read as
an ``Exercise`` (``read_exercise``, ``find_exercises``); ``HIDDEN_FOLDERS`` are its folders that
belong to the track (the reference solution), never shown to the model. The modules behind
these names are private.
"""

from agentless.tasks._exercises import (
    HIDDEN_FOLDERS,
    Exercise,
    exercise_of,
    exercise_task,
    exercise_tasks,
    find_exercises,
    read_exercise,
)
from agentless.tasks._loaders import load_tasks, local_task, select_instances
from agentless.tasks._model import Task

__all__ = [
    "HIDDEN_FOLDERS",
    "Exercise",
    "Task",
    "exercise_of",
    "exercise_task",
    "exercise_tasks",
    "find_exercises",
    "load_tasks",
    "local_task",
    "read_exercise",
    "select_instances",
]
