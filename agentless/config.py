"""Typed, frozen configuration, and how it is assembled.

Precedence (lowest to highest): defaults < profile (``--profile``) < TOML file
(``agentless.toml`` in the working directory, or ``--config``) < environment variables < CLI
flags < ``--set section.field=value``. Only ``cli.py`` maps argv into these objects; everything
below receives them read-only.

The API key is held as a ``SecretStr``: it never appears in ``repr``, in ``model_dump`` output,
in logs or in the store.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError

from agentless.edits import EditFormatName
from agentless.errors import ConfigError, lookup

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_CONFIG_FILE = "agentless.toml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Price(_Frozen):
    """Prices in currency units per million tokens."""

    prompt: float = Field(description="Price per 1M uncached prompt tokens.")
    completion: float = Field(description="Price per 1M completion tokens.")
    cached_prompt: float | None = Field(
        default=None, description="Price per 1M cached prompt tokens; defaults to `prompt`."
    )


class ModelConfig(_Frozen):
    """How to reach an OpenAI-compatible chat-completions endpoint."""

    name: str = Field(default="", description="Model name sent in the request (`model`).")
    base_url: str = Field(
        default="https://api.openai.com/v1",
        description="Endpoint base URL, with or without `/v1`.",
    )
    api_key: SecretStr | None = Field(
        default=None, description="API key; read from the environment, never stored or printed."
    )
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Name of the environment variable holding the key."
    )
    temperature: float = Field(default=0.0, description="Default sampling temperature.")
    max_tokens: int | None = Field(default=None, description="Default completion token limit.")
    context_window: int | None = Field(
        default=None,
        description="The server's context size in tokens; when set, `max_tokens` is cut to the "
        "room a prompt leaves (set when unset) and a prompt leaving less than "
        "`min_reply_tokens` is refused before it is sent.",
    )
    min_reply_tokens: int = Field(
        default=256, ge=1, description="Least room for the reply a prompt must leave."
    )
    stop: tuple[str, ...] = Field(default=(), description="Stop sequences.")
    seed: int | None = Field(default=None, description="Sampling seed, where servers honour it.")
    stream: bool = Field(default=False, description="Use server-sent events (stream=true).")
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="Free-form fields merged into every request body (vLLM, llama.cpp, OpenRouter).",
    )
    timeout: float = Field(default=600.0, description="Seconds to wait for one response.")
    connect_timeout: float = Field(default=10.0, description="Seconds to wait for a connection.")
    max_attempts: int = Field(default=6, ge=1, description="Attempts per request, first included.")
    retry_budget: float = Field(
        default=300.0, description="Seconds of backoff after which retrying stops."
    )
    backoff_base: float = Field(default=1.0, description="First backoff delay in seconds.")
    backoff_max: float = Field(default=60.0, description="Largest single backoff delay.")
    concurrency: int = Field(default=4, ge=1, description="Parallel requests for n-fallback.")
    prices: dict[str, Price] = Field(
        default_factory=dict, description="Price table keyed by model name; unknown = cost unknown."
    )


class LocalizeConfig(_Frozen):
    """File, element and edit-window localization."""

    top_files: int = Field(default=5, description="Files kept after the file stage.")
    retrieval_top_k: int = Field(default=10, description="BM25 files merged with the model's.")
    ask_files_over: int = Field(
        default=0,
        ge=0,
        description="Ask the model for files only when the repository has more source files "
        "than this (fewer are all kept, in retrieval order); 0 = always ask.",
    )
    ask_lines_over: int = Field(
        default=0,
        ge=0,
        description="Ask the model for edit lines only when the located elements span more "
        "lines than this (shorter ones are the location set as they are); 0 = always ask.",
    )
    file_samples: int = Field(default=1, ge=1)
    element_samples: int = Field(default=1, ge=1)
    window_samples: int = Field(default=4, ge=1, description="Location sets for repair.")
    temperature: float = Field(default=0.8, description="Temperature for samples after the first.")
    prompt_token_budget: int = Field(default=24_000, description="Per-stage prompt token budget.")
    context_margin: int = Field(default=10, description="Lines around each element.")
    max_retries: int = Field(
        default=2, ge=0, description="Retries when a reply names nothing real."
    )
    reply_tokens: int = Field(
        default=1024, ge=16, description="Completion token limit of each localization reply."
    )


class RepairConfig(_Frozen):
    """Repair sampling and the edit format."""

    edit_format: EditFormatName = Field(
        default="diff",
        description="Edit format the model is asked for: `diff`, `udiff` or `whole`.",
    )
    samples: int = Field(default=4, ge=1, description="Repairs per location set (1 greedy).")
    temperature: float = Field(default=0.8)
    context_margin: int = Field(default=15)
    reflections: int = Field(default=1, ge=0, description="Retries of a malformed reply.")
    reflect_temperature: float = Field(
        default=0.7,
        description="Temperature of reflections: at 0 a model tends to resend its failed reply.",
    )
    max_tokens: int = Field(
        default=4096, ge=16, description="Completion token limit of each repair reply."
    )
    prompt_token_budget: int | None = Field(
        default=None,
        description="Most prompt tokens of a repair request: code windows beyond it are left "
        "out, from the last; unset = no limit.",
    )
    feedback_candidates: int = Field(
        default=2,
        ge=0,
        description="When no candidate both breaks no test and shows the issue fixed, this "
        "many of the most promising get one more try carrying their test output (0 = none).",
    )
    feedback_temperature: float = Field(
        default=0.7,
        description="Temperature of those second tries: at 0 a small model tends to resend "
        "the code it was told is wrong.",
    )
    feedback_output_chars: int = Field(
        default=3000, ge=200, description="Test output quoted in a second try, at most."
    )


class ValidateConfig(_Frozen):
    """Sandbox and test-run settings."""

    isolation: bool = Field(default=True, description="Run tests in a network namespace.")
    timeout: float = Field(default=1800.0, description="Seconds per test command.")
    memory_mb: int = Field(default=8192, description="Memory cap for sandboxed processes.")
    max_output_bytes: int = Field(default=16 * 1024 * 1024)
    env_dir: Path | None = Field(default=None, description="Where environments are cached.")
    python: Path | None = Field(
        default=None,
        description="Interpreter for a local repository's tests (default: the one running agentless).",
    )
    regression: bool = Field(default=True)
    reproduction: bool = Field(default=True)
    reproduction_if_tests_fail: bool = Field(
        default=True,
        description="Write the reproduction script even when the task's test command fails "
        "on the original code (false: that command runs first, and its failures stand as the "
        "evidence of a fix; a model call and a run per candidate saved).",
    )
    use_bwrap: bool = Field(
        default=True, description="Use bubblewrap (read-only system view) when installed."
    )
    install_timeout: float = Field(
        default=3600.0, description="Seconds for one environment build step (pip install)."
    )
    script_timeout: float = Field(
        default=300.0,
        description="Seconds for each validation run of `run`/`batch` (reproduction script, "
        "regression tests, the task's test command); `timeout` bounds `eval` runs.",
    )


class ExercisesConfig(_Frozen):
    """The Aider-style exercise benchmark (`agentless exercises`)."""

    edit_format: str = Field(default="diff", description="`diff`, `udiff` or `whole`.")
    tries: int = Field(
        default=2, ge=1, description="Attempts per exercise; later ones see the test output."
    )
    reflections: int = Field(
        default=3, ge=0, description="Follow-ups per try for a reply whose edits do not apply."
    )
    test_timeout: float = Field(default=180.0, gt=0, description="Seconds per test run.")
    reply_tokens: int | None = Field(
        default=None, ge=16, description="Completion token limit per reply (default: the model's)."
    )
    languages: tuple[str, ...] = Field(default=(), description="Languages to run; empty = all.")
    output_chars: int = Field(
        default=6000, ge=200, description="Test output sent back to the model (head and tail kept)."
    )


class RunConfig(_Frozen):
    """Where results go and how batch work is scheduled."""

    run_dir: Path | None = Field(
        default=None,
        description="Output folder (`--out`); `agentless run` defaults to runs/<instance>.",
    )
    workers: int = Field(default=1, ge=1, description="Tasks in progress at once (`--workers`).")
    executor: str = Field(default="local", description="`local` (threads) or `ray`.")
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster to join (`auto`, `ray://host:10001`); none: start one.",
    )
    ray_cpus_per_task: float = Field(
        default=1.0, gt=0, description="CPUs Ray reserves for each task (fractions allowed)."
    )
    model_concurrency: int = Field(
        default=8, ge=1, description="Model requests in flight at once, over all tasks."
    )
    test_concurrency: int | None = Field(
        default=None, ge=1, description="Sandboxed test runs at once (default: CPU count)."
    )
    evaluate: bool = Field(
        default=True,
        description="`batch`: grade each chosen patch with the row's own tests when it has them.",
    )
    repo_url_template: str = Field(default="https://github.com/{repo}.git")
    mirrors_dir: Path | None = Field(default=None, description="Folder of local mirrors.")
    cache_dir: Path | None = Field(default=None, description="Mirrors, indexes, environments.")
    use_cache: bool = Field(default=True, description="Answer repeated model calls from the store.")


class Config(_Frozen):
    """Everything a run needs, in one frozen object."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    localize: LocalizeConfig = Field(default_factory=LocalizeConfig)
    repair: RepairConfig = Field(default_factory=RepairConfig)
    validate_: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    run: RunConfig = Field(default_factory=RunConfig)
    exercises: ExercisesConfig = Field(default_factory=ExercisesConfig)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# Named starting points under the TOML file (``--profile NAME``): each maps config sections to
# values, as a TOML file would.
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    # A small model (1-2B parameters) on a few CPU cores behind `agentless serve-local`:
    # prompt reading runs at tens of tokens per second, so every stage is kept short.
    "local": {
        "model": {
            "context_window": 8192,
            "max_tokens": 1024,
            "timeout": 900.0,
            "concurrency": 1,
        },
        "localize": {
            "top_files": 3,
            "ask_files_over": 3,
            "retrieval_top_k": 5,
            "window_samples": 1,
            "prompt_token_budget": 2500,
            "context_margin": 5,
            "max_retries": 1,
            "reply_tokens": 256,
        },
        "repair": {
            "samples": 4,
            "max_tokens": 512,
            "context_margin": 5,
            "prompt_token_budget": 3000,
            "feedback_candidates": 2,
            "feedback_output_chars": 1500,
        },
        "validate": {"script_timeout": 120.0, "reproduction_if_tests_fail": False},
    },
}


def profile_layer(name: str | None) -> dict[str, Any]:
    """The settings of profile ``name`` (``None``: none); ``ConfigError`` for unknown names."""
    if name is None:
        return {}
    return lookup(PROFILES, name, "profile")


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        elif value is not None:
            merged[key] = value
    return merged


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML config file; a syntax error names the file and line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None


def env_layer(env: Mapping[str, str], key_env: str = "OPENAI_API_KEY") -> dict[str, Any]:
    """The part of the configuration that comes from environment variables."""
    model: dict[str, Any] = {}
    if env.get("AGENTLESS_MODEL"):
        model["name"] = env["AGENTLESS_MODEL"]
    if env.get("OPENAI_BASE_URL"):
        model["base_url"] = env["OPENAI_BASE_URL"]
    if env.get(key_env):
        model["api_key"] = env[key_env]
    return {"model": model} if model else {}


def setting_layer(assignments: Sequence[str]) -> dict[str, Any]:
    """``section.field=value`` assignments (``--set``) as a layer; each is checked on its own
    so that an unknown name lists the names there are and a bad value names its field. The
    value is read as a TOML value (``3``, ``true``, ``[\"a\"]``), else taken as text."""
    layer: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set {assignment!r}: expected section.field=value")
        path = _setting_path(name.strip())
        layer = _deep_merge(layer, _setting_value(assignment, path, text))
    return layer


def _setting_path(name: str) -> list[str]:
    parts = name.split(".")
    model: type[BaseModel] = Config
    path: list[str] = []
    for i, part in enumerate(parts):
        fields = {info.alias or key: info for key, info in model.model_fields.items()}
        if part not in fields:
            where = ".".join(path) or "the configuration"
            choices = ", ".join(sorted(fields))
            raise ConfigError(f"--set {name}: {where} has no field {part!r}; choose from {choices}")
        path.append(part)
        annotation = fields[part].annotation
        last = i == len(parts) - 1
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if last:
                raise ConfigError(f"--set {name}: a section; set one of its fields ({name}.FIELD)")
            model = annotation
        elif not last:
            if not _is_mapping(annotation):
                raise ConfigError(f"--set {name}: {'.'.join(path)} is a value, not a section")
            return path + parts[i + 1 :]  # keys of a free-form table (model.extra_body.top_k)
    if path == ["model", "api_key"]:
        raise ConfigError(
            "--set model.api_key: the API key comes from the environment; set OPENAI_API_KEY "
            "(or the variable named by model.api_key_env)"
        )
    return path


def _is_mapping(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is dict


def _setting_value(assignment: str, path: list[str], text: str) -> dict[str, Any]:
    readings: list[Any] = []
    with contextlib.suppress(tomllib.TOMLDecodeError):
        readings.append(tomllib.loads(f"v = {text}")["v"])
    readings.append(text)
    problem = ""
    for value in readings:
        layer: dict[str, Any] = {path[-1]: value}
        for part in reversed(path[:-1]):
            layer = {part: layer}
        try:
            Config.model_validate(layer)
        except PydanticValidationError as exc:
            problem = problem or "; ".join(error["msg"] for error in exc.errors())
            continue
        return layer
    raise ConfigError(f"--set {assignment}: {problem}")


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    profile: str | None = None,
    settings: Sequence[str] = (),
) -> Config:
    """Assemble a ``Config`` from defaults, a profile, a TOML file, the environment and
    overrides.

    ``path=None`` reads ``agentless.toml`` from the working directory when it exists.
    ``overrides`` is a nested mapping (``{"model": {"name": "m"}}``); ``None`` values are
    ignored so unset CLI flags do not mask lower layers. ``settings`` are ``--set``
    assignments (``section.field=value``), applied last.
    """
    env = os.environ if env is None else env
    overrides = _deep_merge(dict(overrides or {}), setting_layer(settings))
    layers: dict[str, Any] = {}
    if path is not None:
        layers = read_toml(path)
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        layers = read_toml(Path(DEFAULT_CONFIG_FILE))
    if "api_key" in layers.get("model", {}):
        raise ConfigError(
            "do not put the API key in the config file; set OPENAI_API_KEY "
            "(or the variable named by model.api_key_env) in the environment"
        )
    key_env = str(
        (overrides or {}).get("model", {}).get("api_key_env")
        or layers.get("model", {}).get("api_key_env")
        or "OPENAI_API_KEY"
    )
    layers = _deep_merge(profile_layer(profile), layers)
    layers = _deep_merge(layers, env_layer(env, key_env))
    layers = _deep_merge(layers, overrides or {})
    try:
        return Config.model_validate(layers)
    except PydanticValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from None
