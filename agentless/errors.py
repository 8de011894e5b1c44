"""One exception hierarchy for the whole package.

Outcomes (a patch that does not apply, a failing test, a malformed reply) are data and are
returned; the exceptions below are for failures the caller must act on. Each message says what
to do next.

    AgentlessError
    ├── ConfigError                 bad or missing configuration, bad CLI input
    ├── TaskError                   a task file or row that cannot be read
    ├── ModelError                  the model endpoint failed
    │   ├── ModelRequestError       400/401/403/404: the server refused the request as sent
    │   │   └── ContextLengthError  the prompt is longer than the model's context window
    │   └── ModelUnavailableError   retries exhausted (connect errors, timeouts, 429, 5xx, bad bodies)
    ├── StoreError                  the run store cannot be opened or migrated
    ├── RepoError                   workspace problems: unknown commit, missing repo, dirty tree
    ├── RunDirBusyError             another process holds the run directory
    ├── Interrupted                 the run was asked to stop (Ctrl-C, SIGTERM)
    ├── EditError                   misuse of the edit engine (not a failed edit: that is data)
    │   └── EditFormatError         an edit format name that is not registered (also a ValueError)
    └── ValidationError             sandbox / environment infrastructure problems
        ├── SandboxUnavailableError network isolation is not available on this machine
        └── EnvironmentBuildError   a test environment could not be built

``lookup`` reads every registry (edit formats, log parsers, local models, executors,
profiles): an unknown name is one error that lists the names there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar


class AgentlessError(Exception):
    """Root of every exception this package raises on purpose."""


class ConfigError(AgentlessError):
    """Configuration or command-line input is invalid or missing."""


class TaskError(AgentlessError):
    """A task file, dataset row or exercise folder cannot be loaded."""


class ModelError(AgentlessError):
    """The model endpoint could not produce a completion."""

    def __init__(
        self, message: str, *, url: str = "", status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


class ModelRequestError(ModelError):
    """The server rejected the request (400/401/403/404); retrying would not help."""


class ContextLengthError(ModelRequestError):
    """The prompt does not fit the model's context window."""


class ModelUnavailableError(ModelError):
    """Retryable failures persisted past the retry budget."""


class StoreError(AgentlessError):
    """The SQLite run store cannot be opened, migrated or written."""


class RepoError(AgentlessError):
    """A repository, commit or worktree problem."""


class RunDirBusyError(AgentlessError):
    """Another agentless process is writing into the same run directory."""


class Interrupted(AgentlessError):
    """The run was asked to stop (Ctrl-C, SIGTERM); the task is left to resume later."""


class EditError(AgentlessError):
    """The edit engine was called with invalid arguments (e.g. an unknown format)."""


class ValidationError(AgentlessError):
    """Infrastructure failure while validating (not a verdict on the patch)."""


class SandboxUnavailableError(ValidationError):
    """Network-namespace isolation is not available and no explicit opt-out was given."""


class EnvironmentBuildError(ValidationError):
    """A test environment could not be built; see the build log named in the message."""

    def __init__(self, message: str, *, log_path: str | None = None) -> None:
        super().__init__(message)
        self.log_path = log_path


T = TypeVar("T")


def lookup(
    registry: Mapping[str, T],
    name: str,
    what: str,
    *,
    error: type[AgentlessError] = ConfigError,
    choices: Iterable[str] | None = None,
    hint: str = "",
) -> T:
    """``registry[name]``, the one way every registry is read: an unknown name raises
    ``error`` saying which ``what`` it was and the ``choices`` there are (the registry's
    names by default), then ``hint``."""
    try:
        return registry[name]
    except KeyError:
        known = ", ".join(sorted(registry) if choices is None else choices)
        raise error(f"unknown {what} {name!r}; choose one of {known}{hint}") from None
