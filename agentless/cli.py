"""The command line: the only place that parses argv.

Options are declared here once and mapped into frozen ``Config`` objects; the work happens in
the modules each command calls. Heavy modules are imported inside commands so that
``agentless --help`` stays fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from agentless._version import __version__
from agentless.errors import AgentlessError, ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def model_options(func: F) -> F:
    """Options shared by every command that talks to a model."""
    options = [
        click.option("--model", "model_name", help="Model name (env: AGENTLESS_MODEL)."),
        click.option("--base-url", help="OpenAI-compatible base URL (env: OPENAI_BASE_URL)."),
        click.option(
            "--api-key-env",
            help="Environment variable that holds the API key (default: OPENAI_API_KEY).",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="TOML config file (default: ./agentless.toml when present).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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
def main() -> None:
    """Agentless code repair: localize, repair as diffs, apply, validate, select."""


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
@click.option(
    "--mirrors",
    "mirrors_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of local git mirrors (owner+name, owner__name or owner/name).",
)
@click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Mirrors, worktrees."
)
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
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file (default: ./agentless.toml when present).",
)
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


@main.command("index")
@click.argument("path")
@click.option("--commit", default="", help="Commit to index (default: HEAD).")
@workspace_options
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file (default: ./agentless.toml when present).",
)
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
    from agentless.tasks import load_tasks, select_instances

    config = build_config(
        config_path,
        model_name,
        base_url,
        api_key_env,
        run={"mirrors_dir": mirrors_dir, "cache_dir": cache_dir},
    )
    tasks = select_instances(load_tasks(task_file), [instance_id] if instance_id else None)
    if len(tasks) != 1:
        raise ConfigError(f"{task_file} holds {len(tasks)} tasks: choose one with --instance ID")
    task = tasks[0]
    index = index_for(open_workspace(config), task.repo, task.base_commit)
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
