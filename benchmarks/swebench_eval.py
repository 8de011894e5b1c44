"""SWE-bench evaluation benchmark: gold (cold, then warm), empty and deliberately wrong patches.

    .venv/bin/python benchmarks/swebench_eval.py DATASET --out DIR [--mirrors DIR]
        [--instances ID ...] [--repos OWNER/NAME,...] [--workers N]
        [--phases gold,warm,empty,wrong] [--markdown]

Phases, each writing ``agentless eval`` output under ``DIR/<phase>/``:

- ``gold``: the dataset's own patches with the environment cache in ``--env-dir`` (default
  ``DIR/envs``; cold the first time: environments are built);
- ``warm``: the same again into a fresh output folder, reusing the environments;
- ``empty``: empty patches (none may resolve);
- ``wrong``: for each instance, a patch that applies but fixes nothing (a comment appended to
  the first file the gold patch edits; none may resolve).

Prints per instance the outcome of each phase and the seconds spent (shared environment +
the task's own install at its commit + tests), the totals and the figures per repository;
``--markdown`` prints the tables for the README.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from agentless.config import load_config
from agentless.errors import RepoError
from agentless.repo import Workspace
from agentless.runner import run_evaluation
from agentless.tasks import Task, load_tasks, select_instances
from agentless.validate._testrun import files_in_patch

PHASES = ("gold", "warm", "empty", "wrong")


def wrong_patch(workspace: Workspace, task: Task) -> str:
    """A patch that applies cleanly and changes nothing that matters."""
    target = next((p for p in files_in_patch(task.patch) if p.endswith(".py")), None)
    if target is None:
        return ""
    try:
        with workspace.checkout(task.repo, task.base_commit) as tree:
            return _append_comment(tree, target)
    except RepoError as exc:  # e.g. no mirror: the eval reports it as infrastructure
        print(f"{task.instance_id}: no wrong patch ({exc})", file=sys.stderr)
        return "# no patch: repository unavailable\n"


def _append_comment(tree: Path, target: str) -> str:
    path = tree / target
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + ("" if text.endswith("\n") else "\n") + "# not a fix\n")
    return subprocess.run(
        ["git", "-C", str(tree), "diff"], capture_output=True, text=True, check=True
    ).stdout


def write_predictions(path: Path, patches: dict[str, str], model: str) -> Path:
    rows = [
        {"instance_id": iid, "model_name_or_path": model, "model_patch": patch}
        for iid, patch in patches.items()
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def run_phase(
    args: argparse.Namespace, phase: str, predictions: str, instances: list[str]
) -> dict[str, Any]:
    config = load_config(
        overrides={
            "run": {
                "run_dir": args.out / phase,
                "workers": args.workers,
                "mirrors_dir": args.mirrors,
                "cache_dir": args.cache_dir,
            },
            "validate": {"env_dir": args.env_dir},
        }
    )
    return run_evaluation(
        args.dataset, predictions, config, instances=instances, show_progress=False
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mirrors", type=Path)
    parser.add_argument("--instances", nargs="*", default=[])
    parser.add_argument("--repos", default="", help="only these repositories (comma-separated)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--env-dir", type=Path, help="environment cache (default: OUT/envs)")
    parser.add_argument("--cache-dir", type=Path, help="mirrors/worktrees (default: OUT/cache)")
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.env_dir = args.env_dir or args.out / "envs"
    args.cache_dir = args.cache_dir or args.out / "cache"
    tasks = select_instances(load_tasks(args.dataset), args.instances or None)
    if args.repos:
        tasks = [task for task in tasks if task.repo in args.repos.split(",")]
    ids = [task.instance_id for task in tasks]
    workspace = Workspace(args.cache_dir, mirrors_dir=args.mirrors)

    summaries: dict[str, dict[str, Any]] = {}
    for phase in args.phases.split(","):
        if phase in ("gold", "warm"):
            predictions = "gold"
        elif phase == "empty":
            patches = dict.fromkeys(ids, "")
            predictions = str(write_predictions(args.out / "empty.jsonl", patches, "empty"))
        elif phase == "wrong":
            patches = {task.instance_id: wrong_patch(workspace, task) for task in tasks}
            predictions = str(write_predictions(args.out / "wrong.jsonl", patches, "wrong"))
        else:
            parser.error(f"unknown phase {phase!r}; choose from {', '.join(PHASES)}")
        print(f"== {phase}", file=sys.stderr, flush=True)
        summaries[phase] = run_phase(args, phase, predictions, ids)

    report(summaries, tasks, args.out, markdown=args.markdown)
    (args.out / "benchmark.json").write_text(json.dumps(summaries, indent=2) + "\n")
    return 0


def outcome_of(summary: dict[str, Any], iid: str) -> str:
    for key, name in (
        ("resolved_ids", "resolved"),
        ("ungraded_ids", "unresolved (not gradable)"),
        ("unresolved_ids", "unresolved"),
        ("empty_patch_ids", "empty_patch"),
        ("environment_failure_ids", "environment failure"),
        ("error_ids", "error"),
    ):
        if iid in summary.get(key, []):
            return name
    return "-"


def _seconds(summary: dict[str, Any], iid: str) -> str:
    s = summary.get("seconds", {}).get(iid)
    if not s:
        return "-"
    return f"{s['env']:.1f}+{s.get('install', 0.0) + s.get('reinstall', 0.0):.1f}+{s['test']:.1f}"


def _table(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for cells in rows:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for cells in [head, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)))


def report(
    summaries: dict[str, dict[str, Any]], tasks: list[Task], out: Path, markdown: bool
) -> None:
    phases = list(summaries)
    head = ["instance", *phases, "cold s (env+install+test)", "warm s (env+install+test)"]
    rows = []
    for task in tasks:
        iid = task.instance_id
        cells = [iid, *(outcome_of(summaries[p], iid) for p in phases)]
        cells += [_seconds(summaries.get(phase, {}), iid) for phase in ("gold", "warm")]
        rows.append(cells)
    _table(head, rows, markdown)
    print()
    _table(*by_repository(summaries, tasks), markdown)
    print()
    for phase, summary in summaries.items():
        seconds = list(summary.get("seconds", {}).values())
        total = sum(s["total"] for s in seconds)
        installs = [s["install"] for s in seconds if not s.get("install_reused", True)]
        print(
            f"{phase}: {summary['resolved_instances']}/{len(summary['submitted_ids'])} resolved, "
            f"{summary['error_instances']} error "
            f"({len(summary.get('environment_failure_ids', []))} environment); {total:.0f}s in "
            f"all, {total / max(1, len(seconds)):.1f}s per instance; {len(installs)} task "
            f"installs, {sum(installs) / max(1, len(installs)):.1f}s each "
            f"(output {out / phase})"
        )


def by_repository(
    summaries: dict[str, dict[str, Any]], tasks: list[Task]
) -> tuple[list[str], list[list[str]]]:
    """Per repository: instances, resolved per phase, mean cold and warm seconds."""
    phases = list(summaries)
    head = ["repository", "rows", *phases, "cold s/instance", "warm s/instance"]
    rows = []
    for repo in sorted({task.repo for task in tasks}):
        ids = [task.instance_id for task in tasks if task.repo == repo]
        cells = [repo, str(len(ids))]
        cells += [str(sum(outcome_of(summaries[p], i) == "resolved" for i in ids)) for p in phases]
        for phase in ("gold", "warm"):
            seconds = [summaries.get(phase, {}).get("seconds", {}).get(i) for i in ids]
            known = [s["total"] for s in seconds if s]
            cells.append(f"{sum(known) / len(known):.1f}" if known else "-")
        rows.append(cells)
    return head, rows


if __name__ == "__main__":
    sys.exit(main())
