"""Every Python example in the README runs as written: only its endpoint and its paths are
swapped for a scripted server on loopback and a copy of the bundled example project. A new
example must be added to RUNS (or to NOT_RUN, with the reason) or this test fails."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from agentless.model._local_models import MODELS, models_dir
from agentless.model._local_server import server_available
from agentless.testing import ScriptedServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "textstats"
FIX = """textstats/core.py
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


def readme_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def textstats_server() -> ScriptedServer:
    srv = ScriptedServer(default="no idea")
    srv.on("# Repository files", "```\ntextstats/core.py\n```")
    srv.on("# Candidate files", "```\ntextstats/core.py\nfunction: median\n```")
    srv.on("# Relevant code", "```\ntextstats/core.py\nfunction: median\n```")
    srv.on("# Source code", FIX)
    return srv


# A line unique to the example -> how to make it runnable, and what its output must show.
RUNS: dict[str, tuple[str, str]] = {
    "result = run_task(task, model, load_config())": (
        "library",
        "(ordered[middle - 1] + ordered[middle]) / 2",
    ),
    'with Store.for_run("runs/try1") as store:': ("store", "{'unknown': {"),
    "with ScriptedServer(default=": ("tests/model/test_model_readme.py runs it", ""),
    'with local_server("qwen2.5-coder-1.5b") as endpoint:': ("local", ""),
    'result = apply_reply(reply_text, {"src/app.py": source}, fmt="auto")': (
        "apply",
        "+        return (ordered[middle - 1] + ordered[middle]) / 2",
    ),
}
NOT_RUN = {
    # Names a tree, an environment and a patch the reader has; the same calls run against
    # real ones in tests/validate/test_validate_validators.py.
    "baseline = run_test_files(tree, env, tests, sandbox=sandbox)": "fragment",
    # The same: check() and its grading run on real trees in tests/validate/test_validate_check.py.
    'verdicts = check(plan, {"a": patch_a, "b": patch_b})': "fragment",
}


def kind_of(block: str) -> str:
    for line, (kind, _) in RUNS.items():
        if line in block:
            return kind
    for line in NOT_RUN:
        if line in block:
            return "not run"
    raise AssertionError(f"a README example no test runs:\n{block}")


def test_every_readme_example_is_run_or_says_why_not() -> None:
    kinds = [kind_of(block) for block in readme_blocks()]
    assert len(kinds) >= len(RUNS)


def block_with(line: str) -> str:
    [block] = [b for b in readme_blocks() if line in b]
    return block


def test_the_library_example_repairs_the_bundled_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = "result = run_task(task, model, load_config())"
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with textstats_server() as srv:
        code = block_with(line).replace("http://127.0.0.1:8000/v1", srv.url)
        exec(compile(code.replace("path/to/project", str(project)), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert RUNS[line][1] in out
    assert re.search(r"^0 (chosen|same as chosen) ", out, re.MULTILINE), out


def test_the_store_example_records_every_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = 'with Store.for_run("runs/try1") as store:'
    monkeypatch.chdir(tmp_path)
    with ScriptedServer(default="a reply", models=["qwen2.5-coder-32b"]) as srv:
        code = block_with(line).replace("http://127.0.0.1:8000", srv.root)
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.count("'a reply'") == 4, out
    assert (tmp_path / "runs" / "try1" / "store.db").is_file()


def test_the_apply_example_prints_the_diff(capsys: pytest.CaptureFixture[str]) -> None:
    line = 'result = apply_reply(reply_text, {"src/app.py": source}, fmt="auto")'
    source = (EXAMPLE / "textstats" / "core.py").read_text()
    reply = FIX.replace("textstats/core.py", "src/app.py")
    names = {"reply_text": reply, "source": source}
    exec(compile(block_with(line), "README.md", "exec"), names)
    out = capsys.readouterr().out
    assert out.startswith("diff --git a/src/app.py b/src/app.py") and RUNS[line][1] in out


def test_the_local_server_example_answers(capsys: pytest.CaptureFixture[str]) -> None:
    # The example names the 1.5B model (a 1 GB download); the test model stands in for it.
    line = 'with local_server("qwen2.5-coder-1.5b") as endpoint:'
    if not server_available() or not (models_dir() / MODELS["smollm2-135m"].filename).is_file():
        pytest.skip("llama-cpp-python or the smollm2-135m test model is missing (make test)")
    code = block_with(line).replace("qwen2.5-coder-1.5b", "smollm2-135m")
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()
