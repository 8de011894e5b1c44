"""Test commands and test runs: which tests to run, running them, the log with markers.

A run's log is::

    $ pytest -rA tests/test_x.py
    >>>>> Start Test Output
    ...runner output...
    >>>>> End Test Output
    exit code: 1

A run killed at its time limit has no end marker (and is not graded).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentless.validate.environments import Environment
from agentless.validate.recipes import Recipe
from agentless.validate.sandbox import Sandbox

START_MARKER = ">>>>> Start Test Output"
END_MARKER = ">>>>> End Test Output"
_EXIT_LINE = re.compile(r"^exit code: (-?\d+)$", re.M)

# Files a test patch touches that are data, not tests to run.
DATA_SUFFIXES = (
    ".json", ".png", ".csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml",
)  # fmt: skip
_DIFF_PATH = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.M)
_OLD_PATH = re.compile(r"--- a/(\S+)$")
_SHELL_SYNTAX = {"&&", "||", "|", ";", ">", "<", ">>", "2>&1", "&"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class TestCommand:
    """A test command as an argv list plus the variables set for it."""

    __test__ = False  # not a pytest test class

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    def display(self) -> str:
        assignments = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()]
        return " ".join([*assignments, shlex.join(self.argv)])


def parse_command(line: str) -> TestCommand:
    """``VAR=x cmd args`` -> argv and env; shell syntax is kept by running it under bash."""
    tokens = shlex.split(line)
    env: dict[str, str] = {}
    while tokens and _ASSIGNMENT.match(tokens[0]):
        name, value = tokens.pop(0).split("=", 1)
        env[name] = value
    if not tokens:
        raise ValueError(f"no command in {line!r}")
    if any(token in _SHELL_SYNTAX for token in tokens):
        return TestCommand(("bash", "-c", shlex.join(tokens)), env)
    return TestCommand(tuple(tokens), env)


def files_in_patch(patch: str) -> list[str]:
    """The paths a unified diff touches (new side), in order, without repeats."""
    paths = [match.group(2) for match in _DIFF_PATH.finditer(patch)]
    return list(dict.fromkeys(paths))


def files_before_patch(patch: str) -> list[str]:
    """The existing files a unified diff changes (its headers' ``--- a/`` paths), in order."""
    paths: list[str] = []
    in_header = False
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            in_header = True
        elif line.startswith("@@"):
            in_header = False
        elif in_header and (match := _OLD_PATH.match(line)):
            paths.append(match.group(1))
    return list(dict.fromkeys(paths))


def touched_test_files(test_patch: str) -> list[str]:
    """The test files to run for a ``test_patch``: every touched file except data files."""
    return [p for p in files_in_patch(test_patch) if not p.lower().endswith(DATA_SUFFIXES)]


def django_label(path: str) -> str:
    """``tests/a/b.py`` -> ``a.b``: the label Django's runner takes."""
    label = path.removesuffix(".py")
    label = label.removeprefix("tests/")
    return label.replace("/", ".")


def command_from_eval_script(script: str) -> TestCommand | None:
    """The test command between a SWE-bench ``eval_script``'s start and end markers."""
    lines = script.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if START_MARKER in line)
        end = next(i for i, line in enumerate(lines) if END_MARKER in line and i > start)
    except StopIteration:
        return None
    body = [line for line in lines[start + 1 : end] if line.strip()]
    if len(body) != 1:
        return None
    return parse_command(body[0])


def build_test_command(recipe: Recipe, files: Sequence[str]) -> TestCommand:
    """The recipe's test command applied to ``files``."""
    base = parse_command(recipe.test_cmd)
    targets = [django_label(f) for f in files] if recipe.test_labels == "django" else list(files)
    return TestCommand((*base.argv, *targets), {**recipe.test_env, **base.env})


def command_for_task(
    recipe: Recipe, test_patch: str, eval_script: str = "", explicit: str = ""
) -> TestCommand:
    """The command that runs a task's touched tests: an explicit one, else the dataset's
    ``eval_script`` command, else the recipe's command over the test patch's files."""
    if explicit:
        return parse_command(explicit)
    if eval_script:
        found = command_from_eval_script(eval_script)
        if found is not None:
            return TestCommand(found.argv, {**recipe.test_env, **found.env})
    return build_test_command(recipe, touched_test_files(test_patch))


@dataclass(frozen=True)
class TestRun:
    """One test command's outcome, with the full marked log."""

    __test__ = False

    command: TestCommand
    exit_code: int | None
    timed_out: bool
    output: str
    duration: float
    truncated: bool = False

    @property
    def log(self) -> str:
        head = f"$ {self.command.display()}\n{START_MARKER}\n{self.output}"
        if not head.endswith("\n"):
            head += "\n"
        if self.timed_out:
            return head + f"TIMEOUT: killed after {self.duration:.0f}s\n"
        return head + f"{END_MARKER}\nexit code: {self.exit_code}\n"


def run_tests(
    sandbox: Sandbox,
    env: Environment,
    worktree: Path,
    command: TestCommand,
    *,
    timeout: float | None = None,
) -> TestRun:
    """Run ``command`` in ``worktree`` inside the sandbox with ``env``'s interpreter."""
    variables = {**env.test_env(worktree), **command.env}
    result = sandbox.run(command.argv, cwd=worktree, env=variables, timeout=timeout)
    return TestRun(
        command=command,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        output=result.output,
        duration=result.duration,
        truncated=result.truncated,
    )


def marked_output(log: str) -> str | None:
    """The text between the start and end markers, or ``None`` when either is missing."""
    start = log.find(START_MARKER)
    if start < 0:
        return None
    end = log.find(END_MARKER, start)
    if end < 0:
        return None
    return log[start + len(START_MARKER) : end]


def exit_code_of(log: str) -> int | None:
    """The exit code recorded after the end marker."""
    end = log.find(END_MARKER)
    match = _EXIT_LINE.search(log, end if end >= 0 else 0)
    return int(match.group(1)) if match else None
