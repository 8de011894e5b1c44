"""What an exercise folder holds: instructions, the files to change, the tests, the language.

The one reader of exercise folders: ``load_tasks`` on a folder and ``agentless exercises`` both
go through ``find_exercises``.

Folders follow the Exercism layout Aider's benchmarks use: ``.docs/instructions.md`` (with
``introduction.md`` before it and ``instructions.append.md`` after it when present) and
``.meta/config.json`` naming ``files.solution``, ``files.test``, ``files.editor`` (read-only
helpers) and ``files.example`` (the reference solution). Nothing here reads the example files:
their paths are kept only so that the work copy leaves them out.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from agentless.errors import ConfigError, TaskError
from agentless.tasks._model import Task
from agentless.tasks._text import decoded

# Where each language's solution files are recognised, by file extension.
_EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".h": "cpp",
    ".hpp": "cpp",
}

# Folders of an exercise that belong to the track, not to the exercise's code: the reference
# solution and its generator (.meta), and write-ups of approaches to solving it.
HIDDEN_FOLDERS = (".meta", ".approaches", ".articles")


@dataclass(frozen=True)
class Exercise:
    """One exercise folder, read once; paths are POSIX and relative to ``folder``."""

    name: str
    language: str
    folder: Path
    instructions: str
    solution: tuple[str, ...]
    tests: tuple[str, ...]
    editor: tuple[str, ...] = ()
    example: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """``language/name``, unique across a benchmark with several languages."""
        return f"{self.language}/{self.name}"

    @property
    def instance_id(self) -> str:
        """The id as a plain folder name (``language__name``), for stores and result folders."""
        return f"{self.language}__{self.name}"


def read_exercise(folder: Path) -> Exercise:
    """The exercise in ``folder``; a missing or unreadable part is a ``TaskError``."""
    folder = Path(folder)
    roles = _roles(folder / ".meta" / "config.json")
    solution = roles.get("solution", ())
    if not solution:
        raise TaskError(f"{folder}: .meta/config.json names no files.solution")
    tests = roles.get("test", ())
    if not tests:
        raise TaskError(f"{folder}: .meta/config.json names no files.test")
    for path in (*solution, *tests):
        if not (folder / path).is_file():
            raise TaskError(f"{folder}: {path} (named in .meta/config.json) is missing")
    return Exercise(
        name=folder.name,
        language=_language(folder, solution),
        folder=folder.resolve(),
        instructions=_instructions(folder),
        solution=solution,
        tests=tests,
        editor=tuple(p for p in roles.get("editor", ()) if (folder / p).is_file()),
        example=roles.get("example", ()),
    )


def exercise_of(task: Task) -> Exercise:
    """The exercise a task (loaded from an exercise folder) stands for."""
    if task.kind != "exercise":
        raise TaskError(f"{task.instance_id} is a {task.kind} task, not an exercise")
    return read_exercise(Path(task.repo))


def exercise_task(exercise: Exercise) -> Task:
    """A ``Task`` for ``exercise`` whose id names its language (names repeat across tracks)."""
    return Task(
        instance_id=exercise.instance_id,
        repo=str(exercise.folder),
        problem_statement=exercise.instructions,
        kind="exercise",
        test_cmd=_test_command(exercise),
        files={
            "solution": list(exercise.solution),
            "test": list(exercise.tests),
            "editor": list(exercise.editor),
        },
        hidden=list(HIDDEN_FOLDERS),
    )


def _test_command(exercise: Exercise) -> str:
    """How ``agentless run`` on a Python exercise runs its tests (the benchmark runs each
    language's own commands, ``agentless.exercises.LANGUAGES``)."""
    if exercise.language != "python":
        return ""
    return shlex.join(["python", "-m", "pytest", "-q", *exercise.tests])


def find_exercises(root: Path) -> list[Exercise]:
    """Every exercise under ``root`` (or ``root`` itself), sorted by language, then name."""
    root = Path(root)
    if not root.exists():
        raise TaskError(f"exercise folder not found: {root}")
    configs = [root / ".meta" / "config.json"]
    if not configs[0].is_file():
        configs = sorted(root.rglob(".meta/config.json"))
    # A .meta folder nested inside an exercise's own hidden folders is not another exercise.
    folders = [c.parent.parent for c in configs if not _inside_hidden(c.parent.parent, root)]
    if not folders:
        raise TaskError(f"{root}: no exercise found (expected <exercise>/.meta/config.json)")
    exercises = [read_exercise(folder) for folder in folders]
    _refuse_duplicates(exercises)
    return sorted(exercises, key=lambda e: (e.language, e.name))


def exercise_tasks(
    root: Path, *, languages: Sequence[str] = (), names: Iterable[str] = ()
) -> list[Task]:
    """The exercises under ``root`` as tasks, kept to ``languages`` and to ``names`` (an
    exercise's name, ``language/name`` or ``language__name``)."""
    known = sorted(set(_EXTENSIONS.values()))
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise ConfigError(f"unknown language(s) {', '.join(unknown)}; known: {', '.join(known)}")
    exercises = [e for e in find_exercises(root) if not languages or e.language in languages]
    wanted = set(names)
    if wanted:
        chosen = [e for e in exercises if wanted & {e.name, e.id, e.instance_id}]
        found = {key for e in chosen for key in (e.name, e.id, e.instance_id)}
        missing = sorted(wanted - found)
        if missing:
            raise TaskError(f"no exercise named {', '.join(missing)} under {root}")
        exercises = chosen
    if not exercises:
        raise TaskError(f"{root}: no exercise in the language(s) {', '.join(languages)}")
    return [exercise_task(e) for e in exercises]


def _inside_hidden(folder: Path, root: Path) -> bool:
    parts = folder.relative_to(root).parts if folder != root else ()
    return any(part in HIDDEN_FOLDERS or part == "node_modules" for part in parts)


def _refuse_duplicates(exercises: list[Exercise]) -> None:
    seen: dict[str, Path] = {}
    for exercise in exercises:
        if exercise.id in seen:
            raise TaskError(
                f"two exercises are both {exercise.id}: {seen[exercise.id]} and "
                f"{exercise.folder}; point DIR at one of the tracks"
            )
        seen[exercise.id] = exercise.folder


def _roles(config: Path) -> dict[str, tuple[str, ...]]:
    try:
        meta: Any = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaskError(f"{config} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TaskError(f"{config}: not readable JSON ({exc})") from None
    files = meta.get("files") if isinstance(meta, dict) else None
    if not isinstance(files, dict):
        raise TaskError(f"{config}: expected a JSON object with a files section")
    roles: dict[str, tuple[str, ...]] = {}
    for role, paths in files.items():
        if isinstance(paths, list):
            roles[role] = tuple(_relative(config, str(p)) for p in paths if str(p).strip())
    return roles


def _relative(config: Path, path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise TaskError(f"{config}: {path!r} is not a path inside the exercise")
    return str(pure)


def _language(folder: Path, solution: tuple[str, ...]) -> str:
    for path in solution:
        language = _EXTENSIONS.get(PurePosixPath(path).suffix)
        if language:
            return language
    raise TaskError(
        f"{folder}: cannot tell the language of {', '.join(solution)} "
        f"(known extensions: {', '.join(sorted(_EXTENSIONS))})"
    )


def _instructions(folder: Path) -> str:
    docs = folder / ".docs"
    names = ("introduction.md", "instructions.md", "instructions.append.md")
    parts = [decoded(docs / n).strip() for n in names if (docs / n).is_file()]
    text = "\n\n".join(p for p in parts if p)
    if not text:
        raise TaskError(f"{folder}: no instructions in .docs/ (instructions.md)")
    return text
