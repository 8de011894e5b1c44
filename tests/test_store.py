"""The run store: migrations, recording, the response cache across threads and processes."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from agentless.config import Price
from agentless.errors import ModelRequestError, ModelUnavailableError, StoreError
from agentless.model import CallRecorder, OpenAICompatibleModel
from agentless.store import MIGRATIONS, Migration, Store
from agentless.testing import Fault, ScriptedServer

MESSAGES = [{"role": "user", "content": "why does test_parse fail?"}]


def test_new_store_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    with Store.for_run(tmp_path / "run") as store:
        assert store.path == tmp_path / "run" / "store.db"
        assert store.schema_version == len(MIGRATIONS)
        mode = store.connect().execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        assert isinstance(store, CallRecorder)
    # Reopening applies nothing twice.
    with Store.for_run(tmp_path / "run") as store:
        names = [r[0] for r in store.connect().execute("SELECT name FROM schema_version")]
        assert names == [m.name for m in MIGRATIONS]


def test_appended_migration_is_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(path).close()
    extra = Migration("9999_widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY, note TEXT);")
    with Store(path, [*MIGRATIONS, extra]) as store:
        assert store.schema_version == len(MIGRATIONS) + 1
        store.connect().execute("INSERT INTO widgets (note) VALUES ('a; b')")
    with Store(path, [*MIGRATIONS, extra]) as store:
        assert store.schema_version == len(MIGRATIONS) + 1


def test_unknown_or_reordered_history_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    extra = Migration("9999_widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY);")
    Store(path, [*MIGRATIONS, extra]).close()
    with pytest.raises(StoreError, match="upgrade agentless"):
        Store(path)
    renamed = [Migration("0001_other", "SELECT 1;"), *MIGRATIONS[1:], extra]
    with pytest.raises(StoreError, match="migrated differently"):
        Store(path, renamed)


def test_failed_migration_leaves_nothing_half_done(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    broken = Migration("9999_broken", "CREATE TABLE ok_table (x);\nCREATE TABLE (;")
    with pytest.raises(StoreError, match="9999_broken"):
        Store(path, [*MIGRATIONS, broken])
    # All pending migrations run in one transaction: none of them stuck.
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "ok_table" not in tables
    assert "model_calls" not in tables
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS)


def test_calls_are_recorded_with_usage_stage_and_errors(tmp_path: Path) -> None:
    price = Price(prompt=1.0, completion=2.0)
    with Store.for_run(tmp_path) as store, ScriptedServer(default="one two") as srv:
        model = OpenAICompatibleModel(
            "m", srv.url, recorder=store, prices={"m": price}, backoff_base=0.001, max_attempts=2
        )
        model.complete(MESSAGES, n=2, stage="repair")
        model.complete([{"role": "user", "content": "where is it"}], stage="localize")
        srv.inject(Fault.http(503), times=None)
        with pytest.raises(ModelUnavailableError):
            model.complete([{"role": "user", "content": "fails"}], stage="localize")
        calls = store.calls()
        assert [c.stage for c in calls] == ["repair", "localize", "localize"]
        first = calls[0]
        assert first.request["messages"] == MESSAGES
        assert first.request["n"] == 2
        assert [c.text for c in first.completions] == ["one two", "one two"]
        assert first.usage.prompt_tokens == 4
        assert first.usage.completion_tokens == 4
        assert first.usage.cost == pytest.approx((4 * 1.0 + 4 * 2.0) / 1e6)
        assert first.status == 200 and first.error == ""
        failed = calls[2]
        assert failed.status == 503
        assert "HTTP 503" in failed.error
        assert failed.completions == []
        by_stage = store.usage_by_stage()
        assert by_stage["repair"].calls == 1
        assert by_stage["localize"].calls == 2
        assert by_stage["localize"].retries == 1
        assert store.total_usage().prompt_tokens == 4 + 3 + 0


def test_unknown_price_stays_unknown_in_sums(tmp_path: Path) -> None:
    with Store.for_run(tmp_path) as store, ScriptedServer() as srv:
        OpenAICompatibleModel("m", srv.url, recorder=store).complete(MESSAGES, stage="s")
        assert store.usage_by_stage()["s"].cost is None
        assert store.total_usage().cost is None


def test_cache_answers_repeats_and_tops_up_missing_samples(tmp_path: Path) -> None:
    with Store.for_run(tmp_path) as store, ScriptedServer() as srv:
        srv.on("test_parse", *[f"reply {i}" for i in range(10)])
        model = OpenAICompatibleModel("m", srv.url, recorder=store)
        first = model.complete(MESSAGES, n=3, temperature=0.8)
        again = model.complete(MESSAGES, n=3, temperature=0.8)
        assert [c.text for c in again] == [c.text for c in first]
        assert all(c.cached for c in again) and not any(c.cached for c in first)
        assert len(srv.chat_requests) == 1
        # Two more samples: only the missing ones are requested.
        more = model.complete(MESSAGES, n=5, temperature=0.8)
        assert [c.text for c in more[:3]] == [c.text for c in first]
        assert srv.chat_requests[-1].n == 2
        assert len({c.text for c in more}) == 5
        # A different temperature is a different request.
        model.complete(MESSAGES, n=1, temperature=0.2)
        assert len(srv.chat_requests) == 3
        # use_cache=False records but does not read.
        fresh = OpenAICompatibleModel("m", srv.url, recorder=store, use_cache=False)
        fresh.complete(MESSAGES, n=1, temperature=0.8)
        assert len(srv.chat_requests) == 4


def test_threads_share_one_store(tmp_path: Path) -> None:
    with Store.for_run(tmp_path) as store, ScriptedServer() as srv:
        model = OpenAICompatibleModel("m", srv.url, recorder=store)
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            try:
                for i in range(5):
                    model.complete([{"role": "user", "content": f"w{worker} q{i}"}], stage="t")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(store.calls("t")) == 30


def test_meta_round_trip(tmp_path: Path) -> None:
    with Store.for_run(tmp_path) as store:
        assert store.get_meta("config", {}) == {}
        store.set_meta("config", {"model": "m", "n": 4})
        store.set_meta("config", {"model": "m", "n": 5})
        assert store.get_meta("config") == {"model": "m", "n": 5}


def test_closed_store_refuses_use(tmp_path: Path) -> None:
    store = Store.for_run(tmp_path)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.calls()


def test_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="run directory"):
        Store.for_run(blocker / "run")


WORKER = textwrap.dedent(
    """
    import json, sys
    from agentless.model import OpenAICompatibleModel
    from agentless.store import Store

    url, run_dir, count, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    store = Store.for_run(run_dir)
    model = OpenAICompatibleModel("m", url, recorder=store)
    for i in range(count):
        msgs = [{"role": "user", "content": f"question {i}"}]
        texts = [c.text for c in model.complete(msgs, n=2, temperature=0.8, stage="s")]
        print(json.dumps([i, texts]), flush=True)
        if pause:
            sys.stdin.readline()  # wait here, between calls, until killed or released
    """
)


def test_killed_run_is_resumed_from_the_cache(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    run_dir = tmp_path / "run"
    with ScriptedServer() as srv:
        srv.on("question", *[f"answer {i}" for i in range(100)])
        argv = [sys.executable, str(script), srv.url, str(run_dir)]
        # First process: two calls, then SIGKILL while it waits between calls.
        proc = subprocess.Popen(
            [*argv, "4", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdin is not None
        killed_run = [json.loads(proc.stdout.readline())]
        proc.stdin.write("\n")
        proc.stdin.flush()
        killed_run.append(json.loads(proc.stdout.readline()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert len(srv.chat_requests) == 2

        # Second process: the same four requests; only the two new ones reach the server.
        rerun = subprocess.run([*argv, "4", "0"], capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        lines = [json.loads(line) for line in rerun.stdout.splitlines()]
        assert lines[:2] == killed_run
        prompts = [r.messages[0]["content"] for r in srv.chat_requests]
        assert prompts == [f"question {i}" for i in range(4)]

        # Third process: everything from the cache, same replies, no request at all.
        again = subprocess.run([*argv, "4", "0"], capture_output=True, text=True, timeout=60)
        assert [json.loads(line) for line in again.stdout.splitlines()] == lines
        assert len(srv.chat_requests) == 4


def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER.replace('f"question {i}"', 'f"question {i} from {sys.argv[5]}"'))
    run_dir = tmp_path / "run"
    with ScriptedServer(latency=0.01) as srv:
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), srv.url, str(run_dir), "15", "0", name],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("a", "b")
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    conn = sqlite3.connect(run_dir / "store.db")
    assert conn.execute("SELECT COUNT(*) FROM model_calls").fetchone()[0] == 30
    assert conn.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0] == 60
    conn.close()


def test_refusal_after_a_retry_is_recorded_with_its_attempts(tmp_path: Path) -> None:
    with Store.for_run(tmp_path) as store, ScriptedServer() as srv:
        model = OpenAICompatibleModel("m", srv.url, recorder=store, backoff_base=0.001)
        srv.inject(Fault.http(503)).inject(Fault.http(400, message="bad stop sequence"))
        with pytest.raises(ModelRequestError, match="bad stop sequence") as info:
            model.complete(MESSAGES, stage="s")
        assert info.value.attempts == 2
        [call] = store.calls("s")
        assert call.status == 400 and call.usage.retries == 1
        assert "bad stop sequence" in call.error


def _open_fds_to(path: Path) -> int:
    """Open files of this process on ``path`` and its ``-wal``/``-shm`` companions (other
    tests' stores, in other folders, have the same file names)."""
    own = {path.resolve(), *(path.resolve().with_name(path.name + s) for s in ("-wal", "-shm"))}
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.resolve()
        except OSError:
            continue
        if target in own:
            count += 1
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_short_lived_threads_do_not_leak_connections(tmp_path: Path) -> None:
    # The model's n fallback writes from a fresh thread pool per call: a long run sees
    # thousands of threads, and their connections (three files each in WAL mode) must not pile up.
    with Store(tmp_path / "store.db") as store:
        for i in range(40):
            worker = threading.Thread(target=store.set_meta, args=(f"k{i}", i))
            worker.start()
            worker.join()
        assert store.get_meta("k39") == 39
        # Open: this thread's connection and the last worker's (each finished thread's is
        # closed when the next thread connects), three files each.
        assert _open_fds_to(store.path) == 2 * 3
    assert _open_fds_to(tmp_path / "store.db") == 0


def test_a_store_that_fails_to_open_leaves_no_file_open(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    extra = Migration("9999_widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY);")
    Store(path, [*MIGRATIONS, extra]).close()
    with pytest.raises(StoreError, match="upgrade agentless") as failure:
        Store(path)
    # The traceback (kept here, as a caller may keep it) holds the half-made store.
    assert failure.value is not None
    assert _open_fds_to(path) == 0


def test_write_errors_are_store_errors(tmp_path: Path) -> None:
    # A store whose table was dropped behind its back (another tool, a damaged file).
    with Store(tmp_path / "store.db") as store:
        raw = sqlite3.connect(store.path)
        raw.execute("DROP TABLE task_results")
        raw.close()
        with pytest.raises(StoreError, match="task_results"):
            store.save_result("a__b-1", "", {})
        # The failed transaction was rolled back: the store is still usable.
        store.set_meta("after", 1)
        assert store.get_meta("after") == 1
