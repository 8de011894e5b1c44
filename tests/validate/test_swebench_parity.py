"""Our log parsers, verdicts, ``report.json`` and run summary against swebench 5.0.2's own pure
functions (``PARSER_REGISTRY``, ``get_logs_eval``, ``get_eval_report``, ``make_run_report``),
on every stored log: the recorded fixtures, logs made from them in every shape a run can
leave (passing, failing, crashed, unreliable exit code, timed out), and, when
``AGENTLESS_EVAL_LOGS`` names ``agentless eval`` output folders (``:``-separated) and
``AGENTLESS_EVAL_DATASET`` their dataset, every log kept from those runs. No Docker is used.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

if importlib.util.find_spec("swebench") is None:
    pytest.skip("swebench 5.0.2 (the dev extra) is not installed", allow_module_level=True)

from agentless.tasks import Task, load_tasks
from agentless.validate import (
    InstanceResult,
    Predictions,
    TestCommand,
    TestRun,
    get_parser,
    grade_log,
    instance_report,
    run_summary,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "validate"
# swebench's names for the Python repositories' parsers (a test below checks it has each).
PYTHON_PARSERS = sorted(
    f"parse_log_{name}"
    for name in (
        "pytest", "pytest_options", "pytest_v2", "django", "sympy", "seaborn", "matplotlib",
        "astroid", "flask", "marshmallow", "pvlib", "pyvista", "sqlfluff", "xarray", "pydicom",
        "requests", "pylint", "astropy", "scikit", "sphinx",
    )
)  # fmt: skip


@functools.cache
def sb() -> SimpleNamespace:
    """swebench's functions, imported on first use: its package imports the Docker, Modal and
    datasets clients (4 s), which would be paid at collection by every xdist worker."""
    from swebench import types
    from swebench.harness.grading import get_eval_report, get_logs_eval
    from swebench.harness.log_parsers import PARSER_REGISTRY
    from swebench.harness.reporting import make_run_report

    return SimpleNamespace(
        TestSpec=types.TestSpec,
        get_eval_report=get_eval_report,
        get_logs_eval=get_logs_eval,
        PARSER_REGISTRY=PARSER_REGISTRY,
        make_run_report=make_run_report,
    )


def test_swebench_has_every_python_parser_we_compare() -> None:
    assert set(PYTHON_PARSERS) <= set(sb().PARSER_REGISTRY)


def _spec(parser: str, f2p: list[str], p2p: list[str], iid: str = "o__r-1") -> Any:
    return sb().TestSpec(
        instance_id=iid,
        image="",
        eval_script_list=[],
        repo="o/r",
        version="1",
        FAIL_TO_PASS=f2p,
        PASS_TO_PASS=p2p,
        log_parser=parser,
        eval_type="pass_and_fail",
    )


def _fixture_outputs() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.log"))}


def _marked_logs() -> dict[str, str]:
    """Every fixture output as a run would leave it, in each shape."""
    logs: dict[str, str] = {}
    for name, output in _fixture_outputs().items():
        for exit_code in (0, 1, 139, None):
            run = TestRun(TestCommand(("pytest", "-rA")), exit_code, exit_code is None, output, 1)
            logs[f"{name}:exit={exit_code}"] = run.log
        logs[f"{name}:no-markers"] = output
    logs["empty"] = TestRun(TestCommand(("pytest",)), 4, False, "ImportError: x\n", 1).log
    logs["oom"] = TestRun(TestCommand(("pytest",)), 137, False, "Killed\n", 1).log
    logs["missing"] = TestRun(
        TestCommand(("pytest",)), 2, False, "ModuleNotFoundError: No module named 'x'\n", 1
    ).log
    return logs


@pytest.mark.parametrize("parser", PYTHON_PARSERS)
def test_parsers_give_swebench_status_maps_on_every_fixture(parser: str) -> None:
    theirs = sb().PARSER_REGISTRY[parser]
    ours = get_parser(parser)
    for name, output in _fixture_outputs().items():
        spec = _spec(parser, [], [])
        assert ours(output) == theirs(output, spec), f"{parser} on {name}"


def _lists(statuses: dict[str, str]) -> tuple[list[str], list[str]]:
    """FAIL_TO_PASS / PASS_TO_PASS made from a status map: every id, one absent id, and one
    id truncated inside its parameters (as 676 Verified ids are)."""
    ids = sorted(statuses)
    f2p = [*ids[::2], "never_ran.py::test_absent"]
    p2p = ids[1::2]
    cut = next((i for i in ids if "[" in i), None)
    if cut is not None:
        p2p.append(cut[: cut.index("[") + 2])
    return f2p, p2p


def _their_report(spec: Any, patch: str | None, log_path: Path) -> dict[str, Any]:
    prediction = {"instance_id": spec.instance_id, "model_patch": patch, "model_name_or_path": "m"}
    return sb().get_eval_report(spec, prediction, str(log_path), include_tests_status=True)


@pytest.mark.parametrize("parser", ["parse_log_pytest", "parse_log_pytest_v2", "parse_log_django",
                                    "parse_log_sympy", "parse_log_requests"])  # fmt: skip
def test_verdicts_and_reports_equal_swebench_on_every_log_shape(
    parser: str, tmp_path: Path
) -> None:
    for name, log in _marked_logs().items():
        statuses = get_parser(parser)(log)
        f2p, p2p = _lists(statuses)
        for lists in ((f2p, p2p), (f2p[:-1], p2p), ([], [])):
            spec = _spec(parser, *lists)
            path = tmp_path / "test_output.txt"
            path.write_text(log, encoding="utf-8")
            their_map, found = sb().get_logs_eval(spec, str(path))
            grade = grade_log(log, parser, *lists)
            assert grade.graded == found, f"{name}: {grade.problem}"
            if found:
                assert grade.statuses == their_map, name
            ours = instance_report(spec.instance_id, patch="diff", grade=grade)
            assert ours == _their_report(spec, "diff", path), name
    none = instance_report("o__r-1", patch=None, grade=None)
    assert none == _their_report(_spec(parser, [], []), None, tmp_path / "test_output.txt")


# --- logs kept from dev-set runs ---------------------------------------------------------------


def _stored_runs() -> list[Path]:
    folders = [Path(p) for p in os.environ.get("AGENTLESS_EVAL_LOGS", "").split(":") if p]
    return [folder for folder in folders if (folder / "summary.json").is_file()]


STORED = pytest.mark.skipif(
    not _stored_runs() or not os.environ.get("AGENTLESS_EVAL_DATASET"),
    reason="set AGENTLESS_EVAL_LOGS (eval output folders) and AGENTLESS_EVAL_DATASET",
)


def _rows() -> dict[str, Task]:
    return {task.instance_id: task for task in load_tasks(os.environ["AGENTLESS_EVAL_DATASET"])}


@STORED
def test_every_stored_log_gets_swebench_report() -> None:
    rows = _rows()
    compared = 0
    for run in _stored_runs():
        for report_path in sorted(run.glob("*/report.json")):
            iid = report_path.parent.name
            task = rows[iid]
            log = report_path.parent / "test_output.txt"
            spec = _spec(task.log_parser, task.fail_to_pass, task.pass_to_pass, iid)
            patch = (report_path.parent / "patch.diff").read_text(encoding="utf-8")
            theirs = _their_report(spec, patch, log)
            assert json.loads(report_path.read_text()) == theirs, f"{run}: {iid}"
            compared += 1
    assert compared > 0


@STORED
def test_every_stored_run_summary_equals_make_run_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    rows = _rows()
    monkeypatch.chdir(tmp_path)
    for number, run in enumerate(_stored_runs()):
        ours = json.loads((run / "summary.json").read_text())
        results = _results(run)
        predictions, dataset = _predictions_and_dataset(run, rows, results)
        # Lay our files out where swebench looks for them.
        for iid in results:
            target = tmp_path / "logs" / "run_evaluation" / f"r{number}" / "m" / iid
            target.mkdir(parents=True)
            for name in ("report.json", "test_output.txt", "run_instance.log"):
                if (run / iid / name).is_file():
                    (target / name).write_bytes((run / iid / name).read_bytes())
        written = sb().make_run_report(predictions, dataset, f"r{number}", None, str(tmp_path))
        theirs = json.loads(Path(written).read_text())
        shared = {key: theirs[key] for key in theirs}
        assert {key: ours[key] for key in shared} == shared, run


def _results(run: Path) -> dict[str, InstanceResult]:
    results = {}
    for path in sorted(run.glob("*/result.json")):
        data = json.loads(path.read_text())
        results[data["instance_id"]] = InstanceResult(**data)
    return results


def _predictions_and_dataset(
    run: Path, rows: dict[str, Task], results: dict[str, InstanceResult]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    summary = json.loads((run / "summary.json").read_text())
    submitted = summary["submitted_ids"]
    predictions = {}
    for iid in submitted:
        patch_file = run / iid / "patch.diff"
        patch = patch_file.read_text(encoding="utf-8") if patch_file.is_file() else ""
        predictions[iid] = {"instance_id": iid, "model_patch": patch, "model_name_or_path": "m"}
    in_run = set(submitted) | set(summary["incomplete_ids"])
    dataset = [{"instance_id": iid} for iid in rows if iid in in_run]
    return predictions, dataset


def test_summary_fields_equal_make_run_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    cases = {
        "a-1": ("resolved", True),
        "a-2": ("unresolved", True),
        "a-3": ("unresolved", True),  # an ungradable log: still a report
        "a-4": ("empty_patch", False),
        "a-5": ("error", False),
        "a-6": ("infrastructure_failure", False),
    }
    results = []
    for iid, (outcome, reported) in cases.items():
        folder = out / iid
        folder.mkdir(parents=True)
        logs = {"a-3": "Killed\n", "a-5": "ModuleNotFoundError: x\n"}
        (folder / "test_output.txt").write_text(logs.get(iid, "ok\n"))
        (folder / "run_instance.log").write_text("")
        if reported:
            report = {iid: {"resolved": outcome == "resolved"}}
            (folder / "report.json").write_text(json.dumps(report))
            target = tmp_path / "logs" / "run_evaluation" / "r" / "m" / iid
            target.mkdir(parents=True)
            (target / "report.json").write_text(json.dumps(report))
        target = tmp_path / "logs" / "run_evaluation" / "r" / "m" / iid
        target.mkdir(parents=True, exist_ok=True)
        (target / "test_output.txt").write_text(logs.get(iid, "ok\n"))
        results.append(InstanceResult(iid, outcome))  # type: ignore[arg-type]
    patches = {iid: ("" if iid == "a-4" else "diff") for iid in cases}
    patches["zz-unknown"] = "diff"
    tasks = [Task(instance_id=iid, repo="o/r", problem_statement="x") for iid in [*cases, "a-7"]]
    ours = run_summary(
        results,
        [t.instance_id for t in tasks],
        Predictions(patches, ("zz-unknown",), ("a-7",)),
        out,
    )
    predictions = {
        iid: {"instance_id": iid, "model_patch": patch, "model_name_or_path": "m"}
        for iid, patch in patches.items()
    }
    dataset = [{"instance_id": task.instance_id} for task in tasks]
    theirs = json.loads(
        Path(sb().make_run_report(predictions, dataset, "r", None, ".")).read_text()
    )
    assert {key: ours[key] for key in theirs} == theirs
    assert ours["environment_failure_ids"] == ["a-6"] and ours["unknown_ids"] == ["zz-unknown"]
