"""Run an exercise's tests in the sandbox and turn their output into feedback for the model.

The output sent back is cleaned of what changes from run to run without the code changing
(timings, absolute paths of the work folder and of sandbox scratch folders, object addresses),
so that a re-run sends the same request and is answered from the run store, and so that the
model is not distracted by machine details. Long output keeps its head and its tail.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agentless.exercises._languages import Argv, Language
from agentless.validate import SandboxProtocol

# Durations as test runners print them (pytest "in 0.12s", jest "(5 ms)" and "Time: 1.2 s",
# go "ok  pkg 0.005s" and "(0.00s)", cargo "finished in 0.00s", JUnit "after 35 ms").
_TIMINGS = (
    (re.compile(r"\b(in|after|took) \d+(?:\.\d+)?\s?(?:ms|s|sec|seconds)\b"), r"\1 <time>"),
    (re.compile(r"\(\d+(?:\.\d+)?\s?(?:ms|s)\)"), "(<time>)"),
    (re.compile(r"^(\s*Time:\s+).*$", re.M), r"\1<time>"),
    (re.compile(r"(\t|\s{2,})\d+\.\d+s\s*$", re.M), r"\1<time>"),
    (re.compile(r"\[\s*\d+(?:\.\d+)?\s?(?:ms|s)\s*\]"), "[<time>]"),
)
_SCRATCH = re.compile(r"(?:/[^\s/:'\"()]+)*/agentless-sbx-[A-Za-z0-9_]+")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,16}\b")


@dataclass(frozen=True)
class TestOutcome:
    """One run of an exercise's tests."""

    passed: bool
    timed_out: bool
    exit_code: int | None
    seconds: float
    output: str
    syntax_error: bool = False
    indentation_error: bool = False
    restored: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["restored"] = list(self.restored)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestOutcome:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["restored"] = tuple(fields.get("restored", ()))
        return cls(**fields)


def run_tests(
    sandbox: SandboxProtocol,
    language: Language,
    commands: Sequence[Argv],
    work: Path,
    *,
    env: Mapping[str, str],
    timeout: float,
    readable: Sequence[Path] = (),
    hide: Sequence[Path] = (),
    restored: Sequence[str] = (),
    limit: int = 6000,
) -> TestOutcome:
    """Run ``commands`` in order in ``work`` (stopping at the first failure) within ``timeout``
    seconds in all, with ``language``'s memory cap and ``readable`` folders visible read-only;
    the output is cleaned (``hide``: more folders to name only relatively)."""
    started = time.monotonic()
    parts: list[str] = []
    exit_code: int | None = 0
    timed_out = False
    for argv in commands:
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            timed_out, exit_code = True, None
            break
        result = sandbox.run(
            argv,
            cwd=work,
            env=env,
            timeout=left,
            readable=readable,
            memory_mb=language.memory_mb,
        )
        parts.append(result.output)
        exit_code = result.exit_code
        if result.timed_out:
            timed_out = True
            break
        if not result.ok:
            break
    text = clean_output("".join(parts), [work, *hide])
    if timed_out:
        text += f"\n[the tests were stopped after {timeout:g} seconds: too slow, or never ending]\n"
    return TestOutcome(
        passed=exit_code == 0 and not timed_out,
        timed_out=timed_out,
        exit_code=exit_code,
        seconds=time.monotonic() - started,
        output=trim(text, limit),
        syntax_error=_shows(language.syntax_error, text),
        indentation_error=_shows(language.indentation_error, text),
        restored=tuple(restored),
    )


def clean_output(text: str, folders: Sequence[Path] = ()) -> str:
    """``text`` without timings, with ``folders`` and sandbox scratch paths made relative."""
    names = sorted({str(p) for f in folders for p in (f, f.resolve())}, key=len, reverse=True)
    for name in names:
        text = text.replace(name + "/", "").replace(name, ".")
    text = _SCRATCH.sub("$TMPDIR", text)
    text = _ADDRESS.sub("0x…", text)
    for pattern, replacement in _TIMINGS:
        text = pattern.sub(replacement, text)
    return text


def trim(text: str, limit: int) -> str:
    """At most about ``limit`` characters: the first third and the last two thirds, whole lines."""
    if len(text) <= limit:
        return text
    head_size, tail_size = limit // 3, limit - limit // 3
    head = text[:head_size].rsplit("\n", 1)[0]
    tail = text[-tail_size:].split("\n", 1)[-1]
    dropped = len(text) - len(head) - len(tail)
    return f"{head}\n[... {dropped} characters of output left out ...]\n{tail}"


def _shows(pattern: re.Pattern[str] | None, text: str) -> bool:
    return bool(pattern and pattern.search(text))
