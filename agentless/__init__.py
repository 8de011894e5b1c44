"""agentless: agentless code repair — localize, repair as diffs, apply, validate, select.

Importing this package has no side effects and stays fast: public names are loaded lazily on
first access.
"""

from __future__ import annotations

import importlib
from typing import Any

from agentless._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "AgentlessError": "agentless.errors",
    "Config": "agentless.config",
    "load_config": "agentless.config",
    "Completion": "agentless.model",
    "Model": "agentless.model",
    "OpenAICompatibleModel": "agentless.model",
    "Usage": "agentless.model",
    "apply_reply": "agentless.edits",
    "EditResult": "agentless.edits",
    "EditFailure": "agentless.edits",
    "EditFormatError": "agentless.edits",
    "Store": "agentless.store",
    "Task": "agentless.tasks",
    "load_tasks": "agentless.tasks",
    "run_task": "agentless.pipeline",
    "TaskResult": "agentless.pipeline",
    "Workspace": "agentless.repo",
    "RepoIndex": "agentless.repo",
    "load_index": "agentless.repo",
    "index_for": "agentless.repo",
    "Localization": "agentless.localize",
    "localize_task": "agentless.localize",
}
# No top-level ``localize``: that name is the subpackage (importing it sets the attribute),
# so the function is ``agentless.localize.localize``.

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentless' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
