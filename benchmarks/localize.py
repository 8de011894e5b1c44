"""Measure the repository index and file retrieval.

    python benchmarks/localize.py index  --mirrors DIR [--repo sympy/sympy --commit SHA]
    python benchmarks/localize.py recall --mirrors DIR --dataset full_dev.jsonl

``index``: cold and warm build time and peak memory (RSS summed over this process and every
child: helper processes and git) of the index of one commit, each run in a fresh interpreter.
``recall``: file recall@1/3/5 of plain BM25 (documents = path + content, bm25s' default
tokenizer) against our retrieval, with the gold patch's files as the truth. Mirrors are found
in DIR with the same layouts the workspace understands (``owner+name/repo``, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

KS = (1, 3, 5)


# --- memory sampling ---------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    # Children hang off the thread that started them, so every thread's list is read.
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                found.extend(int(x) for x in fh.read().split())
        except OSError:
            continue
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PeakMemory:
    """Samples the RSS of this process and all its descendants every few milliseconds."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.total = 0
        self.main = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            pids = [me]
            for pid in pids:
                pids.extend(_children(pid))
            main = _rss(me)
            self.main = max(self.main, main)
            self.total = max(self.total, main + sum(_rss(pid) for pid in pids[1:]))
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- (a) index build time and memory -----------------------------------------------------


def index_once(git_dir: str, commit: str, cache: str) -> dict[str, Any]:
    """One index load in this (fresh) process: seconds, peak memory, what was built."""
    import resource

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # helpers and git, once reaped
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    with PeakMemory() as memory:
        started, cpu_started = time.perf_counter(), cpu()
        from agentless.repo import load_index  # imports count: a user pays them too

        index = load_index(Path(git_dir), commit, cache_dir=Path(cache))
        seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
    stats = index.stats()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_total_mb": memory.total / 2**20,
        "peak_main_mb": memory.main / 2**20,
        "from_cache": index.from_cache,
        "searchable": stats["searchable"],
        "lines": stats["lines"],
        "files": stats["files"],
        "excluded": stats["excluded"],
    }


def run_index_once(git_dir: Path, commit: str, cache: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "_index-once", str(git_dir), commit, str(cache)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def bare_parse_seconds(git_dir: Path, commit: str) -> tuple[float, int, int]:
    """Reference: ``ast.parse`` of every ``.py`` file of the commit on one core."""
    import ast

    from agentless.repo._filetree import BlobReader, list_tree

    files = [f for f in list_tree(git_dir, commit) if f.path.endswith(".py")]
    with BlobReader(git_dir) as reader:
        blobs = list(reader.read_many(f.blob for f in files))
    lines = sum(blob.count(b"\n") for blob in blobs)
    started = time.perf_counter()
    for blob in blobs:
        with contextlib.suppress(SyntaxError, ValueError):
            ast.parse(blob)
    return time.perf_counter() - started, len(files), lines


def index_benchmark(args: argparse.Namespace) -> None:
    from agentless.repo import find_local_mirror

    git_dir = find_local_mirror(args.mirrors, args.repo)
    if git_dir is None:
        sys.exit(f"no mirror of {args.repo} in {args.mirrors}")
    cold, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(run_index_once(git_dir, args.commit, Path(cache)))
            warm.append(run_index_once(git_dir, args.commit, Path(cache)))
    assert not any(r["from_cache"] for r in cold) and all(r["from_cache"] for r in warm)
    first = cold[0]
    print(
        f"{args.repo} @ {args.commit[:12]}: {first['files']} files kept, "
        f"{first['searchable']} indexed source files, {first['lines']} lines, excluded {first['excluded']}"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"runs: {args.runs} (median; each in a fresh interpreter, imports included); load {load}\n"
    )
    print("| build | seconds | CPU seconds | peak RSS, all processes (MB) | peak RSS, main (MB) |")
    print("|---|---|---|---|---|")
    for name, runs in (("cold", cold), ("warm (cache)", warm)):
        print(
            f"| {name} | {statistics.median(r['seconds'] for r in runs):.2f} "
            f"| {statistics.median(r['cpu_seconds'] for r in runs):.2f} "
            f"| {statistics.median(r['peak_total_mb'] for r in runs):.0f} "
            f"| {statistics.median(r['peak_main_mb'] for r in runs):.0f} |"
        )
    if args.reference:
        seconds, count, lines = bare_parse_seconds(git_dir, args.commit)
        print(
            f"\nreference: bare ast.parse of all {count} .py files ({lines} lines), one core: {seconds:.1f} s"
        )


# --- (b) file recall ---------------------------------------------------------------------

_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/", re.MULTILINE)


def gold_files(patch: str) -> list[str]:
    """Files the gold patch changes."""
    return list(dict.fromkeys(_DIFF_FILE.findall(patch)))


def recall_at(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Share of the gold files among the first ``k`` ranked files."""
    return len(set(ranked[:k]) & set(gold)) / len(gold)


def plain_bm25(git_dir: Path, commit: str, query: str, only: set[str] | None = None) -> list[str]:
    """bm25s with its default tokenizer over every ``.py`` file (path + content)."""
    import bm25s

    from agentless.repo._filetree import BlobReader, list_tree

    files = [f for f in list_tree(git_dir, commit) if f.path.endswith(".py")]
    if only is not None:
        files = [f for f in files if f.path in only]
    with BlobReader(git_dir) as reader:
        texts = [
            f.path + "\n" + blob.decode("utf-8", "replace")
            for f, blob in zip(files, reader.read_many(f.blob for f in files), strict=True)
        ]
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    docs, _ = model.retrieve(
        bm25s.tokenize([query], show_progress=False),
        k=min(max(KS), len(files)),
        show_progress=False,
    )
    return [files[int(i)].path for i in docs[0]]


def rankings(git_dir: Path, task: Any, cache: Path) -> dict[str, list[str]]:
    """The top files of every compared retrieval for one task."""
    from agentless.repo import load_index
    from agentless.repo._retrieval import RetrievalWeights

    query = task.problem_statement
    index = load_index(git_dir, task.base_commit, cache_dir=cache)
    ranked = {
        "plain BM25 (all .py files)": plain_bm25(git_dir, task.base_commit, query),
        "plain BM25 (same files as ours)": plain_bm25(
            git_dir, task.base_commit, query, set(index.source_paths())
        ),
    }
    variants = {
        "ours: content field only (code-aware terms)": RetrievalWeights(
            path=0.0, defs=0.0, mention=0.0
        ),
        "ours: + path and definition fields": RetrievalWeights(mention=0.0),
        "ours: + files named in the issue (default)": RetrievalWeights(),
    }
    for name, weights in variants.items():
        index.retriever.weights = weights
        ranked[name] = [hit.path for hit in index.search(query, max(KS))]
    return ranked


def recall_benchmark(args: argparse.Namespace) -> None:
    from agentless.repo import find_local_mirror
    from agentless.tasks import load_tasks

    skipped: dict[str, int] = {}
    scores: dict[str, list[list[float]]] = {}
    with tempfile.TemporaryDirectory() as cache:
        for task in load_tasks(args.dataset):
            git_dir = find_local_mirror(args.mirrors, task.repo)
            if git_dir is None:
                skipped[task.repo] = skipped.get(task.repo, 0) + 1
                continue
            gold = gold_files(task.patch)
            for name, ranked in rankings(git_dir, task, Path(cache)).items():
                scores.setdefault(name, []).append([recall_at(ranked, gold, k) for k in KS])
    count = len(next(iter(scores.values())))
    print(f"{count} instances of {args.dataset.name}", end="")
    if skipped:
        print(
            " (skipped, no mirror: " + ", ".join(f"{r} {n}" for r, n in skipped.items()) + ")",
            end="",
        )
    print("\n")
    print("| retrieval | " + " | ".join(f"recall@{k}" for k in KS) + " |")
    print("|---|" + "---|" * len(KS))
    for name, rows in scores.items():
        means = [100 * statistics.fmean(row[i] for row in rows) for i in range(len(KS))]
        print(f"| {name} | " + " | ".join(f"{m:.1f}" for m in means) + " |")


# --- command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_index-once":
        print(json.dumps(index_once(*argv[1:4])))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    index = sub.add_parser("index", help="index build time and memory")
    index.add_argument("--mirrors", type=Path, required=True, help="folder of local mirrors")
    index.add_argument("--repo", default="sympy/sympy")
    index.add_argument(
        "--commit",
        default="d9b18c518d64d0ebe8e35a98c2fb519938b9b151",
        help="default: the base commit of SWE-bench sympy__sympy-21847",
    )
    index.add_argument("--runs", type=int, default=3)
    index.add_argument("--reference", action="store_true", help="also time bare ast.parse")
    recall = sub.add_parser("recall", help="file recall of plain BM25 and ours")
    recall.add_argument("--mirrors", type=Path, required=True, help="folder of local mirrors")
    recall.add_argument("--dataset", type=Path, required=True, help="SWE-bench rows (JSONL)")
    args = parser.parse_args(argv)
    if args.command == "index":
        index_benchmark(args)
    else:
        recall_benchmark(args)


if __name__ == "__main__":
    main()
