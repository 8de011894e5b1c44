"""The command line: the only place that parses argv.

Options are declared here once and mapped into frozen ``Config`` objects; the work happens in
the modules each command calls. Heavy modules are imported inside commands so that
``agentless --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from agentless._version import __version__
from agentless.errors import AgentlessError, ConfigError

F = TypeVar("F", bound=Callable[..., Any])


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file (default: ./agentless.toml when present).",
)


def model_options(func: F) -> F:
    """Options shared by every command that talks to a model."""
    options = [
        click.option("--model", "model_name", help="Model name (env: AGENTLESS_MODEL)."),
        click.option("--base-url", help="OpenAI-compatible base URL (env: OPENAI_BASE_URL)."),
        click.option(
            "--api-key-env",
            help="Environment variable that holds the API key (default: OPENAI_API_KEY).",
        ),
        config_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def workspace_options(func: F) -> F:
    """Where repositories come from and where mirrors and indexes are cached."""
    options = [
        click.option(
            "--mirrors",
            "mirrors_dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder of local git mirrors (owner+name, owner__name or owner/name).",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Mirrors, worktrees and indexes (default: ~/.cache/agentless).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def open_workspace(config: Any) -> Any:
    """The workspace a command works in, from the run configuration."""
    from agentless.repo.workspace import Workspace, default_cache_dir

    run = config.run
    return Workspace(run.cache_dir or default_cache_dir(), run.repo_url_template, run.mirrors_dir)


def build_config(
    config_path: Path | None,
    model_name: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    **sections: dict[str, Any],
) -> Any:
    """Map CLI flags (``None`` = not given) onto the configuration layers."""
    from agentless.config import load_config

    model = {"name": model_name, "base_url": base_url, "api_key_env": api_key_env}
    overrides: dict[str, Any] = {"model": {k: v for k, v in model.items() if v is not None}}
    for name, values in sections.items():
        overrides[name] = {k: v for k, v in values.items() if v is not None}
    return load_config(config_path, overrides=overrides)


def handle_errors(func: F) -> F:
    """Turn our exceptions into a one-line message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AgentlessError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="agentless")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
def main(quiet: bool) -> None:
    """Agentless code repair: localize, repair as diffs, apply, validate, select."""
    import logging

    # Progress and retry warnings go to stderr; stdout stays for results (patches, JSON).
    root = logging.getLogger("agentless")
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    if not any(getattr(h, "_agentless_cli", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        handler._agentless_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)


# --- commands -----------------------------------------------------------------------------
# Each command parses its options, builds config, and calls one function below the CLI.


@main.command()
@model_options
@handle_errors
def doctor(
    config_path: Path | None, model_name: str | None, base_url: str | None, api_key_env: str | None
) -> None:
    """Check the model endpoint, git, network isolation and Python interpreters.

    Each line is OK or says how to fix it; the exit code is 0 only when every check passes.
    """
    from agentless.doctor import render, run_checks

    config = build_config(config_path, model_name, base_url, api_key_env)
    checks = run_checks(config.model)
    for line in render(checks):
        click.echo(line)
    sys.exit(0 if all(check.ok for check in checks) else 1)


@main.command("eval")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--predictions",
    required=True,
    help="SWE-bench predictions file (JSONL/JSON), or `gold` for the dataset's own patches.",
)
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder."
)
@click.option(
    "--instances",
    multiple=True,
    help="Instance ids to evaluate (repeat, or comma-separated); default: all.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Instances evaluated at once.")
@workspace_options
@click.option(
    "--env-dir", type=click.Path(file_okay=False, path_type=Path), help="Environment cache."
)
@click.option("--timeout", type=float, help="Seconds per test command (default 1800).")
@click.option(
    "--no-isolation",
    is_flag=True,
    help="Run tests WITHOUT a network namespace (unsafe; only where namespaces are missing).",
)
@click.option("--no-resume", is_flag=True, help="Re-evaluate instances already in --out.")
@config_option
@handle_errors
def eval_command(
    dataset: Path,
    predictions: str,
    out_dir: Path,
    instances: tuple[str, ...],
    workers: int | None,
    mirrors_dir: Path | None,
    cache_dir: Path | None,
    env_dir: Path | None,
    timeout: float | None,
    no_isolation: bool,
    no_resume: bool,
    config_path: Path | None,
) -> None:
    """Grade predictions on SWE-bench-style tasks with their own tests, as SWE-bench does.

    Writes <out>/<instance>/report.json (SWE-bench schema), the test logs, and
    <out>/summary.json; a second run skips instances already graded with the same patch.
    """
    from agentless.validate.evaluate import run_evaluation

    config = build_config(
        config_path,
        run={
            "run_dir": out_dir,
            "workers": workers,
            "mirrors_dir": mirrors_dir,
            "cache_dir": cache_dir,
        },
        validate={
            "env_dir": env_dir,
            "timeout": timeout,
            "isolation": False if no_isolation else None,
        },
    )
    ids = [part for item in instances for part in item.replace(",", " ").split()]
    summary = run_evaluation(dataset, predictions, config, instances=ids, resume=not no_resume)
    counts = ("resolved", "unresolved", "empty_patch", "error", "infrastructure_failure")
    click.echo(
        f"{summary['resolved_instances']}/{summary['total_instances']} resolved; "
        + ", ".join(f"{name}: {summary[f'{name}_instances']}" for name in counts)
        + f"; summary: {out_dir / 'summary.json'}"
    )


@main.command("exercises")
@click.argument("exercises_dir", metavar="DIR", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Run directory."
)
@click.option(
    "--format",
    "edit_format",
    type=click.Choice(["diff", "udiff", "whole"]),
    help="Edit format the model must answer in (default: diff).",
)
@click.option("--tries", type=click.IntRange(min=1), help="Tries per exercise (default 2).")
@click.option(
    "--reflections",
    type=click.IntRange(min=0),
    help="Follow-ups per try for replies whose edits do not apply (default 3).",
)
@click.option(
    "--languages",
    multiple=True,
    help="Languages to run (repeat, or comma-separated: python,go); default: all.",
)
@click.option(
    "--instances",
    multiple=True,
    help="Exercises to run: name, language/name (repeat, or comma-separated); default: all.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Exercises run at once (default 1).")
@click.option("--test-timeout", type=float, help="Seconds per test run (default 180).")
@click.option("--max-tokens", type=click.IntRange(min=16), help="Token limit per reply.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where installs for the tests are kept (default: ~/.cache/agentless).",
)
@click.option(
    "--no-isolation", is_flag=True, help="Run tests WITHOUT a network namespace (unsafe)."
)
@click.option("--no-resume", is_flag=True, help="Run again exercises already done in --out.")
@model_options
@handle_errors
def exercises_command(
    exercises_dir: Path,
    out_dir: Path,
    edit_format: str | None,
    tries: int | None,
    reflections: int | None,
    languages: tuple[str, ...],
    instances: tuple[str, ...],
    workers: int | None,
    test_timeout: float | None,
    max_tokens: int | None,
    cache_dir: Path | None,
    no_isolation: bool,
    no_resume: bool,
    config_path: Path | None,
    model_name: str | None,
    base_url: str | None,
    api_key_env: str | None,
) -> None:
    """Aider-style benchmark: solve the exercises in DIR with edits in one format.

    Each exercise is copied to a fresh folder, the model gets its instructions and files, its
    edits are applied (malformed ones get feedback and another chance), and the tests run in
    the sandbox; a second try sees the test output. Writes <out>/metrics.json (pass rate per
    try, well-formed edits, ...) and <out>/<language>__<name>/result.json; resumes.
    """
    from agentless.exercises import exercise_tasks, render_markdown, run_exercises
    from agentless.runner import require_model

    chosen = _split(languages)
    config = build_config(
        config_path,
        model_name,
        base_url,
        api_key_env,
        run={"run_dir": out_dir, "workers": workers, "cache_dir": cache_dir},
        validate={"isolation": False if no_isolation else None},
        exercises={
            "edit_format": edit_format,
            "tries": tries,
            "reflections": reflections,
            "test_timeout": test_timeout,
            "reply_tokens": max_tokens,
            "languages": tuple(chosen) or None,
        },
    )
    require_model(config)
    tasks = exercise_tasks(
        exercises_dir, languages=config.exercises.languages, names=_split(instances)
    )
    metrics = run_exercises(tasks, config, out_dir, resume=not no_resume)
    click.echo(render_markdown(metrics), nl=False)
    click.echo(f"metrics: {out_dir / 'metrics.json'}")


def _split(values: tuple[str, ...]) -> list[str]:
    return [part for item in values for part in item.replace(",", " ").split()]


@main.command("apply")
@click.argument(
    "reply_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Working tree to edit.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "diff", "udiff", "whole"]),
    default="auto",
    show_default=True,
    help="Edit format of the reply: SEARCH/REPLACE (diff), unified diff, or whole files.",
)
@click.option("--dry-run", is_flag=True, help="Print the diff without writing anything.")
@handle_errors
def apply_command(reply_file: Path, repo: Path, fmt: str, dry_run: bool) -> None:
    """Apply the edits in a model reply (REPLY_FILE, or - for stdin) to a working tree.

    All or nothing: if any edit cannot be placed, nothing is written, the feedback for the
    model goes to stderr and the exit code is 1. On success the diff is printed.
    """
    from agentless.edits_io import apply_to_tree

    data = sys.stdin.buffer.read() if str(reply_file) == "-" else reply_file.read_bytes()
    result = apply_to_tree(data.decode("utf-8", "replace"), repo, fmt, dry_run=dry_run)
    if not result.ok:
        click.echo(result.feedback, err=True)
        click.echo("Nothing was written.", err=True)
        sys.exit(1)
    # Bytes, not text: files are read with surrogateescape, so non-UTF-8 bytes round-trip.
    sys.stdout.buffer.write(result.diff.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.flush()
    if not result.diff:
        click.echo("The reply's edits change nothing.", err=True)


@main.command("index")
@click.argument("path")
@click.option("--commit", default="", help="Commit to index (default: HEAD).")
@workspace_options
@config_option
@handle_errors
def index_command(
    path: str,
    commit: str,
    mirrors_dir: Path | None,
    cache_dir: Path | None,
    config_path: Path | None,
) -> None:
    """Build (or load from the cache) the index of PATH: a folder, owner/name or a git URL."""
    from agentless.repo.index import index_for

    config = build_config(config_path, run={"mirrors_dir": mirrors_dir, "cache_dir": cache_dir})
    index = index_for(open_workspace(config), path, commit)
    stats = index.stats()
    source = "loaded from the cache" if index.from_cache else "built"
    click.echo(f"{path} @ {stats['commit'][:12]}: {source} in {stats['seconds']:.2f} s")
    click.echo(
        f"{stats['files']} files kept ({stats['roles']}); {stats['searchable']} indexed, "
        f"{stats['lines']} lines; {stats['vocabulary']} terms; excluded: {stats['excluded'] or 'none'}"
    )


@main.command("localize")
@click.argument("task_file", metavar="TASK", type=click.Path(exists=True, path_type=Path))
@click.option("--instance", "instance_id", help="Instance id (needed when TASK holds several).")
@click.option("--retrieval-only", is_flag=True, help="No model call: ranked files with scores.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@workspace_options
@model_options
@handle_errors
def localize_command(
    task_file: Path,
    instance_id: str | None,
    retrieval_only: bool,
    as_json: bool,
    mirrors_dir: Path | None,
    cache_dir: Path | None,
    config_path: Path | None,
    model_name: str | None,
    base_url: str | None,
    api_key_env: str | None,
) -> None:
    """Print the files, elements and edit locations of a task's issue, per stage, with cost."""
    import json

    from agentless.localize import localize_task
    from agentless.localize.report import describe
    from agentless.repo.index import index_for

    config = build_config(
        config_path,
        model_name,
        base_url,
        api_key_env,
        run={"mirrors_dir": mirrors_dir, "cache_dir": cache_dir},
    )
    task = one_task(task_file, instance_id)
    index = index_for(open_workspace(config), task.repo, task.base_commit, exclude=task.hidden)
    model = None
    if not retrieval_only:
        from agentless.model import OpenAICompatibleModel

        model = OpenAICompatibleModel.from_config(config.model)
    result = localize_task(task, index, model, config.localize)
    if as_json:
        click.echo(json.dumps({"instance_id": task.instance_id, **result.to_dict()}, indent=2))
    else:
        click.echo(f"{task.instance_id} ({task.repo} @ {index.commit[:12]})")
        for line in describe(result):
            click.echo(line)


@main.command("run")
@click.argument(
    "task_file", metavar="[TASK]", required=False, type=click.Path(exists=True, path_type=Path)
)
@click.option("--instance", "instance_id", help="Instance id (needed when TASK holds several).")
@click.option(
    "--repo",
    "repo_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Your own repository (instead of TASK); it is copied, never modified without --apply.",
)
@click.option("--issue", help="With --repo: the issue, as a file or as text.")
@click.option("--test-cmd", default="", help="With --repo: the command that runs its tests.")
@click.option("--apply", "apply_patch", is_flag=True, help="With --repo: apply the chosen patch.")
@click.option(
    "--out",
    "run_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory (default: runs/<instance>); re-runs reuse its model replies.",
)
@click.option(
    "--format", "edit_format", type=click.Choice(["diff", "udiff", "whole"]), help="Edit format."
)
@click.option("--samples", type=click.IntRange(min=1), help="Repairs per location set.")
@click.option(
    "--locations", type=click.IntRange(min=1), help="Location sets (edit-window samples)."
)
@click.option(
    "--python",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --repo: interpreter for its tests (default: the one running agentless).",
)
@click.option(
    "--no-isolation", is_flag=True, help="Run tests WITHOUT a network namespace (unsafe)."
)
@click.option("--dry-run", is_flag=True, help="Show the prompts and token counts; call no model.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@workspace_options
@model_options
@handle_errors
def run_command(
    task_file: Path | None,
    instance_id: str | None,
    repo_path: Path | None,
    issue: str | None,
    test_cmd: str,
    apply_patch: bool,
    run_dir: Path | None,
    edit_format: str | None,
    samples: int | None,
    locations: int | None,
    python: Path | None,
    no_isolation: bool,
    dry_run: bool,
    as_json: bool,
    mirrors_dir: Path | None,
    cache_dir: Path | None,
    config_path: Path | None,
    model_name: str | None,
    base_url: str | None,
    api_key_env: str | None,
) -> None:
    """Repair one task: a SWE-bench row (TASK [--instance ID]) or --repo PATH --issue FILE|TEXT.

    Prints the chosen patch, a summary and the run directory.
    """
    from agentless import runner

    config = build_config(
        config_path,
        model_name,
        base_url,
        api_key_env,
        run={"mirrors_dir": mirrors_dir, "cache_dir": cache_dir},
        repair={"edit_format": edit_format, "samples": samples},
        localize={"window_samples": locations},
        validate={"python": python, "isolation": False if no_isolation else None},
    )
    task = _chosen_task(task_file, instance_id, repo_path, issue, test_cmd)
    if apply_patch and task.kind != "local":
        raise ConfigError("--apply works with --repo only")
    if python and task.kind == "swebench":
        raise ConfigError("--python works with --repo or exercises; SWE-bench rows get theirs")
    if dry_run:
        _print_dry_run(*runner.dry_run(task, config))
        return
    runner.require_model(config)
    run_dir = run_dir or config.run.run_dir or Path("runs") / task.instance_id
    outcome = runner.run_one(task, config, run_dir)
    result = outcome.result
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "run_dir": str(outcome.task_dir)}, indent=2))
    else:
        _print_summary(result, outcome.task_dir)
    if apply_patch and result.patch:
        _apply_to_checkout(Path(task.repo), result.patch)
    sys.exit(0 if result.patch else 1)


def _chosen_task(
    task_file: Path | None,
    instance_id: str | None,
    repo_path: Path | None,
    issue: str | None,
    test_cmd: str,
) -> Any:
    from agentless.tasks import local_task

    if (task_file is None) == (repo_path is None):
        raise ConfigError("give either TASK (a dataset file) or --repo PATH --issue FILE|TEXT")
    if repo_path is not None:
        if not issue:
            raise ConfigError("--repo needs --issue (a file holding the issue, or its text)")
        return local_task(repo_path, issue, test_cmd=test_cmd)
    assert task_file is not None
    if issue or test_cmd:
        raise ConfigError(
            "--issue and --test-cmd work with --repo only (TASK rows carry their own)"
        )
    return one_task(task_file, instance_id)


def one_task(task_file: Path, instance_id: str | None) -> Any:
    """The task named by ``--instance`` in ``task_file`` (or its only task)."""
    from agentless.tasks import load_tasks, select_instances

    tasks = select_instances(load_tasks(task_file), [instance_id] if instance_id else None)
    if len(tasks) != 1:
        raise ConfigError(f"{task_file} holds {len(tasks)} tasks: choose one with --instance ID")
    return tasks[0]


def _print_dry_run(prompts: list[Any], total: int) -> None:
    for record, tokens in prompts:
        click.echo(f"===== {record.stage or 'model'}: ~{tokens} prompt tokens =====")
        for message in record.messages:
            click.echo(f"--- {message['role']} ---")
            click.echo(message["content"])
    click.echo(
        f"{len(prompts)} distinct prompt(s); ~{total} prompt tokens over all requests "
        "(more where a server refuses n and gets one request per sample)."
    )
    click.echo(
        "Later stages depend on the model's replies; these are the prompts a run starts with."
    )


def _print_summary(result: Any, task_dir: Path) -> None:
    if result.patch:
        click.echo(result.patch, nl=False)
    else:
        click.echo("No patch was chosen (no candidate survived).", err=True)
    kept = [c for c in result.candidates if c["kept"]]
    chosen = next((c for c in result.candidates if c["reason"].startswith("chosen")), None)
    usage = result.usage
    cost = "unknown" if usage.cost is None else f"${usage.cost:.4f}"
    files = ", ".join(result.localization.get("files", [])[:5]) or "none"
    click.echo("")
    click.echo(f"locations : {files}")
    click.echo(
        f"candidates: {len(result.candidates)} sampled, {len(kept)} kept"
        + (f"; chosen #{chosen['index']} with {chosen['votes']} vote(s)" if chosen else "")
    )
    for step in result.selection_steps:
        click.echo(f"  - {step}")
    for note in result.notes:
        click.echo(f"  note: {note}")
    for stage, spent in sorted(result.usage_by_stage.items()):
        click.echo(
            f"  {stage:<16} {spent.prompt_tokens:>8} in {spent.completion_tokens:>7} out "
            f"{'unknown' if spent.cost is None else f'${spent.cost:.4f}'}"
        )
    click.echo(
        f"tokens    : {usage.prompt_tokens} prompt, {usage.completion_tokens} completion"
        f" ({result.cached_replies} replies from the store); cost {cost}"
    )
    click.echo(f"time      : {sum(result.timings.values()):.1f} s ({result.timings})")
    click.echo(f"run dir   : {task_dir}")


def _apply_to_checkout(repo: Path, patch: str) -> None:
    from agentless.validate.patching import apply_patch

    outcome = apply_patch(repo, patch, fallbacks=False)
    if not outcome.applied:
        raise ConfigError(f"the chosen patch did not apply to {repo}: {outcome.message}")
    click.echo(f"applied to {repo}")
