"""`agentless run` as a new user meets it: issue paths, --commit, --test-timeout, the cached
re-run's summary, rows without a problem statement."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentless.cli import main
from agentless.testing import TEST_CMD, ScriptedServer, make_repo, script_server

NO_MODEL = {"AGENTLESS_MODEL": "", "OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(make_repo(tmp_path, 0)["repo"])


def dry_run(project: Path, tmp_path: Path, *extra: str) -> object:
    args = ["run", "--repo", str(project), "--dry-run", "--cache-dir", str(tmp_path / "c")]
    return CliRunner().invoke(main, [*args, *extra], env=NO_MODEL)


@pytest.mark.parametrize("issue", ["ISSUE.md", "docs/bug", "notes/issue.txt"])
def test_an_issue_that_looks_like_a_missing_file_is_an_error(
    project: Path, tmp_path: Path, issue: str
) -> None:
    result = dry_run(project, tmp_path, "--issue", issue)
    assert result.exit_code == 2
    assert f"issue file not found: {issue}" in result.output


def test_issue_text_and_an_existing_issue_file_are_both_taken(
    project: Path, tmp_path: Path
) -> None:
    text = dry_run(project, tmp_path, "--issue", "clamp() is wrong above the range")
    assert text.exit_code == 0 and "clamp() is wrong above the range" in text.output
    issue = tmp_path / "ISSUE.md"
    issue.write_text("Values above the range come back as the lower bound.")
    filed = dry_run(project, tmp_path, "--issue", str(issue))
    assert filed.exit_code == 0 and "come back as the lower bound" in filed.output


def test_a_cache_folder_that_cannot_be_made_is_an_error_naming_the_setting(
    project: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    args = ["run", "--repo", str(project), "--issue", "clamp() is wrong", "--dry-run"]
    result = CliRunner().invoke(main, args, env={**NO_MODEL, "XDG_CACHE_HOME": str(blocker)})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"error: Not a directory: {blocker}" in result.output
    assert "choose another with --cache-dir or XDG_CACHE_HOME" in result.output


def test_run_commit_repairs_that_commit(project: Path, tmp_path: Path) -> None:
    base = subprocess.run(
        ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    (project / "mathx" / "later_module.py").write_text("VALUE = 1\n")
    subprocess.run(["git", "-C", str(project), "add", "."], check=True)
    subprocess.run(["git", "-C", str(project), "commit", "-qm", "later"], check=True)
    head = dry_run(project, tmp_path, "--issue", "clamp is wrong")
    old = dry_run(project, tmp_path, "--issue", "clamp is wrong", "--commit", base)
    assert head.exit_code == old.exit_code == 0, old.output
    assert "later_module.py" in head.output
    assert "later_module.py" not in old.output


def test_test_timeout_is_an_option_of_run_and_batch() -> None:
    for command in ("run", "batch"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert "--test-timeout" in result.output and "default 300" in result.output


def test_a_cached_rerun_says_no_fresh_tokens(project: Path, tmp_path: Path) -> None:
    with ScriptedServer() as srv:
        script_server(srv)
        args = [
            "run",
            "--repo",
            str(project),
            "--issue",
            "clamp(5, 0, 3) gives 0 instead of 3",
            "--test-cmd",
            TEST_CMD,
            "--model",
            "scripted",
            "--base-url",
            srv.url,
            "--locations",
            "1",
            "--samples",
            "2",
            "--test-timeout",
            "60",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(tmp_path / "run"),
        ]
        first = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": ""})
        calls = len(srv.chat_requests)
        second = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": ""})
        assert len(srv.chat_requests) == calls
    assert first.exit_code == second.exit_code == 0, second.output
    assert "cost unknown" in first.output and "fresh tokens" not in first.output
    assert f"0 fresh tokens (all {calls} replies from the store)" in second.output
    assert "$0.0000" not in second.output
    assert f"run dir   : {tmp_path / 'run'}\n" in second.output
    assert (tmp_path / "run" / "store.db").is_file()


def test_a_row_with_an_empty_problem_statement_is_an_error(tmp_path: Path) -> None:
    dataset = tmp_path / "rows.jsonl"
    row = {"instance_id": "a__b-1", "repo": "a/b", "base_commit": "0" * 40}
    dataset.write_text(json.dumps({**row, "problem_statement": "  \n"}) + "\n")
    result = CliRunner().invoke(main, ["run", str(dataset), "--dry-run"], env=NO_MODEL)
    assert result.exit_code == 2
    assert "a__b-1: problem_statement is empty" in result.output


def test_set_changes_a_field_and_a_bad_one_is_refused(project: Path, tmp_path: Path) -> None:
    issue = "clamp() is wrong above the range"
    default = dry_run(project, tmp_path, "--issue", issue)
    fewer = dry_run(project, tmp_path, "--issue", issue, "--set", "localize.retrieval_top_k=1")
    assert default.exit_code == fewer.exit_code == 0, fewer.output
    prompts = [r.output[r.output.index("=====") :] for r in (default, fewer)]
    assert prompts[0] != prompts[1]  # fewer retrieved files are shown to the model
    again = dry_run(project, tmp_path, "--issue", issue)
    assert again.output[again.output.index("=====") :] == prompts[0]
    bad = dry_run(project, tmp_path, "--issue", issue, "--set", "localize.top_k=1")
    assert bad.exit_code == 2
    assert "error: --set localize.top_k: localize has no field 'top_k'; choose from" in bad.output


def test_run_help_names_every_setting_the_readme_says_shortens_a_stage() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    table = readme.split("**What shortens each stage**", 1)[1].split("\n\n", 2)[1]
    keys = {key for key in re.findall(r"`([a-z_]+\.[a-z_]+)", table)}
    assert {"localize.ask_lines_over", "repair.feedback_candidates"} <= keys
    shown = CliRunner().invoke(main, ["run", "--help"], env=NO_MODEL).output
    words = " ".join(shown.split())
    missing = [k for k in sorted(keys) if k not in words and k.split(".")[1] not in words]
    assert missing == []
