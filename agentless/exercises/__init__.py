"""The Aider-style exercise benchmark: exercise folders solved with edits in a chosen format.

``run_exercise(task, model, config)`` solves one exercise (tries, reflections, sandboxed test
runs) and returns an ``ExerciseResult``; ``summarize`` turns results into Aider's metrics and
``render_markdown`` shows them. ``agentless.runner.run_exercises`` runs a whole benchmark on
the runner's scheduler (resume, progress, executors); exercise folders are read by
``agentless.tasks.exercises``.
"""

from agentless.exercises.languages import LANGUAGES, Language, Setup, language_for
from agentless.exercises.metrics import plot_data, render_markdown, summarize
from agentless.exercises.result import ExerciseResult, ReplyRecord, TryRecord, describe
from agentless.exercises.run import ExerciseServices, Progress, run_exercise, system_prompt
from agentless.exercises.testrun import TestOutcome
from agentless.tasks.exercises import (
    Exercise,
    exercise_of,
    exercise_task,
    exercise_tasks,
    find_exercises,
    read_exercise,
)

__all__ = [
    "LANGUAGES",
    "Exercise",
    "ExerciseResult",
    "ExerciseServices",
    "Language",
    "Progress",
    "ReplyRecord",
    "Setup",
    "TestOutcome",
    "TryRecord",
    "describe",
    "exercise_of",
    "exercise_task",
    "exercise_tasks",
    "find_exercises",
    "language_for",
    "plot_data",
    "read_exercise",
    "render_markdown",
    "run_exercise",
    "summarize",
    "system_prompt",
]
