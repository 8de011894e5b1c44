"""End to end: a real repository with a real bug and real tests, a scripted model server.

The server answers each stage like a model would: localization replies naming real places, a
reproduction script, and repairs that are malformed, wrong, or right in different forms.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.config import Config, load_config
from agentless.errors import TaskError
from agentless.model import OpenAICompatibleModel
from agentless.pipeline import Services, TaskResult, run_task
from agentless.runner import run_one
from agentless.select import Verdict
from agentless.store import Store
from agentless.tasks import load_tasks, local_task
from agentless.testing import TEST_CMD, ScriptedServer
from agentless.validate import Fixture, Sandbox, SandboxProtocol, SandboxResult

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "textstats"

MALFORMED = "The bug is in median. I would change the indexing so it averages the middle values."
WRONG = """textstats/core.py
```python
<<<<<<< SEARCH
    return ordered[middle]
=======
    return ordered[middle - 1]
>>>>>>> REPLACE
```
"""
RIGHT_DIFF = """The even case must average the two middle values.

textstats/core.py
```python
<<<<<<< SEARCH
    middle = len(ordered) // 2
    return ordered[middle]
=======
    middle = len(ordered) // 2
    if len(ordered) % 2 == 0:
        return (ordered[middle - 1] + ordered[middle]) / 2
    return ordered[middle]
>>>>>>> REPLACE
```
"""
RIGHT_UDIFF = """```diff
--- a/textstats/core.py
+++ b/textstats/core.py
@@ -30,3 +30,5 @@
     ordered = sorted(values)
     middle = len(ordered) // 2
+    if len(ordered) % 2 == 0:  # even: average the two middle values
+        return (ordered[middle - 1] + ordered[middle]) / 2
     return ordered[middle]
```
"""
REPRO = """```python
from textstats import median
if median([4, 1, 3, 2]) == 2.5:
    print("Issue resolved")
else:
    print("Issue reproduced")
```
"""


def script(srv: ScriptedServer, repairs: tuple[str, ...] = ()) -> None:
    srv.on("# Repository files", "```\ntextstats/core.py\n```")
    srv.on("# Candidate files", "```\ntextstats/core.py\nfunction: median\n```")
    srv.on("# Relevant code", "```\ntextstats/core.py\nfunction: median\n```")
    srv.on("Write a standalone Python script", REPRO)
    srv.on("could not be applied", MALFORMED)
    srv.on("# Source code", *(repairs or (MALFORMED, WRONG, RIGHT_UDIFF, RIGHT_DIFF, WRONG)))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "textstats"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return target


def config_for(srv: ScriptedServer, tmp_path: Path) -> Config:
    return load_config(
        Path("/dev/null"),
        env={},
        overrides={
            "model": {"name": "scripted", "base_url": srv.url, "backoff_base": 0.01},
            "localize": {"window_samples": 1},
            "repair": {"samples": 5, "reflections": 1},
            "run": {"cache_dir": tmp_path / "cache"},
            "validate": {"timeout": 120},
        },
    )


def test_pipeline_chooses_a_patch_that_makes_the_tests_pass(repo: Path, tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        script(srv)
        config = config_for(srv, tmp_path)
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        before = (repo / "textstats" / "core.py").read_text()
        outcome = run_one(task, config, tmp_path / "run")
    result = outcome.result
    assert (repo / "textstats" / "core.py").read_text() == before, "user checkout modified"
    reasons = [c.reason for c in result.candidates]
    assert len(result.candidates) == 5
    assert reasons[0] == "empty patch"  # malformed, even after a reflection
    # The wrong fixes break the odd case, which passed before (the even case failed before and
    # after: the totals tie with the original, the per-test comparison does not).
    assert (
        reasons[1]
        == reasons[4]
        == ("breaks 1 test that passed before: tests/test_core.py::test_median_odd")
    )
    assert result.candidates[2].key == result.candidates[3].key  # udiff == diff, normalized
    assert reasons[2].startswith("chosen with 2 vote(s)")
    assert reasons[3] == "same patch as the chosen one"
    assert [c.reproduction_passed for c in result.candidates[1:]] == [False, True, True, False]
    failures = [c.regression_failures for c in result.candidates[1:]]
    assert failures[1] == failures[2] == 0
    assert failures[0] == failures[3] == 1
    assert [c.tests_fixed for c in result.candidates[1:]] == [0, 1, 1, 0]
    verdicts = [c.verdict for c in result.candidates]
    assert verdicts == [
        Verdict.REJECTED, Verdict.REJECTED, Verdict.CHOSEN, Verdict.SAME_AS_CHOSEN, Verdict.REJECTED
    ]  # fmt: skip
    assert result.chosen is result.candidates[2] and result.chosen.patch == result.patch
    # What is written to disk reads back the same, also as written before verdicts were kept.
    assert TaskResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    written = result.to_dict()
    for record in written["candidates"]:
        del record["verdict"]
    assert TaskResult.from_dict(written) == result
    # The chosen patch really makes the repository's own tests pass.
    # The example is a plain folder: git must not take it for a subfolder of a repo above.
    ceiling = {**os.environ, "GIT_CEILING_DIRECTORIES": str(repo.parent)}
    subprocess.run(
        ["git", "apply", "-"], input=result.patch, text=True, cwd=repo, check=True, env=ceiling
    )
    tests = subprocess.run(
        ["unshare", "-n", "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout
    stored = json.loads((outcome.task_dir / "result.json").read_text())
    assert stored["model_patch"] == result.patch
    assert len(stored["candidates"]) == 5
    assert {"localize.files", "repair", "reproduce"} <= set(result.usage_by_stage)


def test_repeated_run_is_answered_from_the_store(repo: Path, tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        script(srv)
        config = config_for(srv, tmp_path)
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        first = run_one(task, config, tmp_path / "run").result
        calls = len(srv.chat_requests)
        second = run_one(task, config, tmp_path / "run").result
        assert len(srv.chat_requests) == calls, "the second run called the server"
    assert second.patch == first.patch != ""
    assert second.cached_replies > 0
    assert second.usage.prompt_tokens == 0
    with Store.for_run(tmp_path / "run") as store:
        assert store.latest_result(task.instance_id)["model_patch"] == first.patch


def test_cli_run_prints_patch_summary_and_run_dir(repo: Path, tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        script(srv)
        args = [
            "run",
            "--repo",
            str(repo),
            "--issue",
            str(repo / "ISSUE.md"),
            "--test-cmd",
            TEST_CMD,
            "--model",
            "scripted",
            "--base-url",
            srv.url,
            "--locations",
            "1",
            "--samples",
            "5",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(tmp_path / "run"),
        ]
        result = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": ""})
    assert result.exit_code == 0, result.output
    assert "diff --git a/textstats/core.py b/textstats/core.py" in result.output
    assert "chosen #2 with 2 vote(s)" in result.output
    assert f"run dir   : {tmp_path / 'run'}" in result.output
    assert re.search(
        r"^time      : [\d.]+ s \(index [\d.]+ s, localize [\d.]+ s, ", result.output, re.M
    )


def test_cli_dry_run_calls_no_model(repo: Path, tmp_path: Path) -> None:
    args = [
        "run",
        "--repo",
        str(repo),
        "--issue",
        "median is wrong for even lists",
        "--dry-run",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    result = CliRunner().invoke(main, args, env={"AGENTLESS_MODEL": "", "OPENAI_BASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert "===== localize.files: ~" in result.output
    assert "repair: ~" in result.output
    assert "prompt tokens over all requests" in result.output


def test_cli_run_without_a_model_says_what_to_set(repo: Path, tmp_path: Path) -> None:
    args = ["run", "--repo", str(repo), "--issue", "x", "--cache-dir", str(tmp_path / "c")]
    result = CliRunner().invoke(main, args, env={"AGENTLESS_MODEL": "", "OPENAI_BASE_URL": ""})
    assert result.exit_code == 2
    assert "AGENTLESS_MODEL" in result.output


def test_library_form(repo: Path, tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        script(srv)
        config = config_for(srv, tmp_path)
        model = OpenAICompatibleModel("scripted", srv.url)
        task = local_task(repo, "median is wrong for even lists", test_cmd=TEST_CMD)
        result = run_task(task, model, config, services=Services.from_config(config))
    assert "(ordered[middle - 1] + ordered[middle]) / 2" in result.patch


class RecordingSandbox:
    """A sandbox of one's own (as a container runner would be): it keeps every command it is
    asked to run, and runs it in a real ``Sandbox``."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.commands: list[tuple[str, ...]] = []

    @property
    def isolation(self) -> str:
        return f"recorded+{self.inner.isolation}"

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        readable: Sequence[Path] = (),
        fixtures: Sequence[Fixture] = (),
        memory_mb: int | None = None,
    ) -> SandboxResult:
        self.commands.append(tuple(argv))
        return self.inner.run(
            argv,
            cwd=cwd,
            env=env,
            timeout=timeout,
            readable=readable,
            fixtures=fixtures,
            memory_mb=memory_mb,
        )


def test_a_sandbox_of_ones_own_runs_every_validation_command(repo: Path, tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        script(srv)
        config = config_for(srv, tmp_path)
        sandbox = RecordingSandbox(Sandbox.from_config(config.validate_))
        mine: SandboxProtocol = sandbox
        services = Services.from_config(config, sandbox=mine)
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        model = OpenAICompatibleModel.from_config(config.model)
        result = run_task(task, model, config, services=services)
    # The same verdicts as with the default sandbox (the first test above).
    assert result.chosen is result.candidates[2]
    assert [c.tests_fixed for c in result.candidates[1:]] == [0, 1, 1, 0]
    assert [c.reproduction_passed for c in result.candidates[1:]] == [False, True, True, False]
    # Every validation command went through it: the test command and the reproduction
    # script, each on the original code and on the two distinct usable patches.
    tests = [argv for argv in sandbox.commands if argv[:3] == ("python", "-m", "pytest")]
    scripts = [argv for argv in sandbox.commands if argv[-1].endswith("/reproduce.py")]
    assert len(tests) == len(scripts) == 3
    assert len(sandbox.commands) == 6
    assert tests[0][-2:] == ("tests", "-rA")


def test_unavailable_sandbox_falls_back_to_voting_and_says_so(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"  # git and python, but neither unshare nor bwrap
    bin_dir.mkdir()
    for tool in ("git", "python"):
        found = shutil.which(tool)
        assert found
        (bin_dir / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bin_dir))
    with ScriptedServer() as srv:
        script(srv)
        config = config_for(srv, tmp_path)
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        result = run_one(task, config, tmp_path / "run").result
    assert any("validation unavailable (infrastructure)" in note for note in result.notes)
    assert all(c.regression_failures is None for c in result.candidates)
    # Two wrong and two right samples tie; without tests the earliest sample wins the vote.
    assert result.candidates[1].reason.startswith("chosen with 2 vote(s)")


def test_validation_scripts_stop_at_the_script_timeout(repo: Path, tmp_path: Path) -> None:
    slow = "```python\nimport time\ntime.sleep(60)\nprint('Issue reproduced')\n```\n"
    with ScriptedServer() as srv:
        srv.on("Write a standalone Python script", slow)  # the first matching rule answers
        script(srv)
        base = config_for(srv, tmp_path)
        config = base.model_copy(
            update={"validate_": base.validate_.model_copy(update={"script_timeout": 1.0})}
        )
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        result = run_task(task, OpenAICompatibleModel.from_config(config.model), config)
    assert "reproduction script does not show the issue; not used" in result.notes
    assert result.timings["validate"] < 30


def test_services_take_the_install_timeout_from_the_config(tmp_path: Path) -> None:
    config = Config(validate={"install_timeout": 7.0}, run={"cache_dir": tmp_path})
    assert Services.from_config(config).environments.install_timeout == 7.0


def test_an_exercise_never_shows_its_reference_solution(tmp_path: Path) -> None:
    exercise = tmp_path / "practice" / "adder"
    (exercise / ".meta").mkdir(parents=True)
    (exercise / ".docs").mkdir()
    (exercise / ".docs" / "instructions.md").write_text("Write add(a, b) returning the sum.")
    (exercise / ".meta" / "config.json").write_text(
        json.dumps(
            {
                "files": {
                    "solution": ["adder.py"],
                    "test": ["adder_test.py"],
                    "example": [".meta/example.py"],
                }
            }
        )
    )
    (exercise / ".meta" / "example.py").write_text("def add(a, b):\n    return a + b  # GOLD\n")
    (exercise / "adder.py").write_text("def add(a, b):\n    pass\n")
    (exercise / "adder_test.py").write_text(
        "from adder import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    task = load_tasks(exercise)[0]
    with ScriptedServer() as srv:
        # A model that asks for the solution file by name must not get it.
        srv.on("# Repository files", "```\n.meta/example.py\nadder.py\n```")
        srv.set_default("```\nadder.py\nfunction: add\n```")
        config = config_for(srv, tmp_path)
        result = run_task(
            task, OpenAICompatibleModel.from_config(config.model), config, validate=False
        )
        bodies = [json.dumps(request.body) for request in srv.chat_requests]
    assert bodies and not any("GOLD" in body or ".meta/" in body for body in bodies)
    assert ".meta/example.py" not in result.localization.files


@pytest.mark.parametrize(
    "option", [["--issue", "text"], ["--test-cmd", "pytest"], ["--python", "python3"]]
)
def test_cli_run_refuses_repo_options_with_a_task_file(tmp_path: Path, option: list[str]) -> None:
    dataset = tmp_path / "d.jsonl"
    row = {"instance_id": "x", "repo": str(tmp_path), "problem_statement": "p"}
    dataset.write_text(json.dumps(row) + "\n")
    result = CliRunner().invoke(main, ["run", str(dataset), *option, "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "--repo" in result.output


def test_an_unreadable_test_command_fails_before_any_model_call(repo: Path, tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        script(srv)
        config = config_for(srv, tmp_path)
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd='pytest -k "unclosed')
        with pytest.raises(TaskError, match="test command"):
            run_task(task, OpenAICompatibleModel.from_config(config.model), config)
        assert srv.chat_requests == []


def test_a_new_file_over_an_unshown_existing_file_is_dropped(repo: Path, tmp_path: Path) -> None:
    overwrite = (
        "tests/test_core.py\n```python\n<<<<<<< SEARCH\n=======\n"
        "def test_nothing():\n    pass\n>>>>>>> REPLACE\n```\n"
    )
    with ScriptedServer() as srv:
        script(srv, (overwrite, overwrite, RIGHT_DIFF))
        config = config_for(srv, tmp_path)
        config = config.model_copy(
            update={"repair": config.repair.model_copy(update={"samples": 3})}
        )
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        result = run_one(task, config, tmp_path / "run").result
    reasons = [c.reason for c in result.candidates]
    assert (
        reasons[0] == reasons[1] == "creates tests/test_core.py, which already exists (not shown)"
    )
    assert reasons[2].startswith("chosen")


SECOND_TRY = """The odd case must keep the middle value.

textstats/core.py
```python
<<<<<<< SEARCH
    return ordered[middle - 1]
=======
    if len(ordered) % 2 == 0:
        return (ordered[middle - 1] + ordered[middle]) / 2
    return ordered[middle]
>>>>>>> REPLACE
```
"""


def test_a_candidate_that_breaks_a_test_gets_a_second_try_with_its_output(
    repo: Path, tmp_path: Path
) -> None:
    with ScriptedServer() as srv:
        srv.on("I applied your edits and ran the checks", SECOND_TRY)
        script(srv, repairs=(WRONG,))
        config = config_for(srv, tmp_path)
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        result = run_one(task, config, tmp_path / "run").result
        follow_ups = [
            r for r in srv.chat_requests if "I applied your edits" in r.messages[-1]["content"]
        ]
    # Five identical wrong replies are one distinct patch: one second try, not five.
    assert len(follow_ups) == 1
    feedback = follow_ups[0].messages[-1]["content"]
    assert "- tests/test_core.py::test_median_odd" in feedback  # broke it
    assert "- tests/test_core.py::test_median_even" in feedback  # still failing
    assert "assert 1 == 2" in feedback  # pytest's own account of the odd case
    assert "    return ordered[middle - 1]" in feedback  # the code as the patch left it
    assert follow_ups[0].messages[-2]["content"] == WRONG  # the conversation goes on
    last = result.candidates[-1]
    assert len(result.candidates) == 6 and last.parent == 0
    assert last.regression_failures == 0 and last.tests_fixed == 1
    assert last.reason.startswith("chosen with 1 vote(s)")
    assert "if len(ordered) % 2 == 0:" in result.patch
    assert "ordered[middle - 1]]" not in result.patch  # taken against the original file


def test_failing_tests_stand_in_for_the_reproduction_script_when_asked(
    repo: Path, tmp_path: Path
) -> None:
    with ScriptedServer() as srv:
        script(srv)
        base = config_for(srv, tmp_path)
        settings = base.validate_.model_copy(update={"reproduction_if_tests_fail": False})
        config = base.model_copy(update={"validate_": settings})
        task = local_task(repo, str(repo / "ISSUE.md"), test_cmd=TEST_CMD)
        result = run_task(task, OpenAICompatibleModel.from_config(config.model), config)
        asked = [r for r in srv.chat_requests if "Write a standalone Python script" in r.prompt]
    assert asked == []  # test_median_even fails on the original code: no script written
    assert "no reproduction script: tests fail on the original code" in result.notes
    assert all(c.reproduction_passed is None for c in result.candidates)
    assert "(ordered[middle - 1] + ordered[middle]) / 2" in result.patch
