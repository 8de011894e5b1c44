"""Solve one exercise as Aider's benchmarks do: ask for edits, apply them, run the tests, retry.

Try 1 sends the shared instructions (system message: the same for every exercise of a run, so
servers' prefix caches serve it), then the exercise's instructions and its solution files. The
reply is applied with the edit engine; a reply whose edits do not all apply gets up to
``reflections`` follow-ups carrying the engine's feedback. Then the protected files (tests and
the other read-only files) are put back as they were and the tests run in the sandbox. When
they fail, the next try sends their cleaned output and the files as they now are, and asks
for a fix. ``run_exercise`` is the function a scheduler calls once per exercise.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agentless.config import Config, ExercisesConfig
from agentless.edits import EditResult, apply_reply, is_placeholder
from agentless.errors import ContextLengthError, EnvironmentBuildError
from agentless.exercises._languages import Language, Setup, fence_for, language_for
from agentless.exercises._result import ExerciseResult, ReplyKind, ReplyRecord, TryRecord
from agentless.exercises._testrun import TestOutcome, run_tests
from agentless.exercises._workspace import WorkCopy
from agentless.model import Model
from agentless.tasks import Exercise, Task, exercise_of
from agentless.templates import render
from agentless.validate import Sandbox, SandboxProtocol

Message = dict[str, str]

TITLES = {
    "python": "Python",
    "javascript": "JavaScript",
    "java": "Java",
    "go": "Go",
    "rust": "Rust",
    "cpp": "C++",
}


@dataclass
class ExerciseServices:
    """What the exercises of a run share: where work copies go, the install cache, the
    sandbox every test command goes through (with its language's memory cap)."""

    work_root: Path
    cache_dir: Path
    sandbox: SandboxProtocol
    python: Path | None = None
    install_timeout: float = 1800.0

    @classmethod
    def from_config(
        cls,
        config: Config,
        work_root: Path | None = None,
        *,
        sandbox: SandboxProtocol | None = None,
    ) -> ExerciseServices:
        """Services from the run and validate sections of ``config`` (a scheduled run passes
        its own sandbox: test slots, stopping, every command recorded)."""
        from agentless.repo import default_cache_dir

        root = work_root or config.run.run_dir or Path(tempfile.mkdtemp(prefix="agentless-ex-"))
        validate = config.validate_
        return cls(
            work_root=Path(root),
            cache_dir=(config.run.cache_dir or default_cache_dir()) / "exercises",
            sandbox=Sandbox.from_config(validate) if sandbox is None else sandbox,
            python=validate.python,
            install_timeout=validate.install_timeout,
        )

    def language(self, name: str) -> Language | None:
        """The language named ``name`` (shared by this process's runs), or ``None``."""
        return language_for(
            name, self.cache_dir, python=self.python, install_timeout=self.install_timeout
        )


class Progress(Protocol):
    """Where a run reports the step an exercise is at (the scheduler's task context)."""

    def stage(self, name: str, detail: str = "") -> None: ...


class _Silent:
    def stage(self, name: str, detail: str = "") -> None:
        pass


def run_exercise(
    task: Task,
    model: Model,
    config: Config,
    *,
    services: ExerciseServices | None = None,
    progress: Progress | None = None,
) -> ExerciseResult:
    """Solve the exercise ``task`` stands for with ``model``; never raises for an outcome (a
    reply that does not apply, failing or hanging tests), only for broken infrastructure (the
    model server down after retries, no sandbox) or a stop (``progress.stage`` may raise).
    ``progress`` hears each step: setup, then each try's replies and test run."""
    exercise = exercise_of(task)
    services = services or ExerciseServices.from_config(config)
    progress = progress or _Silent()
    settings = config.exercises
    started = time.monotonic()

    def result(status: Any, tries: Sequence[TryRecord] = (), reason: str = "") -> ExerciseResult:
        return ExerciseResult(
            exercise=exercise.id,
            instance_id=task.instance_id,
            language=exercise.language,
            edit_format=settings.edit_format,
            model=model.name,
            status=status,
            tries=tuple(tries),
            seconds=time.monotonic() - started,
            reason=reason,
        )

    progress.stage("setup", f"{exercise.id}: toolchain and what the tests need")
    language = services.language(exercise.language)
    if language is None:
        return result("unavailable", reason=f"no runner for {exercise.language}")
    why_not = language.toolchain()
    if why_not:
        return result("unavailable", reason=why_not)
    try:
        setup = language.setup(exercise)
    except EnvironmentBuildError as exc:
        return result("error", reason=f"installing what the tests need failed: {exc}")
    if setup.unavailable:
        return result("unavailable", reason=setup.unavailable)
    # The copy keeps the exercise's folder name: some builds name their targets after it.
    folder = services.work_root / task.instance_id / exercise.name
    work = _work_copy(exercise, language, setup, folder)
    try:
        session = _Session(model, settings, exercise, language, work, services, setup, progress)
        return result("done", session.run())
    finally:
        work.remove_build_outputs(language.build_outputs)


def _work_copy(exercise: Exercise, language: Language, setup: Setup, path: Path) -> WorkCopy:
    work = WorkCopy.create(exercise, path)
    language.prepare(work.path, exercise)
    work.protect()
    work.link(setup.links)
    return work


class _Session:
    """The conversation about one exercise, try after try."""

    def __init__(
        self,
        model: Model,
        settings: ExercisesConfig,
        exercise: Exercise,
        language: Language,
        work: WorkCopy,
        services: ExerciseServices,
        setup: Setup,
        progress: Progress,
    ) -> None:
        self.model = model
        self.progress = progress
        self.settings = settings
        self.exercise = exercise
        self.language = language
        self.work = work
        self.services = services
        self.setup = setup
        self.editable = list(exercise.solution)
        self.messages: list[Message] = [
            {"role": "system", "content": system_prompt(settings.edit_format)},
            {"role": "user", "content": self._first_prompt()},
        ]

    def run(self) -> list[TryRecord]:
        tries: list[TryRecord] = []
        for number in range(1, self.settings.tries + 1):
            if tries:
                assert tries[-1].test is not None
                self.messages.append(
                    {"role": "user", "content": self._retry_prompt(tries[-1].test)}
                )
            replies, exhausted = self._replies(number, "initial" if number == 1 else "retry")
            if exhausted:
                tries.append(TryRecord(number, tuple(replies), None, context_exhausted=True))
                break
            self.progress.stage(f"try {number}", "running the tests")
            tries.append(TryRecord(number, tuple(replies), self._test()))
            if tries[-1].passed:
                break
        return tries

    # --- replies -----------------------------------------------------------------------------

    def _replies(self, number: int, kind: ReplyKind) -> tuple[list[ReplyRecord], bool]:
        """The try's first reply and its reflections; ``True`` when the prompt no longer fits."""
        records: list[ReplyRecord] = []
        for round_ in range(self.settings.reflections + 1):
            asking = f"reflection {round_}/{self.settings.reflections}" if round_ else "reply"
            self.progress.stage(f"try {number}", f"asking the model ({asking})")
            try:
                completion = self.model.complete(
                    self.messages,
                    n=1,
                    temperature=0.0,
                    max_tokens=self.settings.reply_tokens,
                    stage=f"exercise.{kind}",
                )[0]
            except ContextLengthError:
                return records, True
            self.messages.append({"role": "assistant", "content": completion.text})
            record, feedback = self._apply(completion.text, kind)
            records.append(
                dataclasses.replace(
                    record,
                    finish_reason=completion.finish_reason,
                    cached=completion.cached,
                    usage=completion.usage,
                )
            )
            if not record.malformed or round_ == self.settings.reflections:
                break
            self.messages.append(
                {"role": "user", "content": render("repair_reflect.j2", feedback=feedback)}
            )
            kind = "reflection"
        return records, False

    def _apply(self, reply: str, kind: ReplyKind) -> tuple[ReplyRecord, str]:
        visible = self.work.read([*self.editable, *self.exercise.tests, *self.exercise.editor])
        result = apply_reply(reply, visible, self.settings.edit_format)
        protected = self.work.protected
        test_edits = tuple(sorted(p for p in result.files if p in protected))
        allowed = {p: t for p, t in result.files.items() if p not in protected}
        self.work.write(allowed)
        self.editable += [p for p, t in allowed.items() if t is not None and p not in self.editable]
        record = ReplyRecord(
            kind=kind,
            applied=result.applied,
            failures=tuple((f.path, f.reason) for f in result.failed),
            test_edits=test_edits,
            lazy=_lazy_comments(result, allowed, visible),
        )
        return record, result.feedback

    # --- tests -------------------------------------------------------------------------------

    def _test(self) -> TestOutcome:
        restored = self.work.restore()
        return run_tests(
            self.services.sandbox,
            self.language,
            self.language.commands(self.work.path, self.exercise),
            self.work.path,
            env=self.language.test_env(self.setup),
            readable=self.language.readable(self.setup),
            timeout=self.settings.test_timeout,
            hide=[self.services.cache_dir],
            restored=restored,
            limit=self.settings.output_chars,
        )

    # --- prompts -----------------------------------------------------------------------------

    def _first_prompt(self) -> str:
        return render(
            "exercise_user.j2",
            exercise=self.exercise.name,
            language=TITLES.get(self.exercise.language, self.exercise.language),
            instructions=self.exercise.instructions,
            files=self._shown(self.editable),
            readonly=self._shown(self.exercise.editor),
            paths=_joined(self.editable),
        )

    def _retry_prompt(self, test: TestOutcome) -> str:
        return render(
            "exercise_retry.j2",
            output=test.output.rstrip("\n"),
            fence=_fence(test.output),
            paths=_joined(self.exercise.solution),
            files=self._shown(self.editable),
        )

    def _shown(self, paths: Sequence[str]) -> list[dict[str, str]]:
        texts = self.work.read(paths)
        shown = []
        for path in paths:
            if path not in texts:
                continue
            text = (
                texts[path] if texts[path].endswith("\n") or not texts[path] else texts[path] + "\n"
            )
            info = fence_for(path, self.language)
            shown.append({"path": path, "text": text, "fence": _fence(text), "info": info})
        return shown


def system_prompt(edit_format: str) -> str:
    """The shared instructions every exercise of a run starts with."""
    return render("exercise_system.j2", edit_format=edit_format)


def _lazy_comments(
    result: EditResult, written: Mapping[str, str | None], before: Mapping[str, str]
) -> int:
    """Placeholder comments the reply put into files, plus whole files refused as lazy."""
    count = sum(f.reason == "lazy" for f in result.failed)
    for path, text in written.items():
        if text is None:
            continue
        added = Counter(text.splitlines()) - Counter(before.get(path, "").splitlines())
        count += sum(n for line, n in added.items() if is_placeholder(line))
    return count


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    return "`" * max(3, longest + 1)


def _joined(paths: Sequence[str]) -> str:
    return ", ".join(paths)
