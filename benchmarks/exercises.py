"""The Aider-style exercise benchmark, two ways (figures quoted in the README).

``reference``: a scripted model answers every exercise with its reference solution, as edits
in each format (whole files, SEARCH/REPLACE blocks, a unified diff, computed against the stub).
Every exercise that can run here must pass on try 1 with well-formed edits; anything else is a
bug in the runner (the copy, the prompts, the edit engine, the test commands, the sandbox). It
also checks that no prompt holds a reference file.

``model``: a real OpenAI-compatible endpoint (e.g. llama.cpp's server with qwen2.5-coder-1.5b)
on the same exercises. Exercises go one by one, each in every format before the next, so that
figures of an interrupted run compare the formats on the same exercises; a re-run resumes
(both run on the runner's scheduler, as ``agentless exercises`` does).

    python benchmarks/exercises.py reference POLYGLOT --out runs/ref --formats diff,udiff,whole
    python benchmarks/exercises.py model POLYGLOT/python --out runs/qwen \\
        --base-url http://127.0.0.1:8080/v1 --model qwen2.5-coder-1.5b --max-tokens 1024

POLYGLOT is a work tree of Aider-AI/polyglot-benchmark (or any folder of exercises).
Each format gets RUN/<format>/ (metrics.json, results, store.db); RUN/summary.json has them all.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from agentless.config import Config, load_config
from agentless.exercises import render_markdown
from agentless.exercises._run import TITLES
from agentless.runner import run_exercises
from agentless.tasks import Task, exercise_of, exercise_tasks
from agentless.testing import (
    RecordedRequest,
    ScriptedServer,
    reference_blocker,
    reference_files,
    reference_reply,
)


def main() -> None:
    args = _parser().parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    tasks = exercise_tasks(
        args.exercises, languages=_split(args.languages), names=_split(args.instances)
    )
    formats = _split(args.formats)
    started, load_before = time.monotonic(), os.getloadavg()
    if args.mode == "reference":
        results = _reference(tasks, formats, args)
    else:
        results = _model(tasks, formats, args)
    summary = {
        "mode": args.mode,
        "exercises": len(tasks),
        "formats": results,
        "wall_seconds": round(time.monotonic() - started, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    for instance, why in results.get("left_out", {}).items():
        print(f"- left out {instance}: {why}")
    for fmt in formats:
        print(render_markdown(results[fmt]["metrics"]))
        if "reference_in_prompts" in results[fmt]:
            print(f"prompts holding a reference file: {results[fmt]['reference_in_prompts']}\n")
    print(
        f"wall time {summary['wall_seconds']} s; load average {summary['load_average_before']}"
        f" -> {summary['load_average_after']} on {summary['cpus']} cores"
    )


def _reference(tasks: list[Task], formats: list[str], args: argparse.Namespace) -> dict[str, Any]:
    blocked = {t.instance_id: reference_blocker(exercise_of(t)) for t in tasks}
    for instance, why in blocked.items():
        if why:
            logging.info("left out %s: %s", instance, why)
    tasks = [t for t in tasks if not blocked[t.instance_id]]
    exercises = {_heading(task): exercise_of(task) for task in tasks}
    results: dict[str, Any] = {"left_out": {i: why for i, why in blocked.items() if why}}
    for fmt in formats:
        replies = {heading: reference_reply(e, fmt) for heading, e in exercises.items()}

        def answer(request: RecordedRequest, replies: dict[str, str] = replies) -> str:
            return replies[request.messages[1]["content"].splitlines()[0]]

        with ScriptedServer(default=answer) as srv:
            config = _config(args, fmt, "reference", srv.url)
            metrics = run_exercises(tasks, config, args.out / fmt, progress="log").summary
            # The system message and the exercise prompt are built from the exercise alone;
            # later messages carry the model's own work back (its replies, the files it wrote).
            bodies = [json.dumps(r.messages[:2], ensure_ascii=False) for r in srv.chat_requests]
        leaks = _reference_in(bodies, exercises.values())
        results[fmt] = {"metrics": metrics, "reference_in_prompts": leaks}
    return results


def _model(tasks: list[Task], formats: list[str], args: argparse.Namespace) -> dict[str, Any]:
    loads: dict[str, list[float]] = {fmt: [] for fmt in formats}
    metrics: dict[str, Any] = {}
    for count in range(1, len(tasks) + 1):
        for fmt in formats:
            # The exercises before this one are finished in the run directory: skipped.
            config = _config(args, fmt, args.model, args.base_url)
            run = run_exercises(tasks[:count], config, args.out / fmt, progress="log")
            metrics[fmt] = run.summary
            loads[fmt].append(os.getloadavg()[0])
            if run.interrupted:  # Ctrl-C or SIGTERM: the run directory resumes next time
                raise SystemExit(128 + (run.stopped_by or 0))
    return {
        fmt: {"metrics": metrics[fmt], "load_average_during": _mean(loads[fmt])} for fmt in formats
    }


def _config(args: argparse.Namespace, fmt: str, model: str, url: str) -> Config:
    return load_config(
        env={},
        overrides={
            "model": {"name": model, "base_url": url, "timeout": args.request_timeout},
            "run": {"workers": args.workers, "cache_dir": args.cache_dir},
            "exercises": {
                "edit_format": fmt,
                "tries": args.tries,
                "test_timeout": args.test_timeout,
                "reply_tokens": args.max_tokens,
            },
        },
    )


def _heading(task: Task) -> str:
    exercise = exercise_of(task)
    return f"# Exercise: {exercise.name} ({TITLES[exercise.language]})"


def _reference_in(bodies: list[str], exercises: Any) -> int:
    """Prompts that hold a whole reference file. A reference found in its own exercise's files
    (the same as the stub but for white space) is no secret and does not count."""
    texts = []
    for exercise in exercises:
        shown = "".join(
            (exercise.folder / p).read_text("utf-8", "replace")
            for p in (*exercise.solution, *exercise.editor, *exercise.tests)
        )
        for text in reference_files(exercise).values():
            if len(text.strip()) > 40 and text.strip() not in shown:
                texts.append(json.dumps(text.strip(), ensure_ascii=False)[1:-1])
    return sum(any(text in body for text in texts) for body in bodies)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _split(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["reference", "model"])
    parser.add_argument("exercises", type=Path, help="A folder of exercises (polyglot tree).")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--formats", default="diff,udiff,whole")
    parser.add_argument("--languages", default="")
    parser.add_argument("--instances", default="", help="Exercises to run (default: all).")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tries", type=int, default=2)
    parser.add_argument("--test-timeout", type=float, default=180.0)
    parser.add_argument("--max-tokens", type=int, default=None)
    parser.add_argument("--request-timeout", type=float, default=1800.0)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--base-url", default="")
    return parser


if __name__ == "__main__":
    main()
