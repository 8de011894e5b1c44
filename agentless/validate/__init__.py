"""Validation: sandboxed test runs, cached environments, log parsing, SWE-bench grading.

Main entry points:

- ``Sandbox`` runs a command without network (loopback only) on a read-only system, bounded in
  time/memory/output, and never outliving agentless.
- ``EnvironmentManager`` builds a virtualenv per (repository, environment key, Python) once,
  and per task ``installed(...)`` an ``InstalledTree``: the repository at the task's commit,
  installed in a layer over it.
- ``parse_eval_script`` reads a v5 row's install, exports, reset files and test command.
- ``get_parser(name)`` returns a pure ``log -> {test id: status}`` function.
- ``grade_log`` grades a marked test log as SWE-bench does; ``Evaluator.evaluate`` grades
  one instance (the runner schedules it over a dataset for ``agentless eval``).
- ``run_regression`` / ``run_reproduction`` are the pipeline's patch validators.
"""

from agentless.validate.environments import (
    Environment,
    EnvironmentManager,
    EnvSpec,
    InstalledTree,
    default_env_dir,
)
from agentless.validate.evalscript import EvalScript, parse_eval_script
from agentless.validate.grading import Grade, grade_log, instance_report, status_report
from agentless.validate.parsers import PARSERS, TestStatus, get_parser
from agentless.validate.patching import ApplyResult, apply_patch
from agentless.validate.recipes import Edit, Recipe, auto_recipe, recipe_for
from agentless.validate.sandbox import Fixture, Sandbox, SandboxResult
from agentless.validate.testrun import TestCommand, TestRun, command_for_task, run_tests
from agentless.validate.validators import (
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
    "Fixture",
    "Grade",
    "InstalledTree",
    "Recipe",
    "RegressionResult",
    "ReproductionResult",
    "Sandbox",
    "SandboxResult",
    "ScriptRun",
    "SuiteRun",
    "TestCommand",
    "TestRun",
    "TestStatus",
    "apply_patch",
    "auto_recipe",
    "check_reproduction",
    "command_for_task",
    "default_env_dir",
    "find_regression_tests",
    "get_parser",
    "grade_log",
    "instance_report",
    "parse_eval_script",
    "recipe_for",
    "run_regression",
    "run_reproduction",
    "run_test_files",
    "run_tests",
    "status_report",
]
