"""The benchmark's figures, with the meanings Aider's benchmark reports give them.

- ``pass_rate_N``: percent of cases whose tests passed by try N (so it never falls with N).
- ``percent_cases_well_formed``: percent of cases in which *every* reply's edits applied.
- ``malformed_responses``: replies whose edits did not all apply (each reflection counts);
  ``cases_with_malformed``: cases with at least one.
- ``syntax_errors`` / ``indentation_errors``: test runs whose output shows code that does not
  parse (Python's SyntaxError / IndentationError and TabError; each language's compiler
  messages for the others).
- ``lazy_comments``: placeholder comments ("# ... rest unchanged") put in place of code, plus
  whole files refused for them.
- ``test_timeouts``: test runs stopped at the time limit.
- ``test_edits``: replies that changed a test or other read-only file (never written).
- ``seconds_per_case``, tokens and ``cost`` (``None`` when any call's price is unknown).

A *case* is an exercise whose tests could run here (status ``done``); exercises whose
language cannot run here are listed apart with the reason, and count in no rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from agentless.exercises._result import ExerciseResult
from agentless.model import Usage

_COUNTERS = (
    "replies",
    "cached_replies",
    "reflections",
    "malformed_responses",
    "cases_with_malformed",
    "lazy_comments",
    "test_edits",
    "truncated_replies",
    "test_runs",
    "syntax_errors",
    "indentation_errors",
    "test_timeouts",
    "exhausted_context_windows",
)


def summarize(
    results: Sequence[ExerciseResult], *, tries: int, edit_format: str, model: str
) -> dict[str, Any]:
    """The run's metrics (overall, per language, per exercise) and the data for its plot."""
    done = [r for r in results if r.status == "done"]
    languages = sorted({r.language for r in done})
    by_language = {
        lang: _block([r for r in done if r.language == lang], tries) for lang in languages
    }
    metrics: dict[str, Any] = {
        "model": model,
        "edit_format": edit_format,
        "tries": tries,
        "exercises": len(results),
        **_block(done, tries),
        "by_language": by_language,
        "unavailable": _unavailable(results),
        "errors": [
            {"exercise": r.exercise, "reason": r.reason} for r in results if r.status == "error"
        ],
        "per_exercise": [_row(r) for r in results],
    }
    metrics["plot"] = plot_data(metrics)
    return metrics


def plot_data(metrics: dict[str, Any]) -> dict[str, Any]:
    """Pass rate by try, overall and per language: ``{"tries": [1, 2], "series": {...}}``."""
    tries = list(range(1, int(metrics["tries"]) + 1))
    series = {"all": [metrics.get(f"pass_rate_{n}") for n in tries]}
    for language, block in metrics["by_language"].items():
        series[language] = [block.get(f"pass_rate_{n}") for n in tries]
    return {"tries": tries, "series": series}


def _block(done: Sequence[ExerciseResult], tries: int) -> dict[str, Any]:
    cases = len(done)
    counts = dict.fromkeys(_COUNTERS, 0)
    for result in done:
        for name, value in result.counts().items():
            counts[name] += value
    usage = sum((r.usage for r in done), Usage())
    block: dict[str, Any] = {"cases": cases}
    for n in range(1, tries + 1):
        passed = sum(1 for r in done if r.passed_on_try is not None and r.passed_on_try <= n)
        block[f"passed_{n}"] = passed
        block[f"pass_rate_{n}"] = _percent(passed, cases)
    block["percent_cases_well_formed"] = _percent(cases - counts["cases_with_malformed"], cases)
    block.update(counts)
    seconds = sum(r.seconds for r in done)
    block["seconds_per_case"] = round(seconds / cases, 2) if cases else None
    block["total_seconds"] = round(seconds, 2)
    block["prompt_tokens"] = usage.prompt_tokens
    block["completion_tokens"] = usage.completion_tokens
    block["cached_tokens"] = usage.cached_tokens
    block["cost"] = usage.cost
    return block


def _unavailable(results: Sequence[ExerciseResult]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        if result.status == "unavailable":
            grouped[result.language][result.reason].append(result.exercise)
    for language in sorted(grouped):
        reasons = grouped[language]
        out[language] = {
            "exercises": sum(len(ids) for ids in reasons.values()),
            "reasons": {reason: sorted(ids) for reason, ids in reasons.items()},
        }
    return out


def _row(result: ExerciseResult) -> dict[str, Any]:
    counts = result.counts()
    return {
        "exercise": result.exercise,
        "language": result.language,
        "status": result.status,
        "passed_on_try": result.passed_on_try,
        "well_formed": counts["malformed_responses"] == 0,
        "seconds": round(result.seconds, 2),
        "reason": result.reason,
        **{k: counts[k] for k in ("replies", "malformed_responses", "test_timeouts", "test_edits")},
    }


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- Markdown ----------------------------------------------------------------------------------


def render_markdown(metrics: dict[str, Any]) -> str:
    """The metrics as a Markdown section: a table per language and overall, tokens, cost,
    and the languages that could not run here with the reason."""
    tries = int(metrics["tries"])
    lines = [
        f"### Exercises: {metrics['model']}, `{metrics['edit_format']}` format, "
        f"{tries} tr{'y' if tries == 1 else 'ies'}",
        "",
    ]
    header, rows = table(metrics)
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|---|" + "---:|" * (len(header) - 1))
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    cost = metrics.get("cost")
    lines.append(
        f"Tokens: {metrics['prompt_tokens']:,} prompt ({metrics['cached_tokens']:,} cached), "
        f"{metrics['completion_tokens']:,} completion; cost {_money(cost)}; "
        + f"{metrics['replies']} replies ({metrics['cached_replies']} from the store)."
    )
    for language, info in metrics["unavailable"].items():
        for reason, ids in info["reasons"].items():
            lines.append(f"- not run: {language}, {len(ids)} exercise(s): {reason}")
    for error in metrics["errors"]:
        lines.append(f"- error: {error['exercise']}: {error['reason']}")
    unfinished = metrics.get("unfinished") or []
    if unfinished:
        lines.append(
            f"- not finished: {len(unfinished)} exercise(s) ({', '.join(unfinished[:5])}"
            + (", ..." if len(unfinished) > 5 else "")
            + "); run the same command again to resume"
        )
    return "\n".join(lines) + "\n"


def table(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The metrics table (a row per language, then ``**all**``) as header and cells, for the
    Markdown above and the HTML report."""
    tries = int(metrics["tries"])
    header = ["language", "cases", *[f"pass {n}" for n in range(1, tries + 1)]]
    header += ["well-formed", "malformed", "syntax", "indent", "lazy", "timeouts"]
    header += ["test edits", "s/case", "tokens", "cost"]
    rows = [
        _table_row(language, block, tries) for language, block in metrics["by_language"].items()
    ]
    rows.append(_table_row("**all**", metrics, tries))
    return header, rows


def _table_row(name: str, block: dict[str, Any], tries: int) -> list[str]:
    cells = [name, str(block["cases"])]
    cells += [_pct(block.get(f"pass_rate_{n}")) for n in range(1, tries + 1)]
    cells.append(_pct(block.get("percent_cases_well_formed")))
    for key in ("malformed_responses", "syntax_errors", "indentation_errors", "lazy_comments"):
        cells.append(str(block[key]))
    cells += [str(block["test_timeouts"]), str(block["test_edits"])]
    seconds = block.get("seconds_per_case")
    cells.append("-" if seconds is None else f"{seconds:.1f}")
    cells.append(f"{block['prompt_tokens'] + block['completion_tokens']:,}")
    cells.append(_money(block.get("cost")))
    return cells


def _money(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"
