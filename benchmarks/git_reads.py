"""The index's raw git reads against GitPython's equivalents, on one commit of a mirror.

    python benchmarks/git_reads.py --mirrors DIR [--repo sympy/sympy --commit SHA] [--runs 3]

Three reads the index makes on every cold build: the file listing (raw ``ls-tree -r -l``
against walking GitPython's ``Tree`` objects), every kept blob's content (our pipelined
``git cat-file --batch`` reader against GitPython's ``odb.stream`` per blob, which asks its own
``cat-file`` one object at a time) and the cost of importing GitPython at all (the warm, cached
index load never does). Prints seconds (median of ``--runs``); this is why DESIGN keeps the
raw pipes for the index while the workspace uses GitPython.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SYMPY_21847 = "d9b18c518d64d0ebe8e35a98c2fb519938b9b151"


def _median_seconds(work: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import git; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, required=True)
    parser.add_argument("--repo", default="sympy/sympy")
    parser.add_argument("--commit", default=SYMPY_21847)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import git

    from agentless.repo import Workspace, find_local_mirror

    if find_local_mirror(args.mirrors, args.repo) is None:
        sys.exit(f"no mirror of {args.repo} in {args.mirrors}")
    with tempfile.TemporaryDirectory() as cache:
        # The workspace's own mirror (a local clone: objects hard-linked), a bare repository
        # with a config file, as GitPython expects.
        git_dir = Workspace(Path(cache), mirrors_dir=args.mirrors).mirror(args.repo)
        compare(git, git_dir, args.commit, args.runs, args.repo)


def compare(git: Any, git_dir: Path, commit: str, runs: int, name: str) -> None:
    """Time each read both ways on ``git_dir`` and print the table."""
    from agentless.repo._filetree import BlobReader, list_tree

    repo = git.Repo(git_dir)

    def gitpython_listing() -> list[tuple[str, str, int]]:
        tree = repo.commit(commit).tree
        return [
            (item.path, item.hexsha, item.size)
            for item in tree.traverse()
            if isinstance(item, git.Blob) and item.mode != 0o120000
        ]

    raw_list, files = _median_seconds(lambda: list_tree(git_dir, commit), runs)
    gp_list, gp_files = _median_seconds(gitpython_listing, runs)
    assert isinstance(files, list) and isinstance(gp_files, list)
    assert len(files) == len(gp_files), (len(files), len(gp_files))
    blobs = [f.blob for f in files if f.path.endswith(".py") and f.size >= 0]

    def raw_read() -> int:
        with BlobReader(git_dir) as reader:
            return sum(len(data) for data in reader.read_many(blobs))

    def gitpython_read() -> int:
        return sum(len(repo.odb.stream(bytes.fromhex(b)).read()) for b in blobs)

    raw_blobs, raw_bytes = _median_seconds(raw_read, runs)
    gp_blobs, gp_bytes = _median_seconds(gitpython_read, runs)
    assert raw_bytes == gp_bytes
    repo.close()
    print(f"{name} @ {commit[:12]}: {len(files)} files, {len(blobs)} .py blobs read")
    print(f"runs: {runs} (median)\n")
    print("| read | raw git (s) | GitPython (s) |")
    print("|---|---|---|")
    print(f"| list the tree | {raw_list:.3f} | {gp_list:.3f} |")
    print(f"| read the .py blobs | {raw_blobs:.3f} | {gp_blobs:.3f} |")
    print(f"| `import git` (fresh interpreter) | 0 | {_import_seconds():.3f} |")


if __name__ == "__main__":
    main()
