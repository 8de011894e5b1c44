"""The report of a run directory: Markdown, and a single-file HTML page with plots.

Everything comes from ``RUN_DIR/store.db`` (the scheduler's task rows, each task's result,
model calls and test runs). A run of ``agentless exercises`` also gets the benchmark's metrics
(Aider's meanings, ``agentless.exercises.summarize``) and a plot of its pass rate by try and by
language. The HTML needs nothing from the network: plots are inline SVG
(matplotlib), diffs are highlighted with inline styles (pygments), and each task has its own
section (prompts, replies, candidates, test commands and their output) reached from the index.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentless.errors import ConfigError
from agentless.model import Usage
from agentless.store import STORE_FILENAME, Store, TaskRun

FUNNEL = ("localized", "applied", "validated", "resolved")
STAGES = ("index", "localize", "repair", "validate", "evaluate")
JOBS = ("repair", "eval", "exercises")


@dataclass
class TaskRow:
    """One task as the report shows it."""

    instance_id: str
    status: str
    stage: str
    error: str
    seconds: float | None
    usage: Usage
    result: dict[str, Any]
    evaluation: dict[str, Any]
    funnel: dict[str, bool | None] = field(default_factory=dict)
    job: str = "repair"

    @property
    def is_exercise(self) -> bool:
        return self.job == "exercises"

    @property
    def timings(self) -> dict[str, float]:
        timings = dict(self.result.get("timings", {}))
        seconds = (self.evaluation.get("result") or {}).get("total_seconds")
        if seconds is not None:
            timings["evaluate"] = float(seconds)
        return timings

    @property
    def recall(self) -> dict[str, float]:
        metrics = (self.result.get("localization") or {}).get("metrics") or {}
        if not metrics:
            return {}
        return {
            "retrieval file@5": metrics.get("retrieval", {}).get("file_recall@5"),
            "file stage": metrics.get("files", {}).get("file_recall"),
            "element functions": metrics.get("elements", {}).get("function_recall"),
            "window lines": metrics.get("windows", {}).get("line_recall"),
        }


@dataclass
class Report:
    """What ``build_report`` wrote."""

    markdown_text: str
    paths: list[Path]


def load_rows(store: Store) -> list[TaskRow]:
    """Every task the store knows, newest state, in instance order."""
    usage = store.usage_by_instance()
    rows = []
    for job in JOBS:
        for iid, run in sorted(store.task_runs(job).items()):
            result = store.latest_result(iid) or {}
            output = run.output or {}
            evaluation = output.get("evaluation") or (output if job == "eval" else {})
            if job == "exercises":
                evaluation = {"outcome": output["headline"]} if "headline" in output else {}
            row = TaskRow(
                instance_id=iid,
                status=run.status,
                stage=run.stage,
                error=run.error,
                seconds=_seconds(run),
                usage=usage.get(iid, Usage(cost=None if iid in usage else 0.0)),
                result=result,
                evaluation=evaluation,
                job=job,
            )
            row.funnel = {} if row.is_exercise else _funnel(row)
            rows.append(row)
    return rows


def exercise_metrics(store: Store) -> dict[str, Any] | None:
    """The exercise benchmark's metrics over every exercise the store knows (``None`` when
    the run holds none), computed as ``agentless exercises`` computes them."""
    runs = store.task_runs("exercises")
    if not runs:
        return None
    from agentless.runner import exercise_metrics as metrics_of

    return metrics_of(store, sorted(runs))


def _seconds(run: TaskRun) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return round(run.finished_at - run.started_at, 1)


def _funnel(row: TaskRow) -> dict[str, bool | None]:
    """Did the task get this far: gold code located, an edit applied, a candidate passing the
    checks that ran, the row's tests passing? (``None``: cannot be told)."""
    candidates = row.result.get("candidates", [])
    metrics = (row.result.get("localization") or {}).get("metrics") or {}
    file_recall = metrics.get("windows", {}).get("file_recall")
    localized: bool | None
    if file_recall is not None:
        localized = file_recall > 0
    elif row.result:
        localized = bool(row.result.get("localization", {}).get("files"))
    else:
        localized = None
    applied = any(c.get("patch") for c in candidates) if row.result else None
    validated = (
        any(
            c.get("kept")
            and (
                c.get("reproduction_passed") is True
                or (c.get("reproduction_passed") is None and c.get("regression_failures") == 0)
            )
            for c in candidates
        )
        if row.result
        else None
    )
    resolved = row.evaluation.get("resolved") if row.evaluation else None
    return {
        "localized": localized,
        "applied": applied,
        "validated": validated,
        "resolved": resolved,
    }


# --- Markdown ----------------------------------------------------------------------------


def markdown(
    run_dir: Path, rows: Sequence[TaskRow], exercises: dict[str, Any] | None = None
) -> str:
    """The report as Markdown: counts, the funnel and stage times of repairs, the exercise
    benchmark's metrics, a line per task."""
    total = sum((row.usage for row in rows), Usage())
    counts = {
        s: sum(1 for r in rows if r.status == s)
        for s in ("done", "failed", "interrupted", "running")
    }
    lines = [
        f"# Run report: {run_dir}",
        "",
        f"{len(rows)} task(s): {counts['done']} done, {counts['failed']} failed, "
        f"{counts['interrupted'] + counts['running']} unfinished. "
        # Every call the store holds, earlier runs of a task included (the exercise metrics count
        # the calls of each exercise's latest result).
        f"{total.calls:,} model calls recorded in this folder: {total.prompt_tokens:,} prompt + "
        f"{total.completion_tokens:,} completion tokens ({total.cached_tokens:,} cached); "
        f"cost: {_money(total.cost)}.",
    ]
    repairs = [row for row in rows if not row.is_exercise]
    if repairs:
        lines += _repair_sections(repairs)
    if exercises is not None:
        from agentless.exercises import render_markdown

        lines += ["", "## Exercise benchmark", "", render_markdown(exercises).rstrip("\n")]
    lines += [
        "",
        "## Tasks",
        "",
        "| instance | status | patch | evaluation | tokens | cost | seconds | note |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for row in rows:
        patch = "yes" if row.result.get("model_patch") else ("no" if row.result else "-")
        patch = "-" if row.is_exercise else patch
        note = (row.error.splitlines()[0] if row.error else "")[:120].replace("|", "\\|")
        lines.append(
            f"| {row.instance_id} | {row.status} | {patch} | {row.evaluation.get('outcome', '-')} "
            f"| {row.usage.total_tokens:,} | {_money(row.usage.cost)} | {row.seconds or '-'} | {note} |"
        )
    return "\n".join(lines) + "\n"


def _repair_sections(rows: Sequence[TaskRow]) -> list[str]:
    lines = ["", "## Funnel", "", "| step | tasks | of known |", "|---|---:|---:|"]
    for step in FUNNEL:
        known = [r.funnel.get(step) for r in rows if r.funnel.get(step) is not None]
        lines.append(f"| {step} | {sum(1 for k in known if k)} | {len(known)} |")
    lines += [
        "",
        "## Time per stage (seconds, over done tasks)",
        "",
        "| stage | median | max |",
        "|---|---:|---:|",
    ]
    for stage, values in _stage_times(rows).items():
        lines.append(f"| {stage} | {statistics.median(values):.2f} | {max(values):.2f} |")
    recall = _recall(rows)
    if recall:
        lines += [
            "",
            "## Localization recall (tasks with a gold patch)",
            "",
            "| measure | mean | tasks |",
            "|---|---:|---:|",
        ]
        for name, values in recall.items():
            lines.append(f"| {name} | {statistics.mean(values):.2f} | {len(values)} |")
    return lines


def _money(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"


def _stage_times(rows: Sequence[TaskRow]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for row in rows:
        if row.status != "done":
            continue
        for stage in STAGES:
            if stage in row.timings:
                times.setdefault(stage, []).append(row.timings[stage])
    return times


def _recall(rows: Sequence[TaskRow]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for row in rows:
        for name, value in row.recall.items():
            if value is not None:
                found.setdefault(name, []).append(float(value))
    return found


# --- plots -------------------------------------------------------------------------------


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def plots(rows: Sequence[TaskRow], exercises: dict[str, Any] | None = None) -> dict[str, str]:
    """Inline SVG plots by title: the funnel (of repairs), the exercise benchmark's pass rate
    by try and by language, tokens and cost per task, time per stage, localization recall
    (when gold patches are known)."""
    out: dict[str, str] = {}
    repairs = [row for row in rows if not row.is_exercise]
    if repairs or exercises is None:
        out["Funnel: localized → applied → validated → resolved"] = _funnel_plot(repairs)
    if exercises is not None:
        out["Pass rate by try and by language"] = _pass_rate_plot(exercises)
    out["Tokens and cost per task"] = _usage_plot(rows)
    times = _stage_times(repairs)
    if times:
        fig = _figure(6, 2.8)
        ax = fig.subplots()
        ax.boxplot(list(times.values()), tick_labels=list(times), orientation="horizontal")
        ax.set_xlabel("seconds")
        out["Time per stage"] = _svg(fig)
    recall = _recall(repairs)
    if recall:
        fig = _figure(6, 2.4)
        ax = fig.subplots()
        means = [statistics.mean(v) for v in recall.values()]
        ax.barh(list(recall), means, color="#72b7b2")
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"mean recall ({max(len(v) for v in recall.values())} tasks with gold)")
        out["Localization recall"] = _svg(fig)
    return out


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height))


def _funnel_plot(rows: Sequence[TaskRow]) -> str:
    fig = _figure(6, 2.6)
    ax = fig.subplots()
    values = [sum(1 for r in rows if r.funnel.get(step)) for step in FUNNEL]
    ax.barh(list(reversed(FUNNEL)), list(reversed(values)), color="#4c78a8")
    for y, v in enumerate(reversed(values)):
        ax.text(v, y, f" {v}", va="center")
    ax.set_xlabel(f"tasks (of {len(rows)})")
    return _svg(fig)


def _pass_rate_plot(metrics: dict[str, Any]) -> str:
    """Grouped bars: for all exercises and each language, the pass rate after each try."""
    plot = metrics["plot"]
    tries, series = plot["tries"], plot["series"]
    cases = {"all": metrics["cases"]} | {
        lang: block["cases"] for lang, block in metrics["by_language"].items()
    }
    groups = list(series)
    fig = _figure(1.6 + 1.1 * len(groups), 2.8)
    ax = fig.subplots()
    width = 0.8 / max(len(tries), 1)
    colours = ("#4c78a8", "#f58518", "#54a24b", "#e45756")
    for i, number in enumerate(tries):
        xs = [g + (i - (len(tries) - 1) / 2) * width for g in range(len(groups))]
        values = [series[name][i] or 0.0 for name in groups]
        ax.bar(xs, values, width, label=f"try {number}", color=colours[i % len(colours)])
        for x, v in zip(xs, values, strict=True):
            ax.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)), [f"{g}\n({cases.get(g, 0)})" for g in groups])
    ax.set_ylim(0, 120)  # room above 100% for the legend
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("pass rate (%)")
    ax.legend(fontsize=7, loc="upper center", ncol=len(tries), frameon=False)
    return _svg(fig)


def _usage_plot(rows: Sequence[TaskRow]) -> str:
    fig = _figure(7, 2.8)
    ax = fig.subplots()
    names = [r.instance_id for r in rows]
    ax.bar(range(len(rows)), [r.usage.total_tokens for r in rows], color="#f58518")
    ax.set_ylabel("tokens")
    ax.set_xticks(
        range(len(rows)), names if len(rows) <= 30 else [""] * len(rows), rotation=90, fontsize=7
    )
    costs = [r.usage.cost for r in rows if r.usage.cost is not None]
    if rows and len(costs) == len(rows):
        twin = ax.twinx()
        twin.plot(range(len(rows)), costs, "o", color="#54a24b")
        twin.set_ylabel("cost ($)")
    return _svg(fig)


# --- HTML --------------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>agentless run report: {{ run_dir }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #222; background: #fff; }
header { background: #1f3a5f; color: #fff; padding: 12px 20px; }
main { padding: 0 20px 40px; max-width: 1200px; }
table { border-collapse: collapse; margin: 8px 0; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
.plot { border: 1px solid #ddd; padding: 8px; background: #fafafa; }
.plot svg { max-width: 560px; height: auto; }
pre { background: #f6f8fa; padding: 8px; overflow: auto; max-height: 420px; white-space: pre-wrap; }
.task { display: none; border-top: 3px solid #1f3a5f; margin-top: 24px; }
.task:target { display: block; }
.done { color: #1a7f37; } .failed { color: #cf222e; } .interrupted, .running { color: #9a6700; }
details { margin: 4px 0; } summary { cursor: pointer; }
</style></head><body>
<header><h1>Run report</h1><div>{{ run_dir }} · {{ rows|length }} task(s) · {{ headline }}</div></header>
<main>
<h2>Overview</h2>
<div class="plots">
{% for title, svg in plots.items() %}<div class="plot"><h3>{{ title }}</h3>{{ svg|safe }}</div>
{% endfor %}</div>
{% if exercises %}<h2>Exercise benchmark</h2>
<p>{{ exercises.title }}</p>
<table><tr>{% for h in exercises.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for cells in exercises.rows %}<tr>{% for c in cells %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
<ul>{% for note in exercises.notes %}<li>{{ note }}</li>{% endfor %}</ul>
{% endif %}
<h2>Tasks</h2>
<table><tr><th>instance</th><th>status</th><th>patch</th><th>evaluation</th><th>tokens</th><th>cost</th><th>seconds</th><th>note</th></tr>
{% for row in rows %}<tr><td><a href="#task-{{ row.instance_id }}">{{ row.instance_id }}</a></td>
<td class="{{ row.status }}">{{ row.status }}</td><td>{{ '-' if row.is_exercise else ('yes' if row.result.get('model_patch') else 'no') }}</td>
<td>{{ row.evaluation.get('outcome', '-') }}</td><td>{{ '{:,}'.format(row.usage.total_tokens) }}</td>
<td>{{ money(row.usage.cost) }}</td><td>{{ row.seconds or '-' }}</td><td>{{ (row.error.splitlines() or [''])[0][:160] }}</td></tr>
{% endfor %}</table>
{% for row in rows %}
<section class="task" id="task-{{ row.instance_id }}">
<h2>{{ row.instance_id }} <span class="{{ row.status }}">({{ row.status }})</span></h2>
<p><a href="#">back to the overview</a></p>
{% if row.error %}<pre>{{ row.error }}</pre>{% endif %}
{% if row.is_exercise %}<p>Outcome: <b>{{ row.evaluation.get('outcome', row.status) }}</b></p>
<h3>Tries</h3>
{% for t in row.result.get('tries', []) %}<details><summary>try {{ t.number }}: {{ 'passed' if t.passed else 'failed' }} · {{ t.replies|length }} repl{{ 'y' if t.replies|length == 1 else 'ies' }}{% if t.context_exhausted %} · context full{% endif %}</summary>
<table>{% for r in t.replies %}<tr><td>{{ r.kind }}</td><td>{{ r.applied }} edit(s) applied</td><td>{% if r.malformed %}malformed: {{ r.failures|map('join', ': ')|join('; ') }}{% else %}well-formed{% endif %}</td><td>{% if r.test_edits %}test files edited (not written): {{ r.test_edits|join(', ') }}{% endif %}{% if r.lazy %} {{ r.lazy }} placeholder comment(s){% endif %}</td></tr>{% endfor %}</table>
{% if t.test %}<p>tests: {{ 'passed' if t.test.passed else 'failed' }}{% if t.test.timed_out %} (timed out){% endif %}{% if t.test.syntax_error %} · syntax error{% endif %}{% if t.test.indentation_error %} · indentation error{% endif %} · {{ '%.1f'|format(t.test.seconds) }} s</p><pre>{{ t.test.output }}</pre>{% endif %}</details>
{% endfor %}
{% else %}
<h3>Chosen patch</h3>
{% if row.result.get('model_patch') %}{{ diff(row.result['model_patch'])|safe }}{% else %}<p>none</p>{% endif %}
{% if row.evaluation %}<p>Evaluation: <b>{{ row.evaluation.get('outcome') }}</b> {{ row.evaluation.get('detail', '') }}</p>{% endif %}
<h3>Stages</h3>
<table>{% for stage, detail, at in details[row.instance_id].stages %}<tr><td>{{ stage }}</td><td>{{ detail }}</td></tr>{% endfor %}</table>
<h3>Candidates</h3>
{% for c in row.result.get('candidates', []) %}<details><summary>#{{ c.index }}: {{ c.reason }}</summary>
{% if c.patch %}{{ diff(c.patch)|safe }}{% endif %}
{% if c.edit_failures %}<pre>{{ c.edit_failures|tojson(indent=1) }}</pre>{% endif %}</details>
{% endfor %}
{% endif %}
<h3>Model calls</h3>
{% for call in details[row.instance_id].calls %}<details><summary>{{ call.stage }} · {{ call.usage.prompt_tokens }} + {{ call.usage.completion_tokens }} tokens{% if call.error %} · error{% endif %}</summary>
{% for m in call.request.get('messages', []) %}<p><b>{{ m.role }}</b></p><pre>{{ m.content }}</pre>{% endfor %}
{% for c in call.completions %}<p><b>reply {{ loop.index }}</b></p><pre>{{ c.text }}</pre>{% endfor %}
{% if call.error %}<pre>{{ call.error }}</pre>{% endif %}</details>
{% endfor %}
<h3>Test runs</h3>
{% for t in details[row.instance_id].tests %}<details><summary><code>{{ t.argv|join(' ') }}</code> · exit {{ t.exit_code }}{% if t.timed_out %} (timed out){% endif %} · {{ '%.1f'|format(t.duration) }} s</summary><pre>{{ t.output }}</pre></details>
{% endfor %}
</section>
{% endfor %}
</main></body></html>
"""


@dataclass
class _Details:
    stages: list[tuple[str, str, float]]
    calls: list[Any]
    tests: list[Any]


def _diff_html(patch: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import DiffLexer

    return highlight(patch, DiffLexer(), HtmlFormatter(noclasses=True, style="default"))


def _exercise_section(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    if metrics is None:
        return None
    from agentless.exercises import render_markdown, table

    header, rows = table(metrics)
    title, *rest = render_markdown(metrics).splitlines()
    notes = [line for line in rest if line and not line.startswith("|")]
    return {
        "title": title.lstrip("# ").replace("`", ""),
        "header": header,
        "rows": [[cell.replace("**", "") for cell in row] for row in rows],
        "notes": [note.removeprefix("- ") for note in notes],
    }


def html(
    run_dir: Path,
    rows: Sequence[TaskRow],
    store: Store,
    exercises: dict[str, Any] | None = None,
) -> str:
    """The whole report as one HTML document (no external resources)."""
    import jinja2

    details = {
        row.instance_id: _Details(
            stages=store.stage_history(row.instance_id),
            calls=store.calls(instance_id=row.instance_id),
            tests=store.test_runs(row.instance_id),
        )
        for row in rows
    }
    total = sum((row.usage for row in rows), Usage())
    done = sum(1 for r in rows if r.status == "done")
    resolved = sum(1 for r in rows if r.funnel.get("resolved"))
    verdict = f"{resolved} resolved"
    if exercises is not None:
        rates = [exercises.get(f"pass_rate_{n}") for n in exercises["plot"]["tries"]]
        verdict = "pass rate by try " + " / ".join("-" if r is None else f"{r}%" for r in rates)
    headline = (
        f"{done} done · {verdict} · {total.calls:,} model calls, {total.total_tokens:,} tokens "
        f"recorded · {_money(total.cost)}"
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_PAGE)
    return template.render(
        run_dir=str(run_dir),
        rows=rows,
        plots=plots(rows, exercises),
        exercises=_exercise_section(exercises),
        details=details,
        headline=headline,
        money=_money,
        diff=_diff_html,
    )


def build_report(run_dir: Path, *, with_html: bool = False) -> Report:
    """Write ``report.md`` (and ``report.html``) into ``run_dir``."""
    from agentless.runner import write_text

    if not (run_dir / STORE_FILENAME).is_file():
        raise ConfigError(
            f"{run_dir} holds no {STORE_FILENAME}: give the folder `agentless batch --out`, "
            "`agentless exercises --out` or `agentless run --out` wrote"
        )
    with Store.for_run(run_dir) as store:
        rows = load_rows(store)
        exercises = exercise_metrics(store)
        text = markdown(run_dir, rows, exercises)
        paths = [run_dir / "report.md"]
        write_text(paths[0], text)
        if with_html:
            paths.append(run_dir / "report.html")
            write_text(paths[1], html(run_dir, rows, store, exercises))
    return Report(text, paths)
