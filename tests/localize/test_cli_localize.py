"""`agentless localize` and `agentless index` through the real CLI, on temporary repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from gitrepos import make_repo

from agentless.cli import main
from agentless.testing import ScriptedServer

FILES = {
    "calc/ops.py": "def add_numbers(a, b):\n    return a - b\n\n\ndef multiply(a, b):\n    return a * b\n",
    "calc/text.py": "def shout(words):\n    return words.upper()\n",
}
ISSUE = "add_numbers subtracts instead of adding"


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    root = tmp_path / "calc-repo"
    (sha,) = make_repo(root, FILES)
    row = {
        "instance_id": "calc-1",
        "repo": str(root),
        "base_commit": sha,
        "problem_statement": ISSUE,
        "patch": (
            "diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n"
            "@@ -1,2 +1,2 @@\n def add_numbers(a, b):\n-    return a - b\n+    return a + b\n"
        ),
    }
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "instance_id": "calc-2"}) + "\n")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_localize_retrieval_only_json(task_file, tmp_path):
    code, out = run(
        "localize",
        str(task_file),
        "--instance",
        "calc-1",
        "--retrieval-only",
        "--json",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["retrieved"][0][0] == "calc/ops.py"
    assert data["stages"] == [] and data["usage"]["calls"] == 0
    assert data["metrics"]["retrieval"]["file_recall@1"] == 1.0
    assert "files" not in data["metrics"]  # no model stage ran, so none is measured


def test_localize_with_a_model_prints_each_stage_and_cost(task_file, tmp_path):
    with ScriptedServer() as srv:
        srv.on("# Repository files", "```\ncalc/ops.py\n```")
        srv.on("# Candidate files", "```\ncalc/ops.py\nfunction: add_numbers\n```")
        srv.on("# Relevant code", "```\ncalc/ops.py\nline: 2\n```")
        code, out = run(
            "localize",
            str(task_file),
            "--instance",
            "calc-1",
            "--model",
            "m",
            "--base-url",
            srv.url,
            "--cache-dir",
            str(tmp_path / "cache"),
        )
    assert code == 0, out
    assert "calc/ops.py: function add_numbers (lines 1-2)" in out
    assert "#1 calc/ops.py: 2" in out
    # files, elements, windows (a greedy request, then one request for 3 samples)
    assert "total cost: calls 4," in out
    assert "windows: file_recall 1.00, function_recall 1.00, line_recall 1.00" in out


def test_localize_needs_an_instance_when_the_file_has_several(task_file, tmp_path):
    code, out = run("localize", str(task_file), "--retrieval-only", "--cache-dir", str(tmp_path))
    assert code == 2
    assert "choose one with --instance" in out


def test_index_command_builds_then_loads(tmp_path):
    root = tmp_path / "r"
    make_repo(root, FILES)
    args = ("index", str(root), "--cache-dir", str(tmp_path / "cache"))
    code, out = run(*args)
    assert code == 0 and "built in" in out and "2 indexed" in out
    code, out = run(*args)
    assert code == 0 and "loaded from the cache" in out
