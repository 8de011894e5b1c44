"""Test helpers shipped with the package: a scripted OpenAI-compatible server on loopback.

``ScriptedServer`` replays ``Reply`` s (or ``Fault`` s) and records each ``RecordedRequest``.
``make_repo`` / ``make_dataset`` write small real repositories with a known bug and the dataset
rows that point at them, ``script_server`` teaches a server to fix them, ``unittest_recipe`` is
their validation recipe and ``TEST_CMD`` their test command (pytest without plugins:
``LEAN_PYTEST``). ``reference_files`` / ``reference_reply`` turn an exercise's reference
solution into files or a reply in an edit format (``reference_blocker`` says why one cannot be
used). Names load on first use; the modules behind them are private.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentless.testing._reference import reference_blocker, reference_files, reference_reply
    from agentless.testing._server import Fault, RecordedRequest, Reply, ScriptedServer
    from agentless.testing._tasks import (
        LEAN_PYTEST,
        TEST_CMD,
        make_dataset,
        make_repo,
        script_server,
        unittest_recipe,
    )

_EXPORTS = {
    "Fault": ("agentless.testing._server", "Fault"),
    "LEAN_PYTEST": ("agentless.testing._tasks", "LEAN_PYTEST"),
    "RecordedRequest": ("agentless.testing._server", "RecordedRequest"),
    "Reply": ("agentless.testing._server", "Reply"),
    "ScriptedServer": ("agentless.testing._server", "ScriptedServer"),
    "TEST_CMD": ("agentless.testing._tasks", "TEST_CMD"),
    "make_dataset": ("agentless.testing._tasks", "make_dataset"),
    "make_repo": ("agentless.testing._tasks", "make_repo"),
    "reference_blocker": ("agentless.testing._reference", "reference_blocker"),
    "reference_files": ("agentless.testing._reference", "reference_files"),
    "reference_reply": ("agentless.testing._reference", "reference_reply"),
    "script_server": ("agentless.testing._tasks", "script_server"),
    "unittest_recipe": ("agentless.testing._tasks", "unittest_recipe"),
}

__all__ = [
    "LEAN_PYTEST",
    "TEST_CMD",
    "Fault",
    "RecordedRequest",
    "Reply",
    "ScriptedServer",
    "make_dataset",
    "make_repo",
    "reference_blocker",
    "reference_files",
    "reference_reply",
    "script_server",
    "unittest_recipe",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'agentless.testing' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
