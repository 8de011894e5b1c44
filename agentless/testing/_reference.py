"""Replies that carry an exercise's reference solution as edits, for a scripted model.

A benchmark of the exercise runner itself: if a model answered every exercise with its
reference solution, in the edit format asked for, every exercise should pass on try 1 with
well-formed edits. The replies are computed here, from the reference files (``files.example``)
against the stub the model is shown: whole files, SEARCH/REPLACE blocks of the changed
regions, or a unified diff. Only a scripted server may send these; the reference files never
reach a prompt.
"""

from __future__ import annotations

import difflib
import functools
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from agentless.exercises import missing_crates
from agentless.tasks import Exercise

_CONTEXT = 3


def reference_files(exercise: Exercise) -> dict[str, str]:
    """Solution path -> reference text, for each reference file that differs from the stub.

    A reference file replaces the solution file of the same name (its copy of a read-only
    helper file is left out); else, when it is named as a stand-in (``example.py``,
    ``proof.ci.js``) or is the only one left with its extension, and one solution file with
    that extension is left, that file (``example.py`` -> ``bowling.py``);
    else it is a new file beside the first solution file (a helper class of a Java reference).
    """
    known = [*exercise.solution, *exercise.editor]
    examples = _examples(exercise)
    names = {e: PurePosixPath(e).name.replace("-example", "") for e in examples}
    paired = {e: p for e in examples for p in known if PurePosixPath(p).name == names[e]}
    for example in examples:
        if example in paired:
            continue
        suffix = PurePosixPath(example).suffix
        alike = [e for e in examples if e not in paired and PurePosixPath(e).suffix == suffix]
        free = [
            p
            for p in exercise.solution
            if PurePosixPath(p).suffix == suffix and p not in paired.values()
        ]
        stand_in = names[example].split(".")[0] in ("example", "proof")
        if len(free) == 1 and (stand_in or len(alike) == 1):
            paired[example] = free[0]
        else:
            paired[example] = str(PurePosixPath(exercise.solution[0]).parent / names[example])
    targets = {paired[e]: (exercise.folder / e).read_text(encoding="utf-8") for e in examples}
    # A reference's own copy of a read-only helper is not part of the solution.
    return {
        path: text
        for path, text in targets.items()
        if _stub(exercise, path) != text and path not in exercise.editor
    }


def _examples(exercise: Exercise) -> list[str]:
    # Some tracks keep the reference's own build file beside it (Rust's Cargo-example.toml).
    extra = [
        str(PurePosixPath(".meta") / p.name)
        for p in sorted((exercise.folder / ".meta").glob("*-example.*"))
        if PurePosixPath(p.name.replace("-example", "")).name
        in {PurePosixPath(s).name for s in exercise.solution}
    ]
    return [*exercise.example, *(e for e in extra if e not in exercise.example)]


def reference_blocker(exercise: Exercise) -> str:
    """Why the reference solution itself cannot build on this machine ("" when it can): the
    crates its own Cargo.toml names, or standard packages this Go does not have."""
    files = reference_files(exercise)
    if exercise.language == "rust" and "Cargo.toml" in files:
        with tempfile.TemporaryDirectory() as scratch:
            manifest = Path(scratch) / "Cargo.toml"
            manifest.write_text(files["Cargo.toml"], "utf-8")
            why = missing_crates(manifest)
        return f"the reference solution {why}" if why else ""
    if exercise.language == "go":
        missing = sorted({imp for text in files.values() for imp in _go_imports(text)} - _go_std())
        if missing:
            return (
                f"the reference solution imports {', '.join(missing)}, which the Go here "
                f"({_go_version()}) does not have"
            )
    return ""


def _go_imports(text: str) -> set[str]:
    block = re.search(r"^import\s*\((.*?)\)", text, re.S | re.M)
    lines = block.group(1).splitlines() if block else re.findall(r"^import\s+(.*)$", text, re.M)
    found = {m.group(1) for line in lines if (m := re.search(r'"([^"]+)"', line))}
    return {imp for imp in found if "." not in imp.split("/")[0]}  # standard library only


@functools.lru_cache(maxsize=1)
def _go_std() -> frozenset[str]:
    proc = subprocess.run(["go", "list", "std"], capture_output=True, text=True, check=False)
    return frozenset(proc.stdout.split())


def _go_version() -> str:
    proc = subprocess.run(["go", "version"], capture_output=True, text=True, check=False)
    return " ".join(proc.stdout.split()[2:3]) or "unknown"


def reference_reply(exercise: Exercise, edit_format: str) -> str:
    """The reference solution as a reply in ``edit_format`` (``whole``, ``diff``, ``udiff``)."""
    writers: dict[str, Callable[[str, str | None, str], str]] = {
        "whole": _whole,
        "diff": _search_replace,
        "udiff": _unified,
    }
    if edit_format not in writers:
        raise ValueError(f"no reference replies in the {edit_format!r} format")
    parts = ["Here is the solution.\n"]
    for path, text in reference_files(exercise).items():
        parts.append(writers[edit_format](path, _stub(exercise, path), text))
    return "\n".join(parts)


def _stub(exercise: Exercise, path: str) -> str | None:
    file = Path(exercise.folder) / path
    return file.read_text(encoding="utf-8") if file.is_file() else None


def _fence(*texts: str) -> str:
    longest = max((len(m) for t in texts for m in re.findall(r"`{3,}", t)), default=2)
    return "`" * max(3, longest + 1)


def _whole(path: str, old: str | None, new: str) -> str:
    fence = _fence(new)
    return f"{path}\n{fence}\n{_ended(new)}{fence}\n"


def _ended(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def _search_replace(path: str, old: str | None, new: str) -> str:
    blocks = _blocks(old or "", new) if old and old.strip() else [("", new)]
    fence = _fence(old or "", new)
    out = []
    for search, replace in blocks:
        out.append(
            f"{path}\n{fence}\n<<<<<<< SEARCH\n{_ended(search)}=======\n"
            f"{_ended(replace)}>>>>>>> REPLACE\n{fence}\n"
        )
    return "\n".join(out)


def _blocks(old: str, new: str) -> list[tuple[str, str]]:
    """One (SEARCH, REPLACE) pair per changed region with a little context; each SEARCH is
    unique in the file as earlier blocks left it, else one block replaces the whole file."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    blocks = []
    for group in matcher.get_grouped_opcodes(_CONTEXT):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        blocks.append(("\n".join(a[i1:i2]), "\n".join(b[j1:j2])))
    current = old
    for search, replace in blocks:
        if not search.strip() or current.count(search) != 1:
            return [(old, new)]
        current = current.replace(search, replace, 1)
    return blocks


def _unified(path: str, old: str | None, new: str) -> str:
    before = _keep_ends(old or "")
    after = _keep_ends(new)
    source = f"a/{path}" if old is not None else "/dev/null"
    lines = difflib.unified_diff(before, after, source, f"b/{path}", n=_CONTEXT)
    body = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
    fence = _fence(body)
    return f"{fence}diff\n{body}{fence}\n"


def _keep_ends(text: str) -> list[str]:
    return text.splitlines(keepends=True)
