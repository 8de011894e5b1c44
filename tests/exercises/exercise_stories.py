"""The six scripted exercise stories and the helpers the exercise tests share: exercises
written in the Exercism layout, the scripted model that plays each story, one run."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentless.config import Config, load_config
from agentless.exercises import ExerciseResult
from agentless.runner import run_exercises
from agentless.tasks import exercise_tasks
from agentless.testing import RecordedRequest, ScriptedServer

GOLD = "GOLD-REFERENCE-7f3a"  # in every reference solution: must never reach a prompt


def write_exercise(root: Path, name: str, stub: str, test: str, instructions: str) -> Path:
    folder = root / "python" / "exercises" / "practice" / name
    module = name.replace("-", "_")
    (folder / ".docs").mkdir(parents=True)
    (folder / ".meta").mkdir()
    (folder / ".docs" / "instructions.md").write_text(instructions)
    config = {
        "files": {
            "solution": [f"{module}.py"],
            "test": [f"{module}_test.py"],
            "example": [".meta/example.py"],
        }
    }
    (folder / ".meta" / "config.json").write_text(json.dumps(config))
    (folder / ".meta" / "example.py").write_text(f"# {GOLD}\n{stub}")
    (folder / f"{module}.py").write_text(stub)
    (folder / f"{module}_test.py").write_text(test)
    return folder


def block(path: str, search: str, replace: str) -> str:
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


STUB = "def answer(x):\n    pass\n"


def make_tests(module: str, body: str) -> str:
    return f"from {module} import answer\n\n\ndef test_answer():\n{body}"


# An endless loop that sleeps: the time limit stops it as it stops a busy one, without a core
# spent spinning for the limit's seconds (12 and 10 of them in these tests).
HANG = "    while True:\n        __import__('time').sleep(0.5)\n"

# name -> (test body, {phase: reply}); phases: "initial", "retry", "reflect"
STORIES: dict[str, tuple[str, dict[str, str]]] = {
    "adder": (
        "    assert answer(2) == 3\n",
        {"initial": block("adder.py", "    pass\n", "    return x + 1\n")},
    ),
    "greeter": (
        "    assert answer('Bob') == 'Hello, Bob!'\n",
        {
            "initial": block("greeter.py", "    pass\n", "    return 'Hello, World'\n"),
            "retry": block(
                "greeter.py", "    return 'Hello, World'\n", "    return f'Hello, {x}!'\n"
            ),
        },
    ),
    "doubler": (
        "    assert answer(4) == 8\n",
        {
            "initial": block("doubler.py", "    return None\n", "    return x * 2\n"),
            "reflect": block("doubler.py", "    pass\n", "    return x * 2\n"),
        },
    ),
    "never": (
        "    assert answer(1) == 'one'\n",
        {
            "initial": block("never.py", "    pass\n", "    return (\n"),
            "retry": block(
                "never.py", "    return (\n", "    # ... existing code ...\n    y = 1\n  return y\n"
            ),
        },
    ),
    "sleeper": (
        "    assert answer(0) == 0\n",
        {
            "initial": block("sleeper.py", "    pass\n", HANG),
            "retry": block("sleeper.py", HANG, "    return x\n"),
        },
    ),
    "cheater": (
        "    assert answer(3) == 9\n",
        {
            "initial": block("cheater.py", "    pass\n", "    return 0\n")
            + "\n"
            + block("cheater_test.py", "    assert answer(3) == 9\n", "    assert True\n"),
            "retry": block("cheater.py", "    return 0\n", "    return x * x\n"),
        },
    ),
}


TIME_LIMIT = 12.0  # seconds per test run: the hanging exercise waits this long


def write_stories(root: Path) -> Path:
    for name, (body, _) in STORIES.items():
        write_exercise(root, name, STUB, make_tests(name, body), f"Write answer() for {name}.")
    return root


@dataclass(frozen=True)
class Run:
    root: Path
    out: Path
    metrics: dict[str, Any]
    requests: list[RecordedRequest]


def phase(messages: list[dict[str, Any]]) -> str:
    last = messages[-1]["content"]
    if len(messages) == 2:
        return "initial"
    if last.startswith("Your reply could not be applied"):
        return "reflect"
    if last.startswith("The tests failed"):
        return "retry"
    raise AssertionError(f"unexpected request: {last[:80]!r}")


def scripted(request: RecordedRequest) -> str:
    first = request.messages[1]["content"].splitlines()[0]  # "# Exercise: NAME (Python)"
    name = first.split(": ", 1)[1].split(" (", 1)[0]
    return STORIES[name][1][phase(request.messages)]


def config_for(srv: ScriptedServer, tmp_path: Path, **exercises: Any) -> Config:
    return load_config(
        env={},
        overrides={
            "model": {"name": "scripted", "base_url": srv.url, "backoff_base": 0.01},
            "run": {"cache_dir": tmp_path / "cache", "workers": 6},
            "exercises": {"test_timeout": TIME_LIMIT, **exercises},
        },
    )


def run(
    root: Path, tmp_path: Path, out: Path, reply: Callable[[RecordedRequest], str] = scripted
) -> tuple[dict[str, Any], list[RecordedRequest]]:
    with ScriptedServer(default=reply) as srv:
        report = run_exercises(exercise_tasks(root), config_for(srv, tmp_path), out)
        return report.summary, srv.chat_requests


def result_of(out: Path, name: str) -> ExerciseResult:
    return ExerciseResult.from_dict(
        json.loads((out / f"python__{name}" / "result.json").read_text())
    )
