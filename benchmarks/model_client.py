"""Model client overhead and the n fallback, against the scripted server on loopback.

    .venv/bin/python benchmarks/model_client.py [--latency 0.2] [--samples 8]

Each configuration asks for ``samples`` completions of one prompt; the server adds
``latency`` seconds to every chat answer (a stand-in for generation time). Reports wall time,
HTTP requests, and the time to answer the same request again from the run store.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from agentless.model import OpenAICompatibleModel
from agentless.store import Store
from agentless.testing import ScriptedServer

MESSAGES = [
    {"role": "system", "content": "You repair code. " * 200},
    {"role": "user", "content": "The parser drops the last line of the file."},
]


def measure(n_mode: str, concurrency: int, samples: int, latency: float, stream: bool) -> str:
    server = ScriptedServer(default="ok " * 50, n_mode=n_mode, latency=latency)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp, Store.for_run(Path(tmp)) as store, server as srv:
        model = OpenAICompatibleModel(
            "m", srv.url, recorder=store, concurrency=concurrency, stream=stream
        )
        began = time.perf_counter()
        first = model.complete(MESSAGES, n=samples, temperature=0.8)
        cold = time.perf_counter() - began
        requests = len(srv.chat_requests)
        began = time.perf_counter()
        again = model.complete(MESSAGES, n=samples, temperature=0.8)
        warm = time.perf_counter() - began
        assert len(first) == len(again) == samples and all(c.cached for c in again)
        cached = sum(c.usage.cached_tokens for c in first)
        return (
            f"| {n_mode:6} | {concurrency:>2} | {'yes' if stream else 'no':3} | "
            f"{cold:7.3f} | {requests:>3} | {cached:>6} | {warm * 1000:7.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--samples", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.samples} samples, {args.latency}s server latency per request")
    print("| n mode | conc | stream | seconds | requests | cached prompt tokens | cache hit ms |")
    print("|---|---|---|---|---|---|---|")
    for n_mode, concurrency, stream in [
        ("honour", 1, False),
        ("honour", 1, True),
        ("reject", 1, False),
        ("reject", 4, False),
        ("reject", 8, False),
        ("ignore", 4, True),
    ]:
        print(measure(n_mode, concurrency, args.samples, args.latency, stream))


if __name__ == "__main__":
    main()
