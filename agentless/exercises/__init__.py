"""The Aider-style exercise benchmark: exercise folders solved with edits in a chosen format.

``run_exercise(task, model, config)`` solves one exercise (tries, reflections, sandboxed test
runs) and returns an ``ExerciseResult``; ``summarize`` turns results into Aider's metrics,
``render_markdown`` shows them and ``table`` lays them out as rows. ``agentless.runner.run_exercises``
runs a whole benchmark on the runner's scheduler (resume, progress, executors); exercise folders
are read by ``agentless.tasks`` (``exercise_tasks``, ``read_exercise``). ``LANGUAGES`` maps a
track's name to its ``Language`` (how to set up and test it). The modules behind these names
are private.
"""

from agentless.exercises._languages import LANGUAGES, Language, Setup, language_for, missing_crates
from agentless.exercises._metrics import plot_data, render_markdown, summarize, table
from agentless.exercises._result import ExerciseResult, ReplyRecord, TryRecord, describe
from agentless.exercises._run import ExerciseServices, Progress, run_exercise, system_prompt
from agentless.exercises._testrun import TestOutcome

__all__ = [
    "LANGUAGES",
    "ExerciseResult",
    "ExerciseServices",
    "Language",
    "Progress",
    "ReplyRecord",
    "Setup",
    "TestOutcome",
    "TryRecord",
    "describe",
    "language_for",
    "missing_crates",
    "plot_data",
    "render_markdown",
    "run_exercise",
    "summarize",
    "system_prompt",
    "table",
]
