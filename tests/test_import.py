"""`import agentless` is silent, creates nothing and pulls in no heavy module (its time is
measured by benchmarks/import_time.py, not asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = (
    "import time, sys; t = time.perf_counter(); import agentless; "
    "dt = time.perf_counter() - t; "
    "heavy = sorted(m for m in ('httpx', 'pydantic', 'git', 'bm25s', 'numpy', 'jinja2', 'rich') "
    "if m in sys.modules); "
    "import json; sys.stderr.write(json.dumps([dt, heavy]))"
)


def run_python(code: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_import_prints_nothing_and_creates_nothing(tmp_path: Path) -> None:
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    result = run_python("import agentless", cwd, home)
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
    assert list(cwd.iterdir()) == [] and list(home.iterdir()) == []


def test_import_loads_no_heavy_module(tmp_path: Path) -> None:
    result = run_python(PROBE, tmp_path, tmp_path)
    assert result.returncode == 0, result.stderr
    _, heavy = json.loads(result.stderr)
    assert heavy == []


def test_public_names_resolve_lazily() -> None:
    import agentless

    for name in ("Completion", "Model", "OpenAICompatibleModel", "Usage", "Store"):
        assert name in agentless.__all__
        assert getattr(agentless, name).__name__ == name


# The public surface, pinned: adding or removing a name is a decision, made here on purpose.
PUBLIC = {
    "__version__", "AgentlessError", "Config", "load_config", "Completion", "Model",
    "OpenAICompatibleModel", "Usage", "apply_reply", "EditResult", "EditFailure",
    "EditFormatError", "Store", "Task", "load_tasks", "run_task", "TaskResult", "Workspace",
    "RepoIndex", "load_index", "index_for", "Localization", "localize_task",
}  # fmt: skip


def test_public_surface_is_pinned_documented_and_resolvable() -> None:
    import agentless

    assert set(agentless.__all__) == PUBLIC and len(agentless.__all__) == len(PUBLIC)
    assert sorted(dir(agentless)) == sorted(PUBLIC)
    for name in PUBLIC - {"__version__"}:
        value = getattr(agentless, name)
        assert (value.__doc__ or "").strip(), f"agentless.{name} has no docstring"
        assert value.__module__.startswith("agentless."), name
    try:
        agentless.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")
    assert agentless.localize.localize.__module__ == "agentless.localize._run"
