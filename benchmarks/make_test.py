"""Time `make test` on a fresh clone, then again in the same clone: the README's test-suite
timings and its consecutive-runs check.

    python benchmarks/make_test.py [--commit HEAD] [--runs 5] [--where DIR] [--ci] [--keep]

Clones this repository at ``--commit`` into a new folder under ``--where`` (default: beside
this checkout), runs ``make test`` there ``--runs`` times in a row (the first one creates the
virtualenv and installs; uv's cache, and pip's for the llama-cpp-python wheel, are what make
that seconds, not minutes) and prints
one row per run: wall time, pytest's own summary and seconds, the rest of the wall time (the
set-up: virtualenv, install, model check, pytest's start), and the machine's load and disk
pressure around the run, which move these figures a lot on a small machine. ``--ci`` sets
``CI=true`` as CI does (a missing local model then fails instead of skipping). ``--json FILE``
writes the rows. The clone is deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ \w+.*) in (?P<seconds>[\d.]+)s")


def machine_state() -> dict[str, Any]:
    """Load average and disk pressure (``/proc/pressure/io``, Linux), where available."""
    state: dict[str, Any] = {}
    try:
        state["load1"] = float(Path("/proc/loadavg").read_text().split()[0])
        for line in Path("/proc/pressure/io").read_text().splitlines():
            kind, *fields = line.split()
            values = dict(field.split("=") for field in fields)
            state[f"io_{kind}_avg60"] = float(values["avg60"])
    except (OSError, ValueError, KeyError):
        pass
    return state


def run_make_test(clone: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    """One ``make test`` in ``clone``, its output in ``log``; what it measured."""
    before = machine_state()
    start = time.monotonic()
    summary: dict[str, Any] = {}
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "test"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if found := SUMMARY.match(line.strip()):
                summary = {"pytest": found["counts"], "pytest_seconds": float(found["seconds"])}
        code = proc.wait()
    wall = round(time.monotonic() - start, 1)
    return {
        "exit_code": code,
        "wall_seconds": wall,
        "setup_seconds": round(wall - summary["pytest_seconds"], 1) if summary else None,
        **summary,
        "before": before,
        "after": machine_state(),
        "log": str(log),
    }


def fresh_clone(commit: str, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    clone = Path(tempfile.mkdtemp(prefix="make-test-", dir=where))
    subprocess.run(["git", "clone", "--quiet", str(HERE), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", commit], cwd=clone, check=True)
    return clone


def table(rows: list[dict[str, Any]], commit: str) -> str:
    lines = [
        f"make test at {commit[:10]}",
        "| run | exit | wall s | pytest s | set-up s | pytest | load before→after | io full avg60 |",
        "|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for n, row in enumerate(rows, 1):
        load = f"{row['before'].get('load1', '?')}→{row['after'].get('load1', '?')}"
        io = row["after"].get("io_full_avg60", "?")
        lines.append(
            f"| {n} | {row['exit_code']} | {row['wall_seconds']} | {row.get('pytest_seconds', '?')} "
            f"| {row['setup_seconds']} | {row.get('pytest', '?')} | {load} | {io} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--where", type=Path, default=HERE.parent)
    parser.add_argument("--ci", action="store_true", help="set CI=true, as CI does")
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    parser.add_argument("--json", type=Path, help="write the rows to this file")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", args.commit], cwd=HERE, check=True, capture_output=True, text=True
    ).stdout.strip()
    clone = fresh_clone(commit, args.where)
    env = {**os.environ, **({"CI": "true"} if args.ci else {})}
    rows = []
    try:
        for n in range(1, args.runs + 1):
            row = run_make_test(clone, env, clone.parent / f"{clone.name}-run{n}.log")
            rows.append(row)
            print(f"run {n}: exit {row['exit_code']}, {row['wall_seconds']} s", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(clone, ignore_errors=True)
    print(table(rows, commit))
    if args.json:
        args.json.write_text(json.dumps({"commit": commit, "runs": rows}, indent=2))
    return 0 if all(row["exit_code"] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
