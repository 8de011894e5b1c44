"""The embedded models on this machine: speed, llama.cpp's prompt cache, and whole runs.

    .venv/bin/python benchmarks/local_model.py speed  [--models qwen2.5-coder-1.5b smollm2-135m]
    .venv/bin/python benchmarks/local_model.py stages [--model qwen2.5-coder-1.5b]
    .venv/bin/python benchmarks/local_model.py run    [--model ...] [--dataset FILE --instance ID --mirrors DIR]

``speed``: prompt evaluation and generation in tokens/s for each model, with and without the
prompt cache. "cold" reads a prompt the server has not seen; "warm" sends it again (llama.cpp
keeps the previous request's tokens and reads only what differs); "A, B, A" sends another
prompt in between, without and with the server's RAM cache (``--cache True``), as happens
when stages alternate.

``stages``: the first prompt of every stage of the demo (`agentless run --dry-run` gives them),
each read cold and then warm: what a repeated sample of that stage saves.

``run``: `run_task` with the `local` profile on the bundled example (default) or on one
dataset row, reporting wall time and tokens per stage (with OPENAI_BASE_URL and
AGENTLESS_MODEL set, on that server rather than a new one).

Every figure depends on what else the machine runs; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from agentless.config import load_config
from agentless.model import local_server
from agentless.runner import dry_run, run_one
from agentless.tasks import load_tasks, local_task, select_instances

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "textstats"
TEST_CMD = "python -m pytest -q -p no:cacheprovider tests"


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed_request(base_url: str, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
    body = {"model": "m", "messages": messages, "max_tokens": max_tokens, "temperature": 0.0}
    began = time.perf_counter()
    response = httpx.post(f"{base_url}/chat/completions", json=body, timeout=3600, trust_env=False)
    response.raise_for_status()
    usage = response.json()["usage"]
    return {"seconds": time.perf_counter() - began, **usage}


def code_prompt(tokens: int) -> list[dict[str, str]]:
    """About ``tokens`` tokens of this repository's own source, with a unique first line so
    that no earlier request shares its prefix."""
    text = "".join(p.read_text("utf-8") for p in sorted((ROOT / "agentless").rglob("*.py")))
    words = text.split(" ")[: int(tokens * 0.9)]
    return [
        {"role": "system", "content": f"session {uuid.uuid4()}"},
        {"role": "user", "content": " ".join(words) + "\n\nSummarize this code."},
    ]


def speed(models: Sequence[str], prompt_tokens: int, gen_tokens: int) -> list[dict[str, Any]]:
    rows = []
    for name in models:
        for cache in (False, True):
            args = ["--cache", "True", "--cache_type", "ram"] if cache else []
            with local_server(name, ctx=max(4096, prompt_tokens * 2), server_args=args) as ep:
                a, b = code_prompt(prompt_tokens), code_prompt(prompt_tokens)
                timed_request(ep.base_url, [{"role": "user", "content": "hi"}], 1)  # load
                cold = timed_request(ep.base_url, a, 1)
                warm = timed_request(ep.base_url, a, 1)
                gen = timed_request(ep.base_url, a, gen_tokens)
                timed_request(ep.base_url, b, 1)
                alternated = timed_request(ep.base_url, a, 1)
            generated = max(gen["completion_tokens"] - 1, 1)
            rows.append(
                {
                    "model": name,
                    "server_cache": cache,
                    "prompt_tokens": cold["prompt_tokens"],
                    "cold_s": cold["seconds"],
                    "prompt_eval_tok_s": cold["prompt_tokens"] / cold["seconds"],
                    "warm_s": warm["seconds"],
                    "aba_s": alternated["seconds"],
                    "gen_tok_s": generated / max(gen["seconds"] - warm["seconds"], 1e-6),
                    "load": load(),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def stages(model: str) -> list[dict[str, Any]]:
    config = load_config(Path("/dev/null"), env={}, profile="local")
    task = local_task(EXAMPLE, str(EXAMPLE / "ISSUE.md"), test_cmd=TEST_CMD)
    prompts, _total = dry_run(task, config)
    rows = []
    with local_server(model) as ep:
        timed_request(ep.base_url, [{"role": "user", "content": "hi"}], 1)
        for record, _estimate in prompts:
            messages = [dict(m) for m in record.messages]
            cold = timed_request(ep.base_url, messages, 1)
            warm = timed_request(ep.base_url, messages, 1)
            rows.append(
                {
                    "stage": record.stage,
                    "prompt_tokens": cold["prompt_tokens"],
                    "cold_s": cold["seconds"],
                    "warm_s": warm["seconds"],
                    "saved_per_repeat_s": cold["seconds"] - warm["seconds"],
                    "load": load(),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


@contextlib.contextmanager
def served(model: str) -> Iterator[tuple[str, str]]:
    """OPENAI_BASE_URL and AGENTLESS_MODEL when both are set (a server already running: one
    per machine is plenty), else the embedded ``model`` for the block's duration."""
    base_url, name = os.environ.get("OPENAI_BASE_URL"), os.environ.get("AGENTLESS_MODEL")
    if base_url and name:
        yield base_url, name
        return
    with local_server(model) as ep:
        yield ep.base_url, ep.model


def whole_run(
    model: str, dataset: Path | None, instance: str | None, mirrors: Path | None
) -> dict[str, Any]:
    if dataset is not None:
        [task] = select_instances(load_tasks(dataset), [instance] if instance else None)
    else:
        task = local_task(EXAMPLE, str(EXAMPLE / "ISSUE.md"), test_cmd=TEST_CMD)
    with served(model) as (base_url, name), tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            Path("/dev/null"),
            profile="local",
            overrides={
                "model": {"name": name, "base_url": base_url},
                "run": {"mirrors_dir": mirrors},
            },
        )
        began = time.monotonic()
        result = run_one(task, config, Path(tmp) / "run").result
        wall = time.monotonic() - began
    by_stage = {
        stage: {"prompt": u.prompt_tokens, "completion": u.completion_tokens, "calls": u.calls}
        for stage, u in sorted(result.usage_by_stage.items())
    }
    row = {
        "task": task.instance_id,
        "wall_s": wall,
        "timings": result.timings,
        "usage_by_stage": by_stage,
        "patch": bool(result.patch),
        "steps": result.selection_steps,
        "load": load(),
    }
    print(json.dumps(row, indent=2), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--models", nargs="+", default=["smollm2-135m", "qwen2.5-coder-1.5b"])
    s.add_argument("--prompt-tokens", type=int, default=1500)
    s.add_argument("--gen-tokens", type=int, default=64)
    st = sub.add_parser("stages")
    st.add_argument("--model", default="qwen2.5-coder-1.5b")
    r = sub.add_parser("run")
    r.add_argument("--model", default="qwen2.5-coder-1.5b")
    r.add_argument("--dataset", type=Path)
    r.add_argument("--instance")
    r.add_argument("--mirrors", type=Path)
    args = parser.parse_args()
    if args.command == "speed":
        speed(args.models, args.prompt_tokens, args.gen_tokens)
    elif args.command == "stages":
        stages(args.model)
    else:
        whole_run(args.model, args.dataset, args.instance, args.mirrors)


if __name__ == "__main__":
    main()
