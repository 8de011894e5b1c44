"""Filtering, normalization and voting: choose one patch among candidates.

A candidate's identity for voting is the *normalized* result of its patch: every changed Python
file is parsed, docstrings dropped and the AST unparsed, so comments, docstrings and formatting do
not split votes. Non-Python files are compared with trailing whitespace and blank lines folded.

Selection reads what validation found about each distinct patch (``verdicts`` by vote key,
such as the ``PatchVerdict`` values ``agentless.validate.check`` returns; it never writes
them) and keeps, step by step, the candidates that (1) break no test that passed before the
patch (compared test by test, whatever the totals), (2) make the most failing tests pass,
(3) pass the reproduction test; a step that would leave nobody is skipped (recorded). Among
survivors the largest vote wins; ties go to the earliest sample.

When every candidate that ran the tests breaks some, ``allow_breaking`` decides: false (the
policy for a user's own repository) chooses no patch, and the result names the least bad
one; true (dataset rows, where an empty prediction helps nobody) keeps those that break the
fewest, and the chosen candidate's reason says how many tests it breaks.

*Evidence.* A candidate shows the issue fixed when it makes a failing test pass or passes a
reproduction script that reports the issue on the original code. When such evidence was
possible (some test failed before the patch, or the script reproduced the issue) and no
survivor shows it, ``require_evidence`` (a user's own repository) chooses no patch rather
than one that changes no test's outcome; otherwise the chosen candidate's reason says that
nothing shows it fixes the issue.
"""

from __future__ import annotations

import ast
import enum
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Candidate:
    """One repair sample and what became of it."""

    index: int
    patch: str
    new_files: Mapping[str, str | None] = field(default_factory=dict)
    old_files: Mapping[str, str] = field(default_factory=dict)
    location_set: int = 0
    problem: str = ""
    # The candidate this one is a second try of (its test output was sent back), if any.
    parent: int | None = None
    kept: bool = True
    reason: str = ""
    key: str = ""
    votes: int = 0


class Evidence(Protocol):
    """What validation found about one patch, as selection reads it
    (``agentless.validate.PatchVerdict`` is one; ``None`` means the check did not run)."""

    @property
    def regression_failures(self) -> int | None: ...
    @property
    def broken(self) -> tuple[str, ...]: ...
    @property
    def fixed(self) -> int | None: ...
    @property
    def still_failing(self) -> tuple[str, ...]: ...
    @property
    def reproduction_passed(self) -> bool | None: ...


@dataclass(frozen=True)
class _Unchecked:
    """The evidence of a patch no check ran on."""

    regression_failures: int | None = None
    broken: tuple[str, ...] = ()
    fixed: int | None = None
    still_failing: tuple[str, ...] = ()
    reproduction_passed: bool | None = None


UNCHECKED: Evidence = _Unchecked()


def evidence_of(candidate: Candidate, verdicts: Mapping[str, Evidence]) -> Evidence:
    """The verdict on ``candidate``'s patch (by vote key); ``UNCHECKED`` when none."""
    return verdicts.get(candidate.key, UNCHECKED) if candidate.key else UNCHECKED


class Verdict(str, enum.Enum):
    """What selection made of a candidate (its ``reason`` says why, in words)."""

    CHOSEN = "chosen"
    SAME_AS_CHOSEN = "same_as_chosen"  # the chosen patch once normalized: its votes counted
    OUTVOTED = "outvoted"  # survived every check, lost the vote
    REJECTED = "rejected"  # dropped by a filter or by validation


@dataclass
class Selection:
    """The chosen candidate (None when nothing survived) and how it was chosen."""

    chosen: Candidate | None
    candidates: list[Candidate]
    steps: list[str]
    verdicts: Mapping[str, Evidence] = field(default_factory=dict)

    @property
    def patch(self) -> str:
        return self.chosen.patch if self.chosen else ""

    @property
    def breaks(self) -> int:
        """How many tests that passed before the chosen patch fail with it."""
        return (self.evidence(self.chosen).regression_failures or 0) if self.chosen else 0

    def evidence(self, candidate: Candidate) -> Evidence:
        """What validation found about ``candidate``'s patch (``UNCHECKED`` when nothing)."""
        return evidence_of(candidate, self.verdicts)

    def verdict(self, candidate: Candidate) -> Verdict:
        """The candidate's verdict: only those that reached the vote have votes."""
        if candidate is self.chosen:
            return Verdict.CHOSEN
        if self.chosen is None or not candidate.votes:
            return Verdict.REJECTED
        if candidate.key == self.chosen.key:
            return Verdict.SAME_AS_CHOSEN
        return Verdict.OUTVOTED


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
    pool: list[Candidate],
    keep: list[Candidate],
    step: str,
    reason: str,
    steps: list[str],
    *,
    keep_reasons: bool = False,
    record: bool = True,
) -> list[Candidate]:
    if not keep:
        steps.append(f"{step}: no candidate passes; step skipped")
        return pool
    for candidate in pool:
        if candidate not in keep:
            candidate.kept = False
            candidate.reason = candidate.reason if keep_reasons and candidate.reason else reason
    if record:
        steps.append(f"{step}: {len(keep)} of {len(pool)} kept")
    return keep


def breaks_label(count: int) -> str:
    """``breaks N test(s) that passed before``."""
    return f"breaks {count} test{'s' if count != 1 else ''} that passed before"


def _regression_step(
    pool: list[Candidate],
    verdicts: Mapping[str, Evidence],
    steps: list[str],
    allow_breaking: bool,
) -> list[Candidate]:
    """Keep the candidates that break no formerly passing test (see the module docstring)."""

    def failures(candidate: Candidate) -> int | None:
        return evidence_of(candidate, verdicts).regression_failures

    ran = [c for c in pool if failures(c) is not None]
    if not ran:
        return pool
    for candidate in pool:
        candidate.reason = _regression_reason(evidence_of(candidate, verdicts))
    fewest = min(failures(c) or 0 for c in ran)
    keep = [c for c in ran if failures(c) == fewest]
    if fewest == 0:
        return _narrow(pool, keep, "regression tests", "", steps, keep_reasons=True)
    if not allow_breaking:
        for candidate in pool:
            candidate.kept = False
        least = min(keep, key=lambda c: c.index)
        steps.append(
            f"regression tests: every candidate breaks tests that passed before; no patch "
            f"chosen (least bad: #{least.index}, which {breaks_label(fewest)})"
        )
        return []
    steps.append(f"regression tests: every candidate breaks some; keeping the fewest ({fewest})")
    return _narrow(pool, keep, "regression tests", "", steps, keep_reasons=True, record=False)


def _regression_reason(found: Evidence) -> str:
    if found.regression_failures is None:
        return "the tests could not be run with it"
    if not found.regression_failures:
        return ""
    shown = ", ".join(found.broken[:3])
    more = " ..." if len(found.broken) > 3 else ""
    return breaks_label(found.regression_failures) + (f": {shown}{more}" if shown else "")


def shows_fix(found: Evidence) -> bool:
    """The tests or the reproduction script say the patch fixes something."""
    return bool(found.fixed) or found.reproduction_passed is True


def evidence_possible(found: Sequence[Evidence]) -> bool:
    """Some validator could have shown a fix: a test failed before the patch, or the
    reproduction script reported the issue on the original code."""
    return any(e.fixed or e.still_failing or e.reproduction_passed is not None for e in found)


def clean_fix(found: Evidence) -> bool:
    """Breaks no test that passed before, and shows the issue fixed."""
    return found.regression_failures == 0 and shows_fix(found)


def validated(found: Evidence) -> bool:
    """Some check ran on the patch."""
    return found.regression_failures is not None or found.reproduction_passed is not None


def second_try_targets(
    candidates: Sequence[Candidate], verdicts: Mapping[str, Evidence], limit: int
) -> list[Candidate]:
    """The candidates worth a second try with their test output: none when a validated
    candidate is already a clean fix; else up to ``limit`` distinct validated patches with
    something to report, the most promising first (shows a fix, fixes the most, breaks the
    fewest, most votes, earliest)."""
    checked = [c for c in candidates if c.kept and validated(evidence_of(c, verdicts))]
    if limit <= 0 or any(clean_fix(evidence_of(c, verdicts)) for c in checked):
        return []
    votes = Counter(c.key for c in checked)

    def reportable(found: Evidence) -> bool:
        return bool(found.broken or found.still_failing or found.reproduction_passed is False)

    def promise(c: Candidate) -> tuple[bool, int, int, int, int]:
        found = evidence_of(c, verdicts)
        fixes, breaks = found.fixed or 0, found.regression_failures or 0
        return (not shows_fix(found), -fixes, breaks, -votes[c.key], c.index)

    targets = sorted((c for c in checked if reportable(evidence_of(c, verdicts))), key=promise)
    chosen: dict[str, Candidate] = {}
    for candidate in targets:
        chosen.setdefault(candidate.key, candidate)
    return list(chosen.values())[:limit]


def select(
    candidates: Sequence[Candidate],
    verdicts: Mapping[str, Evidence] | None = None,
    *,
    allow_breaking: bool = True,
    require_evidence: bool = False,
) -> Selection:
    """Filter, narrow by the ``verdicts`` on each distinct patch (keyed by vote key, as
    ``validate.check`` returns them when given ``{key: patch}``), then vote. Every candidate
    keeps its reason; a patch without a verdict counts as not validated."""
    verdicts = dict(verdicts or {})
    all_candidates = list(candidates)
    steps: list[str] = []
    pool = filter_candidates(all_candidates)
    steps.append(f"filter: {len(pool)} of {len(all_candidates)} usable")

    def found(candidate: Candidate) -> Evidence:
        return evidence_of(candidate, verdicts)

    possible = evidence_possible([found(c) for c in pool])
    pool = _regression_step(pool, verdicts, steps, allow_breaking)
    if pool and any(found(c).fixed for c in pool):
        most = max(found(c).fixed or 0 for c in pool)
        keep = [c for c in pool if found(c).fixed == most]
        step = f"failing tests fixed (most: {most})"
        pool = _narrow(pool, keep, step, f"fixes fewer than {most} failing test(s)", steps)
    if pool and any(found(c).reproduction_passed is not None for c in pool):
        keep = [c for c in pool if found(c).reproduction_passed]
        pool = _narrow(pool, keep, "reproduction test", "reproduction test fails", steps)
    unproven = bool(pool) and possible and not any(shows_fix(found(c)) for c in pool)
    if unproven and require_evidence:
        return Selection(None, all_candidates, _refuse_unproven(pool, steps), verdicts)
    if not pool:
        return Selection(None, all_candidates, steps, verdicts)
    votes = Counter(c.key for c in pool)
    for candidate in pool:
        candidate.votes = votes[candidate.key]
    chosen = min(pool, key=lambda c: (-c.votes, c.index))
    for candidate in pool:
        if candidate is not chosen:
            candidate.reason = (
                "same patch as the chosen one" if candidate.key == chosen.key else "outvoted"
            )
    breaks = found(chosen).regression_failures
    chosen.reason = f"chosen with {chosen.votes} vote(s)" + (
        f"; {breaks_label(breaks)}" if breaks else ""
    )
    if unproven:
        chosen.reason += f"; {UNPROVEN}"
    steps.append(f"vote: {len(votes)} distinct patch(es); winner has {chosen.votes}")
    return Selection(chosen, all_candidates, steps, verdicts)


UNPROVEN = "no failing test passes with it and no reproduction script shows the issue fixed"


def _refuse_unproven(pool: list[Candidate], steps: list[str]) -> list[str]:
    votes = Counter(c.key for c in pool)
    best = min(pool, key=lambda c: (-votes[c.key], c.index))
    for candidate in pool:
        candidate.kept = False
        candidate.reason = f"breaks no test, but {UNPROVEN}"
    steps.append(
        "evidence: tests failed before the patch (or the reproduction script showed the "
        f"issue), and no candidate makes them pass; no patch chosen (most voted: #{best.index})"
    )
    return steps
