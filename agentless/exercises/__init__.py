"""The Aider-style exercise benchmark: exercise folders solved with edits in a chosen format.

``run_exercise(task, model, config)`` solves one exercise (tries, reflections, sandboxed test
runs) and returns an ``ExerciseResult``; ``summarize`` turns results into Aider's metrics and
``render_markdown`` shows them. ``run_exercises`` is the command's small scheduler.
"""

from agentless.exercises.languages import LANGUAGES, Language, Setup
from agentless.exercises.loop import exercise_tasks, run_exercises, write_metrics
from agentless.exercises.metrics import plot_data, render_markdown, summarize
from agentless.exercises.result import ExerciseResult, ReplyRecord, TryRecord
from agentless.exercises.run import ExerciseServices, run_exercise, system_prompt
from agentless.exercises.spec import (
    Exercise,
    exercise_of,
    exercise_task,
    find_exercises,
    read_exercise,
)
from agentless.exercises.testrun import TestOutcome

__all__ = [
    "LANGUAGES",
    "Exercise",
    "ExerciseResult",
    "ExerciseServices",
    "Language",
    "ReplyRecord",
    "Setup",
    "TestOutcome",
    "TryRecord",
    "exercise_of",
    "exercise_task",
    "exercise_tasks",
    "find_exercises",
    "plot_data",
    "read_exercise",
    "render_markdown",
    "run_exercise",
    "run_exercises",
    "summarize",
    "system_prompt",
    "write_metrics",
]
