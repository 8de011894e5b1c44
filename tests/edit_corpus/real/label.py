"""Label the real-model corpus by hand: show a reply, record what applying it should give.

    python tests/edit_corpus/real/label.py todo                  # ids without a label
    python tests/edit_corpus/real/label.py show ID...            # reply, prompt files, engine's try
    python tests/edit_corpus/real/label.py apply ID [--note N]   # expected = the shown result
    python tests/edit_corpus/real/label.py edit ID PATH OLD NEW  # expected: PATH with OLD -> NEW
    python tests/edit_corpus/real/label.py refuse ID KIND WHY    # it should be refused

A label is a person's reading of the reply, not of whether the model fixed the issue: the files
that a careful human applying exactly what the reply says would get, or "refuse" when the reply
does not say unambiguously what to change. ``apply`` records the engine's result as shown by
``show`` and is only used after reading it against the reply; ``edit`` builds the expected file
by plain string replacement (OLD must occur once; several OLD/NEW pairs may follow).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from projects import PROJECTS, REQUESTS  # noqa: E402

from agentless.edits import apply_reply  # noqa: E402

REPLIES = HERE / "replies.jsonl"
LABELS = HERE / "labels.json"


def replies() -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in REPLIES.read_text().splitlines() if line.strip()]
    return {row["id"]: row for row in rows}


def files_for(row: dict[str, Any]) -> dict[str, str]:
    project = next(r[1] for r in REQUESTS if r[0] == row["request"])
    return dict(PROJECTS[project])


def load_labels() -> dict[str, Any]:
    return json.loads(LABELS.read_text()) if LABELS.exists() else {}


def save_labels(labels: dict[str, Any]) -> None:
    ordered = dict(sorted(labels.items()))
    LABELS.write_text(json.dumps(ordered, indent=1, ensure_ascii=False) + "\n")


def _diff(old: dict[str, str], new: dict[str, str | None]) -> str:
    out = []
    for path, text in new.items():
        a = old.get(path, "").splitlines(keepends=True)
        b = (text or "").splitlines(keepends=True)
        out.extend(
            difflib.unified_diff(
                a, b, f"a/{path}", f"b/{path}" if text is not None else "/dev/null"
            )
        )
    return "".join(out)


def show(rid: str, rows: dict[str, dict[str, Any]]) -> None:
    row = rows[rid]
    files = files_for(row)
    print(f"=== {rid}  ({row['finish_reason']}, {row['completion_tokens']} tokens)")
    issue = next(r[3] for r in REQUESTS if r[0] == row["request"])
    print(f"issue: {issue}")
    print("--- reply ---")
    print(row["reply"])
    print("--- engine ---")
    result = apply_reply(row["reply"], files, row["format"])
    print(f"ok={result.ok} applied={result.applied} syntax={result.syntax_errors}")
    for failure in result.failed:
        print(f"[{failure.reason}] {failure.feedback[:600]}")
    print(_diff(files, result.files))
    label = load_labels().get(rid)
    if label:
        print(f"--- label: {label['expect']} {label.get('kind', '')} {label.get('why', '')}")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("todo")
    p = sub.add_parser("show")
    p.add_argument("ids", nargs="+")
    p = sub.add_parser("apply")
    p.add_argument("ids", nargs="+")
    p.add_argument("--note", default="")
    p = sub.add_parser("edit")
    p.add_argument("id")
    p.add_argument("path")
    p.add_argument("pairs", nargs="+")
    p.add_argument("--note", default="")
    p = sub.add_parser("refuse")
    p.add_argument("ids", nargs="+")
    p.add_argument("--kind", required=True)
    p.add_argument("--why", required=True)
    args = parser.parse_args()
    rows = replies()
    labels = load_labels()
    if args.cmd == "todo":
        print("\n".join(rid for rid in rows if rid not in labels))
    elif args.cmd == "show":
        for rid in args.ids:
            show(rid, rows)
    elif args.cmd == "apply":
        for rid in args.ids:
            result = apply_reply(rows[rid]["reply"], files_for(rows[rid]), rows[rid]["format"])
            assert result.ok, f"{rid}: the engine refuses it; use `edit`"
            labels[rid] = {"expect": "apply", "files": result.files, "note": args.note}
    elif args.cmd == "edit":
        files = files_for(rows[args.id])
        text = files.get(args.path, "")
        pairs = [p.encode().decode("unicode_escape") for p in args.pairs]
        for old, new in zip(pairs[::2], pairs[1::2], strict=True):
            assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
            text = text.replace(old, new)
        entry = labels.get(args.id)
        expected = entry["files"] if entry and entry.get("expect") == "apply" else {}
        expected[args.path] = text
        labels[args.id] = {"expect": "apply", "files": expected, "note": args.note}
    elif args.cmd == "refuse":
        for rid in args.ids:
            labels[rid] = {"expect": "refuse", "kind": args.kind, "why": args.why}
    save_labels(labels)


if __name__ == "__main__":
    main()
