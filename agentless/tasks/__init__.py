"""Tasks: what to repair. SWE-bench rows, Aider-style exercise folders, a local repo + issue."""

from agentless.tasks.loaders import load_tasks, local_task, select_instances
from agentless.tasks.model import Task

__all__ = ["Task", "load_tasks", "local_task", "select_instances"]
