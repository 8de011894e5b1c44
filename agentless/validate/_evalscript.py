"""The facts a SWE-bench v5 row's ``eval_script`` carries, without its container lines.

An ``eval_script`` activates a conda environment in ``/testbed``, shows the state of the
checkout, installs the repository at the instance commit, checks out the test files at the
base commit, applies the test patch from a here-document, runs the test command between the
``: '>>>>> Start Test Output'`` and ``: '>>>>> End Test Output'`` lines and checks the test
files out again. Read from it: the install commands, the exported variables, the files reset
to the base commit, and the test command. Conda, ``/testbed``, ``git status``/``show``/``diff``
and locale set-up lines are specific to SWE-bench's images and left out.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

START = ">>>>> Start Test Output"
END = ">>>>> End Test Output"

_CONTAINER_LINE = re.compile(
    r"^(#!|set -|source |conda |cd /testbed|git config |git status|git show|git -c |"
    r"git diff|sed -i .*locale|locale-gen|apt-get |: '?>>>>>)"
)
_EXPORT = re.compile(r"^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?\s*$")
_CHECKOUT = re.compile(r"^git checkout [0-9a-f]{7,40} (.+)$")


@dataclass(frozen=True)
class EvalScript:
    """What an ``eval_script`` says beyond the row's other fields."""

    install: tuple[str, ...] = ()
    test_command: str = ""
    reset_files: tuple[str, ...] = ()
    exports: dict[str, str] = field(default_factory=dict)


def parse_eval_script(script: str) -> EvalScript | None:
    """The facts of ``script``; ``None`` when it has no test command between the markers."""
    lines = _without_heredocs(script.splitlines())
    try:
        start = next(i for i, line in enumerate(lines) if START in line)
        end = next(i for i, line in enumerate(lines) if END in line and i > start)
    except StopIteration:
        return None
    body = [line.strip() for line in lines[start + 1 : end] if line.strip()]
    if len(body) != 1:
        return None
    install: list[str] = []
    resets: list[str] = []
    exports: dict[str, str] = {}
    for raw in lines[:start]:
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("#!")):
            continue
        if export := _EXPORT.match(line):
            exports[export.group(1)] = _unquote(export.group(2))
        elif checkout := _CHECKOUT.match(line):
            resets += shlex.split(checkout.group(1))
        elif not _CONTAINER_LINE.match(line) and not line.startswith("git apply"):
            install.append(line)
    return EvalScript(tuple(install), body[0], tuple(dict.fromkeys(resets)), exports)


def _without_heredocs(lines: list[str]) -> list[str]:
    """The lines with here-document bodies (the test patch) left out."""
    kept: list[str] = []
    until: str | None = None
    for line in lines:
        if until is not None:
            if line.strip() == until:
                until = None
            continue
        match = _HEREDOC.search(line)
        if match:
            until = match.group(1)
        kept.append(line)
    return kept


def _unquote(value: str) -> str:
    parts = shlex.split(value)
    return parts[0] if len(parts) == 1 else value
