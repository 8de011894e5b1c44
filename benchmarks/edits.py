"""Edit-engine benchmark: the authored corpus and the real-model corpus, ours beside others'.

    .venv/bin/python benchmarks/edits.py [--aider-python PATH] [--no-tools] [--show-wrong]
        [--corpus both|authored|real]

Corpora (both under tests/edit_corpus/):
- *authored*: hand-written model-style replies, one defect kind each, with the expected files
  and failure reasons (``diff.json``, ``udiff.json``, ``whole.json``);
- *real*: replies that local models wrote to the repair stage's own prompts, labelled by hand
  (``real/replies.jsonl``, ``real/labels.json``): the expected files, or "should refuse".

Appliers: ``agentless.edits.apply_reply``; ``git apply --recount`` and GNU ``patch --fuzz=2``
on the diff text of unified-diff replies (``-p1`` or ``-p0`` as the headers need); and, with
``--aider-python`` (an interpreter whose environment has aider-chat installed; it is not a
dependency of agentless), aider's own coders for its ``diff``, ``udiff`` and ``whole`` formats
(see benchmarks/aider_apply.py), run in a network namespace with loopback only when
``unshare`` is available.

Outcomes per reply: *applied right* (the expected files), *silently wrong* (reported success,
files not the expected ones), *refused* (reported failure); a reply that should be refused is
*refused* or *applied* (success reported). On the authored corpus, our engine must also give
the expected failure reasons ("missed" otherwise), as in the corpus tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentless.edits import apply_reply, parse_edits
from agentless.edits._fences import find_fences
from agentless.edits._text import reply_lines

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "edit_corpus"
REAL = CORPUS / "real"
FORMATS = ("diff", "udiff", "whole")


@dataclass(frozen=True)
class Case:
    id: str
    format: str
    defect: str
    files: dict[str, str]
    reply: str
    expect_files: dict[str, str | None]
    expect_fail: tuple[str, ...]  # failure reasons (authored), or ("refuse",) (real)
    model: str = ""

    @property
    def should_fail(self) -> bool:
        return bool(self.expect_fail)


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    """The authored corpus."""
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


def load_real(folder: Path = REAL) -> list[Case]:
    """The real-model corpus: every labelled reply."""
    sys.path.insert(0, str(folder))
    from projects import PROJECTS, REQUESTS  # type: ignore[import-not-found]

    project_of = {r[0]: r[1] for r in REQUESTS}
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    cases = []
    for line in (folder / "replies.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        label = labels.get(row["id"])
        if label is None:
            continue
        refuse = label["expect"] == "refuse"
        cases.append(
            Case(
                row["id"],
                row["format"],
                label.get("kind", "apply") if refuse else "apply",
                dict(PROJECTS[project_of[row["request"]]]),
                row["reply"],
                {} if refuse else label["files"],
                ("refuse",) if refuse else (),
                row["model"],
            )
        )
    return cases


# --- outcomes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    failed: bool
    files: dict[str, str | None]  # changed files only
    reasons: tuple[str, ...] | None = None  # ours only


def verdict(case: Case, out: Outcome) -> str:
    """``right`` / ``wrong`` / ``refused`` for replies that should apply; ``refused`` /
    ``applied`` for those that should be refused."""
    if case.should_fail:
        return "refused" if out.failed else "applied"
    if out.failed:
        return "refused"
    return "right" if _same(out.files, case.expect_files) else "wrong"


def _same(got: Mapping[str, str | None], want: Mapping[str, str | None]) -> bool:
    """Equal files, a last line of nothing but spaces aside (a whole-file reply may end its
    block with one; keeping or dropping it is no error)."""
    if got.keys() != want.keys():
        return False
    return all(a == b or _tail(a) == _tail(b) for a, b in ((got[p], want[p]) for p in got))


def _tail(text: str | None) -> str | None:
    return None if text is None else re.sub(r"(\n[ \t]+)+(\n?)$", r"\2", text)


def authored_verdict(case: Case, out: Outcome) -> str:
    """The corpus tests' stricter reading for our engine: reasons and partial results too."""
    base = verdict(case, out)
    exact = out.reasons is not None and sorted(out.reasons) == sorted(case.expect_fail)
    if base == "refused" and case.should_fail and not (exact and out.files == case.expect_files):
        return "missed"
    return base


def run_ours(case: Case, repeats: int = 1) -> tuple[Outcome, int, float]:
    """Outcome, number of edits, seconds in apply_reply (best of ``repeats``: the machine may
    be busy with other work)."""
    elapsed = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = apply_reply(case.reply, case.files, case.format)
        elapsed = min(elapsed, time.perf_counter() - start)
    out = Outcome(not result.ok, result.files, tuple(f.reason for f in result.failed))
    return out, max(1, result.applied + len(result.failed)), elapsed


# --- git apply and GNU patch on unified diffs ---------------------------------------------


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


def _read_tree(root: Path) -> dict[str, str]:
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(".git/"):
            out[rel] = path.read_bytes().decode("utf-8", "replace")
    return out


def changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {p: t for p, t in after.items() if before.get(p) != t}
    out.update({p: None for p in before if p not in after})
    return out


def run_tool(case: Case, tool: str) -> Outcome:
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
        after = _read_tree(root)
    return Outcome(done.returncode != 0, changed(case.files, after))


# --- aider --------------------------------------------------------------------------------


def run_aider(cases: Sequence[Case], python: str) -> dict[str, Outcome]:
    """aider's coders on every case, in one process of the aider environment."""
    helper = Path(__file__).resolve().parent / "aider_apply.py"
    lines = [
        json.dumps({"id": c.id, "format": c.format, "files": c.files, "reply": c.reply})
        for c in cases
    ]
    with tempfile.TemporaryDirectory() as home:
        argv = [python, str(helper)]
        if shutil.which("unshare") and _unshare_works():
            argv = ["unshare", "-n", *argv]
        env = {**os.environ, "HOME": home}
        done = subprocess.run(
            argv, input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, check=True
        )
    by_id = {c.id: c for c in cases}
    out = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        out[row["id"]] = Outcome(row["failed"], changed(by_id[row["id"]].files, row["files"]))
    return out


def _unshare_works() -> bool:
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


# --- report -------------------------------------------------------------------------------


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, case: Case, outcome: str) -> None:
        self.counts[("refuse:" if case.should_fail else "apply:") + outcome] += 1

    def row(self, label: str) -> str:
        c = self.counts
        apply_n = c["apply:right"] + c["apply:wrong"] + c["apply:refused"] + c["apply:missed"]
        refuse_n = c["refuse:refused"] + c["refuse:applied"] + c["refuse:missed"]
        cells = [
            label,
            str(apply_n),
            _pct(c["apply:right"], apply_n),
            str(c["apply:wrong"]),
            str(refuse_n),
            _pct(c["refuse:refused"], refuse_n),
            _pct(c["refuse:applied"], refuse_n),
        ]
        if c["apply:missed"] or c["refuse:missed"]:
            cells[0] += f" ({c['apply:missed'] + c['refuse:missed']} other reason)"
        return "| " + " | ".join(cells) + " |"


HEADER = (
    "| {} | should apply | applied right | silently wrong | should refuse | refused | applied |\n"
    "|---|---:|---:|---:|---:|---:|---:|"
)


def _pct(n: int, total: int) -> str:
    return f"{n} ({100.0 * n / total:.1f}%)" if total else "-"


def report(
    authored: list[Case], real: list[Case], tools: bool, aider: str | None, show_wrong: bool
) -> int:
    problems: list[str] = []
    wrong_total = 0
    timing = [0, 0.0]
    for title, cases in (("Authored corpus", authored), ("Real-model corpus", real)):
        if not cases:
            continue
        print(f"### {title}: {len(cases)} replies\n")
        tallies: dict[str, Tally] = defaultdict(Tally)
        for case in cases:
            out, edits, seconds = run_ours(case, repeats=3 if cases is authored else 1)
            timing[0] += edits
            timing[1] += seconds
            outcome = authored_verdict(case, out) if cases is authored else verdict(case, out)
            for key in ("agentless.edits", f"agentless.edits / {case.format}"):
                tallies[key].add(case, outcome)
            if case.model:
                tallies[f"agentless.edits / {case.model}"].add(case, outcome)
                tallies[f"agentless.edits / {case.model} / {case.format}"].add(case, outcome)
            if outcome in ("wrong", "applied", "missed"):
                problems.append(f"{case.id} ({outcome})")
            wrong_total += outcome == "wrong"
        _others(cases, tallies, tools, aider)
        print(HEADER.format("applier / format / model"))
        for key in sorted(tallies, key=_order):
            print(tallies[key].row(key))
        print()
    if timing[1]:
        print(f"agentless.edits: {timing[0] / timing[1]:,.0f} edits/s over both corpora\n")
    if show_wrong and problems:
        print("Not right:", ", ".join(problems))
    return 1 if wrong_total else 0


def _others(
    cases: Iterable[Case], tallies: dict[str, Tally], tools: bool, aider: str | None
) -> None:
    cases = list(cases)
    if tools:
        for label, tool in (("git apply --recount", "git"), ("patch --fuzz=2", "patch")):
            if shutil.which(tool) is None:
                continue
            for case in cases:
                if case.format == "udiff":
                    tallies[f"{label} / udiff"].add(case, verdict(case, run_tool(case, tool)))
    if aider:
        outcomes = run_aider(cases, aider)
        for case in cases:
            outcome = verdict(case, outcomes[case.id])
            tallies["aider"].add(case, outcome)
            tallies[f"aider / {case.format}"].add(case, outcome)


def _order(key: str) -> tuple[int, int, str]:
    tools = ("agentless.edits", "aider", "git apply", "patch")
    rank = next((k for k, t in enumerate(tools) if key.startswith(t)), len(tools))
    return rank, key.count("/"), key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tools", action="store_true", help="skip git apply / patch")
    parser.add_argument("--aider-python", help="interpreter of an environment with aider-chat")
    parser.add_argument("--show-wrong", action="store_true", help="list replies not right")
    parser.add_argument("--corpus", choices=["both", "authored", "real"], default="both")
    args = parser.parse_args(argv)
    authored = load_cases() if args.corpus != "real" else []
    real = load_real() if args.corpus != "authored" else []
    return report(authored, real, not args.no_tools, args.aider_python, args.show_wrong)


if __name__ == "__main__":
    sys.exit(main())
