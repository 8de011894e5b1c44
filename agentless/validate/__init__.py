"""Validation: sandboxed test runs, cached environments, log parsing, SWE-bench grading.

Main entry points:

- ``check(plan, patches)`` is the one way patches are validated, by ``run`` and ``eval``
  alike: a frozen ``PatchVerdict`` per patch, from the plan's checks (test command or
  regression tests, reproduction script, each against the original code; with ``grading``,
  SWE-bench's tests graded as SWE-bench grades them).
- ``Sandbox`` runs a command without network (loopback only) on a read-only system, bounded in
  time/memory/output, and never outliving agentless. Whatever takes a sandbox takes any
  ``SandboxProtocol`` (``run`` and ``isolation``): a sandbox of your own can replace it.
- ``EnvironmentManager`` builds a virtualenv per (repository, environment key, Python) once,
  and per task ``installed(...)`` an ``InstalledTree``: the repository at the task's commit,
  installed in a layer over it.
- ``parse_eval_script`` reads a v5 row's install, exports, reset files and test command.
- ``get_parser(name)`` returns a pure ``log -> {test id: status}`` function.
- ``grade_log`` grades a marked test log as SWE-bench does; ``Evaluator.evaluate`` grades
  one instance through ``check`` (the runner schedules it over a dataset for ``agentless
  eval``).
- ``run_regression`` / ``run_reproduction`` are the validators one patch at a time.
- ``run_captured``, ``guarded``, ``build_environment``, ``stop_all`` and ``clear_stop`` are the
  process-tree controls every sandboxed or install command goes through.

``PARSERS`` maps a log parser's name to it. The modules behind these names are private.
"""

from agentless.validate._candidates import (
    GradedRun,
    Grading,
    PatchVerdict,
    ValidationPlan,
    check,
    user_test_command,
)
from agentless.validate._environments import (
    Environment,
    EnvironmentManager,
    EnvSpec,
    InstalledTree,
    default_env_dir,
)
from agentless.validate._evalscript import EvalScript, parse_eval_script
from agentless.validate._evaluate import (
    Evaluator,
    InstanceResult,
    Predictions,
    earlier_result,
    installed_task,
    load_predictions,
    patch_digest,
    read_result,
    run_summary,
    verdict_complete,
    warn_unmatched,
)
from agentless.validate._grading import Grade, grade_log, instance_report, status_report
from agentless.validate._parsers import PARSERS, TestStatus, get_parser
from agentless.validate._patching import ApplyResult, apply_patch
from agentless.validate._procs import build_environment, clear_stop, guarded, run_captured, stop_all
from agentless.validate._recipes import Edit, Recipe, auto_recipe, recipe_for
from agentless.validate._sandbox import (
    Fixture,
    Sandbox,
    SandboxProtocol,
    SandboxResult,
    sweep_scratch,
)
from agentless.validate._testrun import TestCommand, TestRun, command_for_task, run_tests
from agentless.validate._validators import (
    RegressionResult,
    ReproductionResult,
    ScriptRun,
    SuiteRun,
    check_reproduction,
    find_regression_tests,
    run_regression,
    run_reproduction,
    run_test_files,
)

__all__ = [
    "PARSERS",
    "ApplyResult",
    "Edit",
    "EnvSpec",
    "Environment",
    "EnvironmentManager",
    "EvalScript",
    "Evaluator",
    "Fixture",
    "Grade",
    "GradedRun",
    "Grading",
    "InstalledTree",
    "InstanceResult",
    "PatchVerdict",
    "Predictions",
    "Recipe",
    "RegressionResult",
    "ReproductionResult",
    "Sandbox",
    "SandboxProtocol",
    "SandboxResult",
    "ScriptRun",
    "SuiteRun",
    "TestCommand",
    "TestRun",
    "TestStatus",
    "ValidationPlan",
    "apply_patch",
    "auto_recipe",
    "build_environment",
    "check",
    "check_reproduction",
    "clear_stop",
    "command_for_task",
    "default_env_dir",
    "earlier_result",
    "find_regression_tests",
    "get_parser",
    "grade_log",
    "guarded",
    "installed_task",
    "instance_report",
    "load_predictions",
    "parse_eval_script",
    "patch_digest",
    "read_result",
    "recipe_for",
    "run_captured",
    "run_regression",
    "run_reproduction",
    "run_summary",
    "run_test_files",
    "run_tests",
    "status_report",
    "stop_all",
    "sweep_scratch",
    "user_test_command",
    "verdict_complete",
    "warn_unmatched",
]
