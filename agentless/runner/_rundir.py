"""The run directory: its lock, and the files a run leaves in it.

``RUN_DIR/store.db`` holds everything; the rest are exports written from it as tasks finish:
``predictions.jsonl`` (SWE-bench form, one row per task), ``<instance>/result.json``,
``<instance>/patch.diff``, ``<instance>/trajectory.json`` (every prompt, reply, edit result,
test command and its output), ``summary.json``. Every file is replaced atomically, so a run
killed at any moment leaves each one whole (old or new).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agentless.errors import RunDirBusyError
from agentless.repo import file_lock
from agentless.store import Store

log = logging.getLogger("agentless.runner")

LOCK_FILE = ".lock"
OWNER_FILE = ".lock.owner"


@contextlib.contextmanager
def locked(run_dir: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the run directory for this process; a second process is refused (or waits)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(file_lock(run_dir / LOCK_FILE, wait=False))
        except BlockingIOError:
            holder = _owner(run_dir)
            if not wait:
                raise RunDirBusyError(
                    f"the run directory {run_dir} is in use by another agentless process "
                    f"({holder}); wait for it to finish, pass --wait to wait for it, or "
                    "choose another directory with --out"
                ) from None
            log.warning("waiting for %s to release %s", holder, run_dir)
            stack.enter_context(file_lock(run_dir / LOCK_FILE, wait=True))
        write_text(run_dir / OWNER_FILE, _me())
        yield


def _me() -> str:
    command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:2])
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    return f"pid {os.getpid()} on {socket.gethostname()}, `{command}`, since {started}"


def _owner(run_dir: Path) -> str:
    try:
        return (run_dir / OWNER_FILE).read_text(encoding="utf-8").strip() or "unknown process"
    except OSError:
        return "unknown process"


def safe_name(name: str) -> str:
    """A folder name for an instance id."""
    return "".join(ch if ch.isalnum() or ch in "._+-" else "_" for ch in name) or "task"


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a reader sees the old file or the new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_json(path: Path, data: Any) -> None:
    """``write_text`` of indented JSON."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def upsert_prediction(run_dir: Path, row: Mapping[str, Any]) -> None:
    """Put ``row`` into ``predictions.jsonl`` in place of any row of the same instance."""
    path = run_dir / "predictions.jsonl"
    rows = []
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    rows = [r for r in rows if r.get("instance_id") != row["instance_id"]]
    rows.append(dict(row))
    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def trajectory(store: Store, instance_id: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """Everything that happened to one task, in order: stages, model calls (prompt and
    replies), candidates with their edit results, and each test command with its output."""
    calls = [
        {
            "stage": call.stage,
            "started_at": call.started_at,
            "messages": call.request.get("messages", []),
            "request": {k: v for k, v in call.request.items() if k != "messages"},
            "replies": [c.text for c in call.completions],
            "usage": call.usage.to_dict(),
            "error": call.error,
        }
        for call in store.calls(instance_id=instance_id)
    ]
    tests = [
        {
            "argv": run.argv,
            "exit_code": run.exit_code,
            "timed_out": run.timed_out,
            "seconds": round(run.duration, 3),
            "output": run.output,
        }
        for run in store.test_runs(instance_id)
    ]
    stages = [
        {"stage": stage, "detail": detail, "at": at}
        for stage, detail, at in store.stage_history(instance_id)
    ]
    candidates = [
        {
            key: candidate.get(key)
            for key in (
                "index",
                "patch",
                "kept",
                "reason",
                "edit_failures",
                "regression_failures",
                "reproduction_passed",
            )
        }
        for candidate in result.get("candidates", [])
    ]
    return {
        "instance_id": instance_id,
        "stages": stages,
        "model_calls": calls,
        "candidates": candidates,
        "test_runs": tests,
    }
