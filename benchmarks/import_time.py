"""How long `import agentless` takes in a fresh interpreter, and which heavy modules it loads.

    python benchmarks/import_time.py [--runs 11]

Prints the median and the fastest of the runs (each a new process, bytecode already compiled).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = (
    "import time, sys; t = time.perf_counter(); import agentless; "
    "dt = time.perf_counter() - t; "
    "heavy = sorted(m for m in ('httpx', 'pydantic', 'git', 'bm25s', 'numpy', 'jinja2', 'rich') "
    "if m in sys.modules); "
    "import json; sys.stdout.write(json.dumps([dt, heavy]))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    seconds = []
    heavy: list[str] = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        ).stdout
        dt, heavy = json.loads(out)
        seconds.append(dt)
    print(
        f"import agentless: median {statistics.median(seconds) * 1000:.1f} ms, "
        f"fastest {min(seconds) * 1000:.1f} ms over {args.runs} runs; heavy modules: {heavy or 'none'}"
    )


if __name__ == "__main__":
    main()
