"""``run_task``: the whole flow for one task, top to bottom.

    checkout & index -> localize -> repair (sample, apply) -> validate -> select -> TaskResult

Each step is one call into its stage; this module only wires them together, meters model use per
stage, times the steps and records the result. A ``Journal`` (the runner gives one per task)
hears which stage is running and keeps finished validations, so a resumed task does not run
its tests again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agentless._jsonform import JSONMapping, JSONObject, JSONValue
from agentless.config import Config
from agentless.errors import RepoError, ValidationError
from agentless.localize import Localization, localize_task
from agentless.model import Completion, Message, Model, Usage
from agentless.repair import (
    RepairSample,
    TestReport,
    code_windows,
    generate_repairs,
    repair_after_tests,
    write_reproduction,
)
from agentless.repo import RepoIndex, Workspace, default_cache_dir, index_for
from agentless.select import (
    Candidate,
    Selection,
    Verdict,
    filter_candidates,
    patch_key,
    second_try_targets,
    select,
)
from agentless.tasks import Task
from agentless.validate import (
    Environment,
    EnvironmentManager,
    PatchVerdict,
    Recipe,
    Sandbox,
    SandboxProtocol,
    ValidationPlan,
    check,
    find_regression_tests,
    installed_task,
    user_test_command,
)

log = logging.getLogger(__name__)


class Journal(Protocol):
    """What a run of one task tells its runner, and what it may find there again."""

    def stage(self, name: str, detail: str = "") -> None:
        """The task entered ``name`` (``detail``: what it is doing there)."""
        ...

    def recall(self, name: str, key: str) -> JSONValue:
        """A value kept earlier under ``(name, key)``, or ``None``."""
        ...

    def keep(self, name: str, key: str, value: JSONValue) -> None:
        """Keep a finished step's JSON-ready value under ``(name, key)``."""
        ...


class _NoJournal:
    def stage(self, name: str, detail: str = "") -> None:
        pass

    def recall(self, name: str, key: str) -> JSONValue:
        return None

    def keep(self, name: str, key: str, value: JSONValue) -> None:
        pass


class MeteredModel:
    """Wraps a model to sum usage per stage for one task (the store keeps the call log)."""

    def __init__(self, model: Model) -> None:
        self.inner = model
        self.by_stage: dict[str, Usage] = {}
        self.cached_replies = 0

    @property
    def name(self) -> str:
        return self.inner.name

    # `kw`: the Model protocol's pass-through options, untyped there.
    def complete(  # type: ignore[explicit-any]
        self, messages: Sequence[Message], *, stage: str = "", **kw: Any
    ) -> list[Completion]:
        completions = self.inner.complete(messages, stage=stage, **kw)
        stage = stage or "other"
        fresh = [c for c in completions if not c.cached]
        self.cached_replies += len(completions) - len(fresh)
        spent = sum((c.usage for c in fresh), Usage())
        self.by_stage[stage] = self.by_stage.get(stage, Usage()) + spent
        return completions

    @property
    def total(self) -> Usage:
        return sum(self.by_stage.values(), Usage())


@dataclass(frozen=True)
class CandidateRecord:
    """One candidate as the result keeps it: its patch, what validation said of it, and
    the selection's verdict (``reason`` says it in words)."""

    index: int
    location_set: int
    patch: str
    verdict: Verdict
    reason: str
    kept: bool
    votes: int = 0
    key: str = ""
    regression_failures: int | None = None
    broken_tests: tuple[str, ...] = ()
    tests_fixed: int | None = None
    still_failing: tuple[str, ...] = ()
    parent: int | None = None
    reproduction_passed: bool | None = None
    edit_failures: tuple[str, ...] = ()
    replies: tuple[str, ...] = ()

    def to_dict(self) -> JSONObject:
        """A JSON-ready mapping (tuples as lists, the verdict by value)."""
        data = dataclasses.asdict(self)
        data["verdict"] = self.verdict.value
        for name in ("broken_tests", "still_failing", "edit_failures", "replies"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: JSONMapping) -> CandidateRecord:
        """Inverse of ``to_dict``; also reads results written before verdicts were kept."""
        reason = str(data.get("reason", ""))
        verdict = data.get("verdict") or _verdict_of_reason(reason, bool(data.get("kept")))
        return cls(
            index=int(data["index"]),
            location_set=int(data.get("location_set", 0)),
            patch=str(data.get("patch", "")),
            verdict=Verdict(verdict),
            reason=reason,
            kept=bool(data.get("kept")),
            votes=int(data.get("votes", 0)),
            key=str(data.get("key", "")),
            regression_failures=data.get("regression_failures"),
            broken_tests=tuple(data.get("broken_tests", ())),
            tests_fixed=data.get("tests_fixed"),
            still_failing=tuple(data.get("still_failing", ())),
            parent=data.get("parent"),
            reproduction_passed=data.get("reproduction_passed"),
            edit_failures=tuple(data.get("edit_failures", ())),
            replies=tuple(data.get("replies", ())),
        )


def _verdict_of_reason(reason: str, kept: bool) -> Verdict:
    # Results from before verdicts were recorded said it only in words.
    if reason.startswith("chosen"):
        return Verdict.CHOSEN
    if reason == "same patch as the chosen one":
        return Verdict.SAME_AS_CHOSEN
    return Verdict.OUTVOTED if kept and reason == "outvoted" else Verdict.REJECTED


@dataclass
class TaskResult:
    """Everything ``run_task`` decided, with what it cost."""

    instance_id: str
    model_name: str
    patch: str
    candidates: list[CandidateRecord]
    localization: Localization
    selection_steps: list[str]
    usage: Usage
    usage_by_stage: dict[str, Usage]
    cached_replies: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def cost(self) -> float | None:
        """Money spent on fresh model calls; ``None`` when a price is unknown."""
        return self.usage.cost

    @property
    def chosen(self) -> CandidateRecord | None:
        """The candidate whose patch was chosen, if any."""
        return next((c for c in self.candidates if c.verdict is Verdict.CHOSEN), None)

    def prediction(self) -> dict[str, str]:
        """This result as one SWE-bench predictions row."""
        return {
            "instance_id": self.instance_id,
            "model_name_or_path": self.model_name,
            "model_patch": self.patch,
        }

    @classmethod
    def from_dict(cls, data: JSONMapping) -> TaskResult:
        """Inverse of ``to_dict``."""
        return cls(
            instance_id=data["instance_id"],
            model_name=data.get("model_name_or_path", ""),
            patch=data.get("model_patch", ""),
            candidates=[CandidateRecord.from_dict(c) for c in data.get("candidates", [])],
            localization=Localization.from_dict(data.get("localization", {})),
            selection_steps=list(data.get("selection_steps", [])),
            usage=Usage.from_dict(data.get("usage", {})),
            usage_by_stage={
                k: Usage.from_dict(v) for k, v in data.get("usage_by_stage", {}).items()
            },
            cached_replies=int(data.get("cached_replies", 0)),
            timings=dict(data.get("timings", {})),
            notes=list(data.get("notes", [])),
        )

    def to_dict(self) -> JSONObject:
        """A JSON-ready mapping."""
        return {
            **self.prediction(),
            "candidates": [c.to_dict() for c in self.candidates],
            "localization": self.localization.to_dict(),
            "selection_steps": self.selection_steps,
            "usage": self.usage.to_dict(),
            "usage_by_stage": {k: v.to_dict() for k, v in self.usage_by_stage.items()},
            "cached_replies": self.cached_replies,
            "timings": self.timings,
            "notes": self.notes,
        }


@dataclass
class Services:
    """Collaborators a run uses; built from the config when not given."""

    workspace: Workspace
    environments: EnvironmentManager
    sandbox: SandboxProtocol
    local_python: Path
    # Recipes by repository that win over the registry's (tests, in-house repositories).
    recipes: Mapping[str, Recipe] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config, *, sandbox: SandboxProtocol | None = None) -> Services:
        """The collaborators ``config`` describes; ``sandbox`` (the runner's, or one of your
        own) replaces the ``Sandbox`` the config describes."""
        cache = config.run.cache_dir or default_cache_dir()
        return cls(
            workspace=Workspace(cache, config.run.repo_url_template, config.run.mirrors_dir),
            environments=EnvironmentManager(
                config.validate_.env_dir or cache / "envs",
                install_timeout=config.validate_.install_timeout,
            ),
            sandbox=Sandbox.from_config(config.validate_) if sandbox is None else sandbox,
            local_python=Path(config.validate_.python or sys.executable),
        )


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.seconds[step] = round(time.monotonic() - start, 3)


def run_task(
    task: Task,
    model: Model,
    config: Config | None = None,
    *,
    services: Services | None = None,
    validate: bool = True,
    journal: Journal | None = None,
) -> TaskResult:
    """Localize, repair, validate and select for one task; ``TaskResult.patch`` is '' when no
    candidate survived."""
    config = config or Config()
    services = services or Services.from_config(config)
    journal = journal or _NoJournal()
    metered = MeteredModel(model)
    timer = _Timer()
    if task.test_cmd:
        user_test_command(task.test_cmd)  # an unreadable command fails before any model call
    commit = services.workspace.resolve(task.repo, task.base_commit, exclude=task.hidden)
    log.info("%s: indexing %s at %s", task.instance_id, task.repo, commit[:12])
    journal.stage("index", f"{task.repo} @ {commit[:12]}")
    with timer("index"):
        index = index_for(services.workspace, task.repo, commit)
    log.info("%s: localizing", task.instance_id)
    journal.stage("localize")
    with timer("localize"):
        located = localize_task(task, index, metered, config.localize)
    files = _located_files(index, located)
    log.info("%s: repairing %d location set(s)", task.instance_id, len(located.location_sets))
    journal.stage("repair", f"{len(located.location_sets)} location set(s)")
    with timer("repair"):
        samples = generate_repairs(
            metered, task.problem_statement, files, located.location_sets, config.repair
        )
    candidates = [_candidate(n, sample, files, index) for n, sample in enumerate(samples)]
    checker = _Checker(task, commit, files, located, metered, config, services, journal)
    if validate and filter_candidates(candidates):
        with timer("validate"):
            checker.check(candidates)
        targets = second_try_targets(
            candidates, checker.verdicts, config.repair.feedback_candidates
        )
        if targets and checker.available:
            journal.stage("repair", f"second try of {len(targets)} candidate(s), with test output")
            with timer("feedback"):
                more = _second_tries(targets, samples, files, checker, metered, config)
            fresh = [_candidate(len(samples) + n, s, files, index) for n, s in enumerate(more)]
            for candidate, target in zip(fresh, targets, strict=True):
                candidate.parent = target.index
                if candidate.new_files and patch_key(candidate) == target.key:
                    # The same patch again must not count as a second vote for it.
                    candidate.problem = f"the second try gives #{target.index}'s patch again"
            samples += more
            candidates += fresh
            if filter_candidates(fresh):
                with timer("validate.feedback"):
                    checker.check(fresh)
    journal.stage("select")
    # A user's own repository gets no patch that breaks its passing tests, nor one that no
    # check shows fixing anything when a check could have (see select.py).
    local = task.kind == "local"
    selection = select(
        candidates, checker.verdicts, allow_breaking=not local, require_evidence=local
    )
    log.info("%s: %s", task.instance_id, selection.steps[-1])
    return _result(task, metered, located, samples, selection, timer.seconds, checker.notes)


def _located_files(index: RepoIndex, located: Localization) -> dict[str, str]:
    paths = {path for loc in located.location_sets for path in loc} | set(located.files)
    return {path: index.read_text(path) for path in sorted(paths) if path in index.files}


def _candidate(
    number: int, sample: RepairSample, files: Mapping[str, str], index: RepoIndex
) -> Candidate:
    # The model saw only the located files: a "new" file at a path the repository already has
    # would not apply, and must not win a vote.
    clashes = [p for p in sample.new_files if p not in files and p in index.files]
    return Candidate(
        index=number,
        patch=sample.patch,
        new_files=sample.new_files,
        old_files=files,
        location_set=sample.location_set,
        problem=f"creates {clashes[0]}, which already exists (not shown)" if clashes else "",
    )


class _Checker:
    """Validates candidates for one task, once per distinct patch, keeping the verdicts by
    vote key (selection reads them there); the reproduction script is written once and kept
    for later rounds."""

    def __init__(
        self,
        task: Task,
        commit: str,
        files: Mapping[str, str],
        located: Localization,
        model: Model,
        config: Config,
        services: Services,
        journal: Journal,
    ) -> None:
        self.task, self.commit, self.files, self.located = task, commit, files, located
        self.model, self.config, self.services, self.journal = model, config, services, journal
        self.script: str | None = None
        self.verdicts: dict[str, PatchVerdict] = {}
        self.notes: list[str] = []
        self.available = True

    def check(self, candidates: Sequence[Candidate]) -> None:
        """Validate the usable ones among ``candidates``; infrastructure trouble is a note
        (selection then votes without verdicts), not an exception."""
        usable = [c for c in candidates if c.kept]
        # The earliest sample's text per key; a patch validated in an earlier round is not
        # run again.
        patches = {c.key: c.patch for c in reversed(usable) if c.key not in self.verdicts}
        if patches:
            log.info("%s: validating %d distinct patch(es)", self.task.instance_id, len(patches))
            self.journal.stage("validate", f"{len(patches)} distinct patch(es)")
            try:
                checks = self._checks(patches, sorted({p for c in usable for p in c.new_files}))
            except (ValidationError, RepoError) as exc:
                log.warning("%s: validation unavailable: %s", self.task.instance_id, exc)
                self.available = False
                self._note(f"validation unavailable (infrastructure): {exc}")
                return
            if checks is None:
                self.available = False
                self._note(
                    "no validator to run (no test command, regression tests or reproduction)"
                )
                return
            self.verdicts.update(checks)
            for note in sorted({note for result in checks.values() for note in result.notes}):
                self._note(note)

    def report(self, candidate: Candidate) -> TestReport:
        """What the checks found about ``candidate``, for its second try."""
        result = self.verdicts.get(candidate.key, PatchVerdict())
        return TestReport(
            broken=result.broken,
            still_failing=result.still_failing,
            fixed=result.fixed_tests,
            test_output=result.test_output,
            reproduction_script=self.script or "",
            reproduction_output=result.reproduction_output,
        )

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _checks(
        self, patches: Mapping[str, str], edited: Sequence[str]
    ) -> dict[str, PatchVerdict] | None:
        settings, task = self.config.validate_, self.task
        tests = bool(task.test_cmd or settings.regression)
        # Only the task's own command: regression tests found near the edit may fail for
        # reasons that have nothing to do with the issue.
        tests_first = (
            bool(task.test_cmd)
            and settings.reproduction
            and not settings.reproduction_if_tests_fail
        )
        if self.script is None and not tests_first:
            self.script = self._write_script()
        if not (tests or self.script):
            return None
        checks = self._run(patches, edited, self.script or "", tests=tests)
        if self.script is None:  # tests first, and this is the first round
            failing = any(c.still_failing or c.fixed for c in checks.values())
            self.script = "" if failing else self._write_script()
            if failing:
                self._note("no reproduction script: tests fail on the original code")
            elif self.script:
                scripted = self._run(patches, edited, self.script, tests=False)
                for key, result in scripted.items():
                    checks[key] = _with_reproduction(checks[key], result)
        return checks

    def _write_script(self) -> str:
        if not self.config.validate_.reproduction:
            return ""
        sets = self.located.location_sets
        windows = code_windows(self.files, sets[0] if sets else {}, 5)
        return write_reproduction(self.model, self.task.problem_statement, windows)

    def _run(
        self, patches: Mapping[str, str], edited: Sequence[str], script: str, *, tests: bool
    ) -> dict[str, PatchVerdict]:
        """The verdicts of one validation pass, from the store when it ran before."""
        config = self.config
        if not tests:
            settings = config.validate_.model_copy(update={"regression": False})
            config = config.model_copy(update={"validate_": settings})
        # A reproduction-only pass runs neither the task's command nor regression tests.
        task = self.task if tests else self.task.model_copy(update={"test_cmd": ""})
        key = _validation_key(task, self.commit, patches, edited, script, config)
        saved = self.journal.recall("validate", key)
        if saved is not None:
            self.journal.stage("validate", "verdicts from the store (validated before)")
            return {k: PatchVerdict.from_dict(v) for k, v in saved.items()}
        checks = _check(
            task, self.commit, patches, edited, script, config, self.services, self.journal
        )
        self.journal.keep("validate", key, {k: v.to_dict() for k, v in checks.items()})
        return checks


def _with_reproduction(tests: PatchVerdict, scripted: PatchVerdict) -> PatchVerdict:
    """The tests' verdict with the reproduction script's beside it."""
    return dataclasses.replace(
        tests,
        reproduction_passed=scripted.reproduction_passed,
        reproduction_output=scripted.reproduction_output,
        notes=(*tests.notes, *(n for n in scripted.notes if n not in tests.notes)),
    )


def _second_tries(
    targets: Sequence[Candidate],
    samples: Sequence[RepairSample],
    files: Mapping[str, str],
    checker: _Checker,
    model: Model,
    config: Config,
) -> list[RepairSample]:
    """One follow-up per target, carrying what its checks printed."""
    more = []
    for target in targets:
        log.info("second try of candidate #%d with its test output", target.index)
        report = checker.report(target)
        more.append(repair_after_tests(model, samples[target.index], files, report, config.repair))
    return more


def _check(
    task: Task,
    commit: str,
    patches: Mapping[str, str],
    edited: Sequence[str],
    script: str,
    config: Config,
    services: Services,
    journal: Journal,
) -> dict[str, PatchVerdict]:
    with _validation_tree(task, commit, services) as (tree, env, reset):
        plan = ValidationPlan(
            tree=tree,
            env=env,
            sandbox=services.sandbox,
            regression_tests=tuple(find_regression_tests(tree, edited))
            if config.validate_.regression
            else (),
            test_command=user_test_command(task.test_cmd) if task.test_cmd else None,
            reproduction_script=script,
            timeout=config.validate_.script_timeout,
            reset=reset,
            progress=functools.partial(journal.stage, "validate"),
        )
        return check(plan, patches)


def _validation_key(
    task: Task,
    commit: str,
    patches: Mapping[str, str],
    edited: Sequence[str],
    script: str,
    config: Config,
) -> str:
    """What the verdicts depend on: a resumed task with the same inputs reuses them."""
    settings = config.validate_.model_dump(mode="json")
    parts = [task.repo, commit, task.test_cmd, dict(patches), list(edited), script, settings]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@contextmanager
def _validation_tree(
    task: Task, commit: str, services: Services
) -> Iterator[tuple[Path, Environment, Callable[[], None]]]:
    """Where candidates are tested: a SWE-bench task's tree installed at its own commit (as
    ``eval`` has it), else a worktree with the local interpreter; and how to reset it."""
    if task.kind == "swebench":
        with installed_task(
            task, services.workspace, services.environments, services.recipes
        ) as layer:
            yield layer.tree, layer.env, layer.reset
        return
    local = Environment.from_python(services.local_python, Recipe(python="", log_parser="pytest"))
    with services.workspace.checkout(task.repo, commit) as tree:
        yield tree, local, functools.partial(services.workspace.reset, tree, commit)


def _result(
    task: Task,
    metered: MeteredModel,
    located: Localization,
    samples: Sequence[RepairSample],
    selection: Selection,
    timings: dict[str, float],
    notes: list[str],
) -> TaskResult:
    records = [
        CandidateRecord(
            index=candidate.index,
            location_set=candidate.location_set,
            patch=candidate.patch,
            verdict=selection.verdict(candidate),
            reason=candidate.reason,
            kept=candidate.kept,
            votes=candidate.votes,
            key=candidate.key,
            regression_failures=found.regression_failures,
            broken_tests=found.broken,
            tests_fixed=found.fixed,
            still_failing=found.still_failing,
            parent=candidate.parent,
            reproduction_passed=found.reproduction_passed,
            edit_failures=tuple(sample.failures),
            replies=tuple(sample.replies),
        )
        for candidate, sample in zip(selection.candidates, samples, strict=True)
        for found in [selection.evidence(candidate)]
    ]
    return TaskResult(
        instance_id=task.instance_id,
        model_name=metered.name,
        patch=selection.patch,
        candidates=records,
        localization=located,
        selection_steps=selection.steps,
        usage=metered.total,
        usage_by_stage=dict(metered.by_stage),
        cached_replies=metered.cached_replies,
        timings=timings,
        notes=notes,
    )
