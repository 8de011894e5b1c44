"""Edit-engine benchmark over the hand-written corpus in tests/edit_corpus/.

    .venv/bin/python benchmarks/edits.py [--no-tools] [--markdown] [--show-wrong]

For every case: apply the reply with ``agentless.edits.apply_reply`` and compare with the
expected outcome. Reports, per format and per defect kind: correctly applied, correctly
rejected, silently wrong (a file changed to something other than expected, or success claimed
where a failure was expected), missed (rejected although the edit was expected to apply, or
rejected for another reason), and edits per second. The unified-diff cases also go through
``git apply --recount`` and GNU ``patch --fuzz=2`` in temporary directories.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from agentless.edits import apply_reply, parse_edits
from agentless.edits.fences import find_fences
from agentless.edits.text import reply_lines

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "edit_corpus"
FORMATS = ("diff", "udiff", "whole")
OUTCOMES = ("applied", "rejected", "wrong", "missed")


@dataclass(frozen=True)
class Case:
    id: str
    format: str
    defect: str
    files: dict[str, str]
    reply: str
    expect_files: dict[str, str | None]
    expect_fail: tuple[str, ...]

    @property
    def should_fail(self) -> bool:
        return bool(self.expect_fail)


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    cases = []
    for fmt in FORMATS:
        data = json.loads((corpus / f"{fmt}.json").read_text(encoding="utf-8"))
        for raw in data["cases"]:
            files = {**data["trees"][raw["tree"]], **raw.get("files", {})}
            cases.append(
                Case(
                    raw["id"],
                    raw["format"],
                    raw["defect"],
                    files,
                    raw["reply"],
                    raw["expect"]["files"],
                    tuple(raw["expect"]["fail"]),
                )
            )
    return cases


def classify(
    case: Case, files: Mapping[str, str | None], failed: bool, reasons: Iterable[str] | None
) -> str:
    """``applied``/``rejected`` when the outcome is the expected one, ``wrong`` when a file was
    changed to unexpected content or success was claimed wrongly, else ``missed``.

    ``reasons=None`` (external tools) does not compare failure reasons.
    """
    for path, text in files.items():
        if text != case.expect_files.get(path, case.files.get(path)):
            return "wrong"
    if not failed:
        if case.should_fail or dict(files) != case.expect_files:
            return "wrong"
        return "applied"
    if not case.should_fail:
        return "missed"
    if reasons is not None and sorted(reasons) != sorted(case.expect_fail):
        return "missed"
    if reasons is not None and dict(files) != case.expect_files:
        return "missed"
    return "rejected"


def run_ours(case: Case, repeats: int = 3) -> tuple[str, int, float]:
    """Outcome, number of edits, seconds spent in apply_reply (best of ``repeats``, as the
    machine may be busy with other work)."""
    elapsed = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = apply_reply(case.reply, case.files, case.format)
        elapsed = min(elapsed, time.perf_counter() - start)
    outcome = classify(case, result.files, not result.ok, [f.reason for f in result.failed])
    return outcome, max(1, result.applied + len(result.failed)), elapsed


# --- external tools on the unified-diff cases ---------------------------------------------


def diff_text(reply: str) -> str:
    """The diff a tool would be given: the diff fences' contents, else the whole reply."""
    lines = reply_lines(reply)
    bodies = []
    for fence in find_fences(lines):
        body = lines[fence.open + 1 : fence.close]
        if any(line.startswith(("@@", "--- ", "+++ ")) for line in body):
            bodies.append("\n".join(body) + "\n")
    return "".join(bodies) or reply


def strip_level(case: Case) -> int:
    """-p1 when the diff names files with a/ b/ prefixes, else -p0 (as a user would choose)."""
    for edit in parse_edits(case.reply, "udiff"):
        raw = edit.raw_path
        if raw.startswith(("a/", "b/")) and raw not in case.files:
            return 1
    return 0


def _write_tree(root: Path, files: Mapping[str, str]) -> None:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def _read_tree(root: Path, skip: str) -> dict[str, str]:
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(".git/") and rel != skip:
            out[rel] = path.read_bytes().decode("utf-8", "replace")
    return out


def run_tool(case: Case, tool: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        _write_tree(root, case.files)
        patch_file = Path(tmp) / "reply.patch"
        patch_file.write_bytes(diff_text(case.reply).encode("utf-8"))
        level = f"-p{strip_level(case)}"
        if tool == "git":
            subprocess.run(["git", "init", "-q", "."], cwd=root, check=True)
            argv = ["git", "apply", "--recount", level, str(patch_file)]
        else:
            argv = ["patch", level, "--fuzz=2", "--batch", "--forward", "-s", "-i", str(patch_file)]
            argv += ["--no-backup-if-mismatch", "--reject-file=-"]
        done = subprocess.run(argv, cwd=root, capture_output=True, timeout=60)
        after = _read_tree(root, skip="")
    changed: dict[str, str | None] = {p: t for p, t in after.items() if case.files.get(p) != t}
    changed.update({p: None for p in case.files if p not in after})
    return classify(case, changed, done.returncode != 0, None)


# --- report -------------------------------------------------------------------------------


def _row(label: str, counts: Mapping[str, int], extra: str = "") -> str:
    total = sum(counts[o] for o in OUTCOMES)
    correct = counts["applied"] + counts["rejected"]
    rate = 100.0 * correct / total if total else 0.0
    cells = [label, str(total), *(str(counts[o]) for o in OUTCOMES), f"{rate:.1f}%"]
    return "| " + " | ".join(cells) + (f" | {extra} |" if extra else " |")


def report(cases: list[Case], tools: bool, show_wrong: bool) -> int:
    by_format: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_defect: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    timing: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    total: dict[str, int] = defaultdict(int)
    problems = []
    for case in cases:
        outcome, edits, seconds = run_ours(case)
        by_format[case.format][outcome] += 1
        by_defect[(case.format, case.defect)][outcome] += 1
        total[outcome] += 1
        timing[case.format][0] += edits
        timing[case.format][1] += seconds
        if outcome in ("wrong", "missed"):
            problems.append((case.id, outcome))

    header = "| {} | cases | applied | rejected | silently wrong | missed | correct |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    print("### By format\n")
    print(header.format("format")[:-2] + " | edits/s |")
    print(rule + "---:|")
    for fmt in FORMATS:
        edits, seconds = timing[fmt]
        print(_row(fmt, by_format[fmt], f"{edits / seconds:,.0f}" if seconds else "-"))
    print(_row("**all**", total, "-"))
    print("\n### By defect kind\n")
    print(header.format("format / defect"))
    print(rule)
    for (fmt, defect), counts in sorted(by_defect.items()):
        print(_row(f"{fmt} / {defect}", counts))

    if tools:
        udiff = [c for c in cases if c.format == "udiff"]
        print("\n### Unified-diff cases: this engine vs. git apply and GNU patch\n")
        print(header.format("applier"))
        print(rule)
        print(_row("agentless.edits", by_format["udiff"]))
        for label, tool in (("git apply --recount", "git"), ("patch --fuzz=2", "patch")):
            if shutil.which(tool) is None:
                print(f"| {label} | (not installed) |")
                continue
            counts: dict[str, int] = defaultdict(int)
            for case in udiff:
                counts[run_tool(case, tool)] += 1
            print(_row(label, counts))
    if show_wrong and problems:
        print("\nNot correct:", ", ".join(f"{cid} ({o})" for cid, o in problems))
    return 1 if total["wrong"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tools", action="store_true", help="skip git apply / patch")
    parser.add_argument("--show-wrong", action="store_true", help="list cases not correct")
    args = parser.parse_args(argv)
    cases = load_cases()
    print(
        f"{len(cases)} cases from {CORPUS.relative_to(Path.cwd()) if CORPUS.is_relative_to(Path.cwd()) else CORPUS}\n"
    )
    return report(cases, tools=not args.no_tools, show_wrong=args.show_wrong)


if __name__ == "__main__":
    sys.exit(main())
