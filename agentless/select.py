"""Filtering, normalization and voting: choose one patch among candidates.

A candidate's identity for voting is the *normalized* result of its patch: every changed Python
file is parsed, docstrings dropped and the AST unparsed, so comments, docstrings and formatting do
not split votes. Non-Python files are compared with trailing whitespace and blank lines folded.

Selection keeps, step by step, the candidates that (1) pass the reproduction test, (2) fail the
fewest regression tests; a step that would leave nobody is skipped (recorded). Among survivors
the largest vote wins; ties go to the earliest sample.
"""

from __future__ import annotations

import ast
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class Candidate:
    """One repair sample and what became of it."""

    index: int
    patch: str
    new_files: Mapping[str, str | None] = field(default_factory=dict)
    old_files: Mapping[str, str] = field(default_factory=dict)
    location_set: int = 0
    problem: str = ""
    regression_failures: int | None = None
    reproduction_passed: bool | None = None
    kept: bool = True
    reason: str = ""
    key: str = ""
    votes: int = 0


@dataclass
class Selection:
    """The chosen candidate (None when nothing survived) and how it was chosen."""

    chosen: Candidate | None
    candidates: list[Candidate]
    steps: list[str]

    @property
    def patch(self) -> str:
        return self.chosen.patch if self.chosen else ""


def normalize_python(source: str) -> str | None:
    """Source with comments, docstrings and formatting removed; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def normalize_text(path: str, text: str | None) -> str | None:
    """Normalized content of one file for voting (None marks a deleted file)."""
    if text is None:
        return None
    if path.endswith(".py"):
        normalized = normalize_python(text)
        if normalized is not None:
            return normalized
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def patch_key(candidate: Candidate) -> str:
    """A stable hash of the normalized post-patch files; a file whose change is only one of
    form (comments, docstrings, formatting) is left out, as if untouched."""
    digest = hashlib.sha256()
    for path in sorted(candidate.new_files):
        normalized = normalize_text(path, candidate.new_files[path])
        if path in candidate.old_files and normalized == normalize_text(
            path, candidate.old_files[path]
        ):
            continue
        digest.update(path.encode() + b"\0" + (normalized or "<deleted>").encode() + b"\0")
    return digest.hexdigest()[:16]


def drop_reason(candidate: Candidate) -> str:
    """Why a candidate is unusable before any test runs; '' when it is usable."""
    if candidate.problem:
        return candidate.problem
    if not candidate.patch.strip() or not candidate.new_files:
        return "empty patch"
    for path, text in candidate.new_files.items():
        if text is not None and path.endswith(".py") and normalize_python(text) is None:
            old = candidate.old_files.get(path)
            # A file this interpreter could not parse before (Python 2, newer syntax) is
            # not one the patch broke.
            if old is None or normalize_python(old) is not None:
                return f"breaks Python syntax in {path}"
    changed = any(
        normalize_text(path, text) != normalize_text(path, candidate.old_files.get(path))
        for path, text in candidate.new_files.items()
    )
    return "" if changed else "only whitespace, comments or docstrings change"


def filter_candidates(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Mark unusable candidates (kept=False, with a reason) and give the rest a vote key."""
    for candidate in candidates:
        candidate.reason = drop_reason(candidate)
        candidate.kept = not candidate.reason
        if candidate.kept:
            candidate.key = patch_key(candidate)
    return [c for c in candidates if c.kept]


def _narrow(
    pool: list[Candidate], keep: list[Candidate], step: str, reason: str, steps: list[str]
) -> list[Candidate]:
    if not keep:
        steps.append(f"{step}: no candidate passes; step skipped")
        return pool
    for candidate in pool:
        if candidate not in keep:
            candidate.kept = False
            candidate.reason = reason
    steps.append(f"{step}: {len(keep)} of {len(pool)} kept")
    return keep


def select(candidates: Sequence[Candidate]) -> Selection:
    """Filter, narrow by validation results, then vote. Every candidate keeps its reason."""
    all_candidates = list(candidates)
    steps: list[str] = []
    pool = filter_candidates(all_candidates)
    steps.append(f"filter: {len(pool)} of {len(all_candidates)} usable")
    if pool and any(c.reproduction_passed is not None for c in pool):
        keep = [c for c in pool if c.reproduction_passed]
        pool = _narrow(pool, keep, "reproduction test", "reproduction test fails", steps)
    ran = [c for c in pool if c.regression_failures is not None]
    if ran:
        fewest = min(c.regression_failures or 0 for c in ran)
        keep = [c for c in ran if c.regression_failures == fewest]
        step = f"regression tests (fewest failures: {fewest})"
        pool = _narrow(pool, keep, step, f"more than {fewest} regression failure(s)", steps)
    if not pool:
        return Selection(None, all_candidates, steps)
    votes = Counter(c.key for c in pool)
    for candidate in pool:
        candidate.votes = votes[candidate.key]
    chosen = min(pool, key=lambda c: (-c.votes, c.index))
    for candidate in pool:
        if candidate is not chosen:
            candidate.reason = (
                "same patch as the chosen one" if candidate.key == chosen.key else "outvoted"
            )
    chosen.reason = f"chosen with {chosen.votes} vote(s)"
    steps.append(f"vote: {len(votes)} distinct patch(es); winner has {chosen.votes}")
    return Selection(chosen, all_candidates, steps)
