"""Test commands and test runs: which tests to run, running them, the log with markers.

A run's log is, in the form SWE-bench's harness writes::

    $ pytest -rA tests/test_x.py
    >>>>> Start Test Output
    ...runner output...
    >>>>> End Test Output
    >>>>> Test Exit Code: 1

A run killed at its time limit has no end marker and says ``>>>>> Tests Timed Out`` (it is
not graded).
"""

from __future__ import annotations

import codecs
import io
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from unidiff import PatchSet, UnidiffParseError

from agentless.validate._environments import Environment
from agentless.validate._recipes import Recipe
from agentless.validate._sandbox import Fixture, SandboxProtocol

START_MARKER = ">>>>> Start Test Output"
END_MARKER = ">>>>> End Test Output"
EXIT_MARKER = ">>>>> Test Exit Code"
TIMEOUT_MARKER = ">>>>> Tests Timed Out"
# Ours and SWE-bench's form; logs written before this version said "exit code: N".
_EXIT_LINE = re.compile(r"^(?:>>>>> Test Exit Code:|exit code:)\s*(-?\d+)$", re.M)
HTTPBIN_PORT = 48081
_SERVE_HTTPBIN = (
    "from httpbin import app; from werkzeug.serving import run_simple; "
    "run_simple('127.0.0.1', {port}, app, threaded=True)"
)

# Files a test patch touches that are data, not tests to run.
DATA_SUFFIXES = (
    ".json", ".png", ".csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml",
)  # fmt: skip
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$", re.S)
_HUNK_LINE_KINDS = (" ", "\n", "-", "+", "\\")
_SHELL_CHARS = set("();<>|&")
_SHELL_EXPANSION = re.compile(r"[$`*?~{}]")
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


def uses_shell(line: str) -> bool:
    """True when ``line`` needs a shell: operators (``&&``, ``|``, ``;``, redirections),
    expansions or globs outside quotes."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    for token in lexer:
        if token and set(token) <= _SHELL_CHARS:
            return True
    unquoted = re.sub(r"'[^']*'", "", line)  # single quotes stop every expansion
    return bool(_SHELL_EXPANSION.search(re.sub(r'"[^"$`]*"', "", unquoted)))


def parse_command(line: str) -> TestCommand:
    """``VAR=x cmd args`` -> argv and env; a line that uses shell syntax runs as written
    under ``bash -c``."""
    tokens = shlex.split(line)
    if not tokens:
        raise ValueError(f"no command in {line!r}")
    if uses_shell(line):
        return TestCommand(("bash", "-c", line.strip()))
    env: dict[str, str] = {}
    while tokens and _ASSIGNMENT.match(tokens[0]):
        name, value = tokens.pop(0).split("=", 1)
        env[name] = value
    if not tokens:
        raise ValueError(f"no command in {line!r}")
    return TestCommand(tuple(tokens), env)


def patch_files(patch: str) -> list[tuple[str | None, str | None]]:
    """``(old path, new path)`` of each file a git diff changes, read by ``unidiff``;
    ``None`` for the side that does not exist (an added or a deleted file). A diff whose hunk
    line counts are wrong is read as ``git apply --recount`` reads it; one that is no diff
    at all names no files."""
    for text in (patch, _recounted(patch)):
        try:
            files = PatchSet(text)
        except UnidiffParseError:
            continue
        return [(_side(f.source_file, "a/"), _side(f.target_file, "b/")) for f in files]
    return []


def _recounted(patch: str) -> str:
    """``patch`` with each hunk header's counts taken from its body, by git's rule: a hunk
    runs while its lines start with a space, ``-``, ``+`` or a backslash, or are empty."""
    lines = io.StringIO(patch).readlines()  # split at "\n" only, as unidiff splits
    out: list[str] = []
    i = 0
    while i < len(lines):
        header = _HUNK_HEADER.match(lines[i])
        if not header:
            out.append(lines[i])
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end][:1] in _HUNK_LINE_KINDS:
            end += 1
        kinds = [line[:1] for line in lines[i + 1 : end]]
        old = sum(kind in " \n-" for kind in kinds)
        new = sum(kind in " \n+" for kind in kinds)
        old_start, new_start, rest = header.groups()
        out.append(f"@@ -{old_start},{old} +{new_start},{new} @@{rest}")
        out.extend(lines[i + 1 : end])
        i = end
    return "".join(out)


def _side(name: str, prefix: str) -> str | None:
    if name == "/dev/null":
        return None
    if name.startswith('"') and name.endswith('"'):
        # git quotes names with unusual bytes C-style: "a/t\303\251st.py"
        raw = codecs.escape_decode(name[1:-1].encode("ascii", "backslashreplace"))[0]
        name = raw.decode("utf-8", "surrogateescape")
    return name.removeprefix(prefix)


def files_in_patch(patch: str) -> list[str]:
    """The paths a git diff touches (the new side; a deleted file's old path), in order,
    without repeats."""
    return list(dict.fromkeys(path for old, new in patch_files(patch) if (path := new or old)))


def files_before_patch(patch: str) -> list[str]:
    """The existing files a git diff changes (the old side of its file headers), in order."""
    return list(dict.fromkeys(old for old, _ in patch_files(patch) if old))


def touched_test_files(test_patch: str) -> list[str]:
    """The test files to run for a ``test_patch``: every touched file except data files."""
    return [p for p in files_in_patch(test_patch) if not p.lower().endswith(DATA_SUFFIXES)]


def django_label(path: str) -> str:
    """``tests/a/b.py`` -> ``a.b``: the label Django's runner takes."""
    label = path.removesuffix(".py")
    label = label.removeprefix("tests/")
    return label.replace("/", ".")


def command_from_eval_script(script: str) -> TestCommand | None:
    """The test command between a SWE-bench ``eval_script``'s start and end markers, with
    the variables the script exports before it."""
    from agentless.validate._evalscript import parse_eval_script

    facts = parse_eval_script(script)
    if facts is None:
        return None
    command = parse_command(facts.test_command)
    return TestCommand(command.argv, {**facts.exports, **command.env})


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
            return head + f"{TIMEOUT_MARKER}: killed after {self.duration:.0f}s\n"
        return head + f"{END_MARKER}\n{EXIT_MARKER}: {self.exit_code}\n"


def run_tests(
    sandbox: SandboxProtocol,
    env: Environment,
    worktree: Path,
    command: TestCommand,
    *,
    timeout: float | None = None,
) -> TestRun:
    """Run ``command`` in ``worktree`` inside the sandbox with ``env``'s interpreter, and the
    recipe's fixtures (helper servers) beside it."""
    variables = {**env.test_env(worktree), **command.env}
    fixtures = [fixture_for(name, env) for name in env.recipe.fixtures]
    result = sandbox.run(
        command.argv,
        cwd=worktree,
        env=variables,
        timeout=timeout,
        readable=env.folders,
        fixtures=fixtures,
    )
    return TestRun(
        command=command,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        output=result.output,
        duration=result.duration,
        truncated=result.truncated,
    )


def fixture_for(name: str, env: Environment) -> Fixture:
    """A helper server the recipe names, run with the environment's interpreter."""
    if name == "httpbin":
        code = _SERVE_HTTPBIN.format(port=HTTPBIN_PORT)
        return Fixture(
            argv=(str(env.python), "-c", code),
            port=HTTPBIN_PORT,
            env={"HTTPBIN_URL": f"http://127.0.0.1:{HTTPBIN_PORT}/"},
        )
    raise ValueError(f"unknown fixture {name!r} (known: httpbin)")


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
