"""Task loading from SWE-bench rows, exercise folders and local repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from swebench_rows import DEV_DIR

from agentless.errors import TaskError
from agentless.tasks import load_tasks, local_task, select_instances

SHARED = DEV_DIR
LITE = SHARED / "lite_dev.jsonl"


def row(**extra: object) -> dict[str, object]:
    base = {
        "instance_id": "o__r-1",
        "repo": "o/r",
        "base_commit": "abc",
        "problem_statement": "it breaks",
        "FAIL_TO_PASS": '["t.py::test_a"]',
        "PASS_TO_PASS": "[]",
        "version": 2.2,
    }
    return {**base, **extra}


def test_jsonl_rows_decode_test_lists(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row()) + "\n\n" + json.dumps(row(instance_id="o__r-2")) + "\n")
    tasks = load_tasks(path)
    assert [t.instance_id for t in tasks] == ["o__r-1", "o__r-2"]
    assert tasks[0].fail_to_pass == ["t.py::test_a"]
    assert tasks[0].pass_to_pass == []
    assert tasks[0].version == "2.2"


def test_json_single_object_and_list(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(row()))
    many = tmp_path / "many.json"
    many.write_text(json.dumps([row(), row(instance_id="x")]))
    assert len(load_tasks(one)) == 1
    assert len(load_tasks(many)) == 2


def test_parquet_rows_are_read_with_the_parquet_extra(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the parquet extra) is absent")
    import pyarrow

    path = tmp_path / "d.parquet"
    rows = [row(), row(instance_id="o__r-2", version=3.1)]
    pq.write_table(pyarrow.Table.from_pylist(rows), path)
    tasks = load_tasks(path)
    assert [(t.instance_id, t.version) for t in tasks] == [("o__r-1", "2.2"), ("o__r-2", "3.1")]
    assert tasks[1].fail_to_pass == ["t.py::test_a"]


def test_bad_rows_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"instance_id": "a__b-1", "repo": "a/b"}\n')
    with pytest.raises(TaskError, match=r"a__b-1.*problem_statement"):
        load_tasks(path)
    path.write_text("{not json\n")
    with pytest.raises(TaskError, match=r"d\.jsonl:1"):
        load_tasks(path)
    with pytest.raises(TaskError, match="not found"):
        load_tasks(tmp_path / "missing.jsonl")
    with pytest.raises(TaskError, match=r"\.csv"):
        (tmp_path / "x.csv").write_text("")
        load_tasks(tmp_path / "x.csv")
    good = '{"instance_id": "a__b-1", "repo": "a/b", "problem_statement": "p"}\n'
    path.write_bytes(good.encode() + b'{"instance_id": "caf\xe9"}\n')
    with pytest.raises(TaskError, match=r"d\.jsonl:2: not UTF-8 \(byte 20\)"):
        load_tasks(path)
    (tmp_path / "d.json").write_bytes(b'[{"instance_id": "caf\xe9"}]')
    with pytest.raises(TaskError, match=r"d\.json: not UTF-8"):
        load_tasks(tmp_path / "d.json")


def test_select_instances_keeps_order_and_rejects_unknown(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(row(instance_id=i)) for i in ("a", "b", "c")))
    tasks = load_tasks(path)
    assert [t.instance_id for t in select_instances(tasks, ["c", "a"])] == ["a", "c"]
    with pytest.raises(TaskError, match="zz"):
        select_instances(tasks, ["zz"])


def test_exercise_folder(tmp_path: Path) -> None:
    ex = tmp_path / "practice" / "two-fer"
    (ex / ".meta").mkdir(parents=True)
    (ex / ".docs").mkdir()
    (ex / ".docs" / "instructions.md").write_text("Say two-fer.")
    (ex / ".docs" / "instructions.append.md").write_text("Then say it again.")
    files = {"solution": ["two_fer.py", "helpers.py"], "test": ["two_fer_test.py"]}
    (ex / ".meta" / "config.json").write_text(json.dumps({"files": files}))
    for name in (*files["solution"], *files["test"]):
        (ex / name).write_text("")
    tasks = load_tasks(tmp_path)
    assert len(tasks) == 1
    task = tasks[0]
    # The benchmark's reader: the id names the language, every file of a role is kept.
    assert task.instance_id == "python__two-fer"
    assert task.kind == "exercise"
    assert task.files["solution"] == ["two_fer.py", "helpers.py"]
    assert task.test_cmd == "python -m pytest -q two_fer_test.py"
    assert task.problem_statement == "Say two-fer.\n\nThen say it again."
    assert ".meta" in task.hidden
    assert load_tasks(ex) == tasks  # one exercise folder, or a folder of them
    (ex / ".docs" / "instructions.append.md").write_bytes(b"Then say caf\xe9.")  # Latin-1
    [task] = load_tasks(ex)
    assert task.problem_statement == "Say two-fer.\n\nThen say caf\ufffd."


def test_a_broken_exercise_folder_says_what_is_missing(tmp_path: Path) -> None:
    ex = tmp_path / "two-fer"
    (ex / ".meta").mkdir(parents=True)
    (ex / ".docs").mkdir()
    (ex / ".docs" / "instructions.md").write_text("Say two-fer.")
    (ex / ".meta" / "config.json").write_text(
        json.dumps({"files": {"solution": ["two_fer.py"], "test": ["two_fer_test.py"]}})
    )
    with pytest.raises(TaskError, match=r"two_fer\.py .*is missing"):
        load_tasks(tmp_path)


def test_local_task_reads_issue_file_or_text(tmp_path: Path) -> None:
    issue = tmp_path / "issue.md"
    issue.write_text("Crash on empty input")
    assert local_task(tmp_path, str(issue)).problem_statement == "Crash on empty input"
    assert local_task(tmp_path, "inline text").problem_statement == "inline text"
    with pytest.raises(TaskError, match="empty"):
        local_task(tmp_path, "  ")


def test_an_issue_file_that_is_not_utf8_is_read_with_replacement_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    issue = tmp_path / "issue.txt"
    issue.write_bytes(b"median() is wrong for caf\xe9 lists\n")  # Latin-1
    text = local_task(tmp_path, str(issue)).problem_statement
    assert text == "median() is wrong for caf\ufffd lists\n"
    assert "is not UTF-8 (byte 25)" in caplog.text


@pytest.mark.skipif(not LITE.exists(), reason="../shared/data/swebench/lite_dev.jsonl not present")
def test_real_swebench_rows() -> None:
    tasks = load_tasks(LITE)
    assert len(tasks) == 23
    for task in tasks:
        assert task.base_commit and task.patch and task.test_patch
        assert task.fail_to_pass, task.instance_id
        assert task.eval_script and task.log_parser.startswith("parse_log_")


@pytest.mark.parametrize("bad", ["../escape", "a/b", "..", "", "a\\b"])
def test_instance_ids_that_would_name_another_folder_are_refused(tmp_path: Path, bad: str) -> None:
    # Result folders are named after instance ids (<out>/<instance_id>/report.json).
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(row(instance_id=bad)) + "\n")
    with pytest.raises(TaskError, match="instance_id"):
        load_tasks(path)


def test_exercise_with_a_broken_config_is_a_task_error(tmp_path: Path) -> None:
    (tmp_path / "ex" / ".meta").mkdir(parents=True)
    (tmp_path / "ex" / ".meta" / "config.json").write_text("{not json")
    with pytest.raises(TaskError, match=r"config\.json"):
        load_tasks(tmp_path)
