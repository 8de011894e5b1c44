"""What solving one exercise produced: each reply, each test run, and the counts Aider reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agentless.exercises._testrun import TestOutcome
from agentless.model import Usage

Status = Literal["done", "unavailable", "error"]
ReplyKind = Literal["initial", "reflection", "retry"]


@dataclass(frozen=True)
class ReplyRecord:
    """One model reply and what applying it did.

    ``failures`` are ``(path, reason)`` pairs from the edit engine (a reply with any failure is
    *malformed*); ``test_edits`` are protected files (tests and other read-only files) the reply
    changed, which were not written; ``lazy`` counts placeholder comments standing for code.
    """

    kind: ReplyKind
    applied: int
    failures: tuple[tuple[str, str], ...] = ()
    test_edits: tuple[str, ...] = ()
    lazy: int = 0
    finish_reason: str | None = "stop"
    cached: bool = False
    usage: Usage = field(default_factory=Usage)

    @property
    def malformed(self) -> bool:
        return bool(self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "applied": self.applied,
            "malformed": self.malformed,
            "failures": [list(f) for f in self.failures],
            "test_edits": list(self.test_edits),
            "lazy": self.lazy,
            "finish_reason": self.finish_reason,
            "cached": self.cached,
            "usage": self.usage.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplyRecord:
        return cls(
            kind=data["kind"],
            applied=int(data.get("applied", 0)),
            failures=tuple((str(p), str(r)) for p, r in data.get("failures", [])),
            test_edits=tuple(data.get("test_edits", [])),
            lazy=int(data.get("lazy", 0)),
            finish_reason=data.get("finish_reason"),
            cached=bool(data.get("cached", False)),
            usage=Usage.from_dict(data.get("usage") or {}),
        )


@dataclass(frozen=True)
class TryRecord:
    """One try: the replies (the first and its reflections) and the test run after them.

    ``test`` is ``None`` when the try ended before the tests (the prompt no longer fit).
    """

    number: int
    replies: tuple[ReplyRecord, ...]
    test: TestOutcome | None
    context_exhausted: bool = False

    @property
    def passed(self) -> bool:
        return self.test is not None and self.test.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "passed": self.passed,
            "replies": [r.to_dict() for r in self.replies],
            "test": None if self.test is None else self.test.to_dict(),
            "context_exhausted": self.context_exhausted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TryRecord:
        test = data.get("test")
        return cls(
            number=int(data["number"]),
            replies=tuple(ReplyRecord.from_dict(r) for r in data.get("replies", [])),
            test=None if test is None else TestOutcome.from_dict(test),
            context_exhausted=bool(data.get("context_exhausted", False)),
        )


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one exercise; ``status`` is ``done``, ``unavailable`` (this machine cannot
    run its tests: ``reason`` says why) or ``error`` (an install failed: ``reason``)."""

    exercise: str
    instance_id: str
    language: str
    edit_format: str
    model: str
    status: Status
    tries: tuple[TryRecord, ...] = ()
    seconds: float = 0.0
    reason: str = ""

    @property
    def finished(self) -> bool:
        """Skipped by a resumed run. Unavailable exercises are looked at again (a toolchain
        may have been installed since; if not, that takes no time), and so are errors."""
        return self.status == "done"

    @property
    def passed(self) -> bool:
        return any(t.passed for t in self.tries)

    @property
    def passed_on_try(self) -> int | None:
        return next((t.number for t in self.tries if t.passed), None)

    @property
    def replies(self) -> list[ReplyRecord]:
        return [r for t in self.tries for r in t.replies]

    @property
    def tests(self) -> list[TestOutcome]:
        return [t.test for t in self.tries if t.test is not None]

    @property
    def usage(self) -> Usage:
        return sum((r.usage for r in self.replies), Usage())

    def counts(self) -> dict[str, int]:
        """This exercise's contribution to each of the run's counters."""
        replies, tests = self.replies, self.tests
        malformed = sum(r.malformed for r in replies)
        return {
            "replies": len(replies),
            "cached_replies": sum(r.cached for r in replies),
            "reflections": sum(r.kind == "reflection" for r in replies),
            "malformed_responses": malformed,
            "cases_with_malformed": int(malformed > 0),
            "lazy_comments": sum(r.lazy for r in replies),
            "test_edits": sum(bool(r.test_edits) for r in replies),
            "truncated_replies": sum(r.finish_reason == "length" for r in replies),
            "test_runs": len(tests),
            "syntax_errors": sum(t.syntax_error for t in tests),
            "indentation_errors": sum(t.indentation_error for t in tests),
            "test_timeouts": sum(t.timed_out for t in tests),
            "exhausted_context_windows": sum(t.context_exhausted for t in self.tries),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "instance_id": self.instance_id,
            "language": self.language,
            "edit_format": self.edit_format,
            "model": self.model,
            "status": self.status,
            "reason": self.reason,
            "passed": self.passed,
            "passed_on_try": self.passed_on_try,
            "seconds": self.seconds,
            "counts": self.counts(),
            "usage": self.usage.to_dict(),
            "tries": [t.to_dict() for t in self.tries],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExerciseResult:
        return cls(
            exercise=data["exercise"],
            instance_id=data["instance_id"],
            language=data["language"],
            edit_format=data["edit_format"],
            model=data["model"],
            status=data["status"],
            tries=tuple(TryRecord.from_dict(t) for t in data.get("tries", [])),
            seconds=float(data.get("seconds", 0.0)),
            reason=str(data.get("reason", "")),
        )


def describe(result: ExerciseResult) -> str:
    """One line about an exercise's outcome, for progress lines."""
    if result.status != "done":
        return f"{result.status}: {result.reason}"
    counts = result.counts()
    verdict = f"passed on try {result.passed_on_try}" if result.passed else "failed"
    extras = [f"{counts['replies']} repl{'y' if counts['replies'] == 1 else 'ies'}"]
    for key, label in (
        ("malformed_responses", "malformed"),
        ("test_timeouts", "timed out"),
        ("test_edits", "edited tests"),
        ("exhausted_context_windows", "context full"),
    ):
        if counts[key]:
            extras.append(f"{counts[key]} {label}")
    return f"{verdict} ({', '.join(extras)}; {result.seconds:.1f} s)"
