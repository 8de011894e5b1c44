"""The run store: one SQLite file (``RUN_DIR/store.db``) that keeps everything a run produces.

Every model call is written as it happens (request without credentials, reply, usage,
latency, error, stage), and its completions go into a response cache keyed by a hash of the
request and the sample index, so a re-run asks the server only for what it has not answered
before. The store satisfies ``agentless.model.CallRecorder`` structurally.

Schema changes are an ordered list of named migrations (``MIGRATIONS``); append new ones at the
end, never edit or reorder applied ones. The database runs in WAL mode with a busy timeout, so
several threads (one connection each) and several processes can share it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agentless.errors import StoreError

# The record types alone: the package would load the HTTP client and the config models.
from agentless.model._types import CallRecord, CallRecorder, Completion, Usage

STORE_FILENAME = "store.db"
BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Migration:
    """One schema step: a unique name and an SQL script (several statements allowed)."""

    name: str
    sql: str


MIGRATIONS: list[Migration] = [
    Migration(
        "0001_model_calls",
        """
        CREATE TABLE model_calls (
            id                INTEGER PRIMARY KEY,
            started_at        REAL NOT NULL,
            finished_at       REAL NOT NULL,
            stage             TEXT NOT NULL DEFAULT '',
            model             TEXT NOT NULL,
            url               TEXT NOT NULL,
            request_key       TEXT NOT NULL,
            request           TEXT NOT NULL,
            status            INTEGER,
            error             TEXT NOT NULL DEFAULT '',
            reply             TEXT NOT NULL DEFAULT '[]',
            prompt_tokens     INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cached_tokens     INTEGER NOT NULL DEFAULT 0,
            reasoning_tokens  INTEGER NOT NULL DEFAULT 0,
            latency           REAL NOT NULL DEFAULT 0,
            retries           INTEGER NOT NULL DEFAULT 0,
            cost              REAL  -- NULL: price unknown
        );
        CREATE INDEX model_calls_stage ON model_calls (stage);
        CREATE INDEX model_calls_key ON model_calls (request_key);
        """,
    ),
    Migration(
        "0002_response_cache",
        """
        CREATE TABLE response_cache (
            request_key  TEXT NOT NULL,
            sample_index INTEGER NOT NULL,
            completion   TEXT NOT NULL,
            call_id      INTEGER REFERENCES model_calls (id),
            created_at   REAL NOT NULL,
            PRIMARY KEY (request_key, sample_index)
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "0003_meta",
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ),
    Migration(
        "0004_task_results",
        """
        CREATE TABLE task_results (
            id          INTEGER PRIMARY KEY,
            instance_id TEXT NOT NULL,
            created_at  REAL NOT NULL,
            patch       TEXT NOT NULL,
            result      TEXT NOT NULL
        );
        CREATE INDEX task_results_instance ON task_results (instance_id);
        """,
    ),
    Migration(
        "0005_batch_state",
        """
        ALTER TABLE model_calls ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
        CREATE INDEX model_calls_instance ON model_calls (instance_id);
        CREATE TABLE task_runs (
            job         TEXT NOT NULL,
            instance_id TEXT NOT NULL,
            status      TEXT NOT NULL,  -- running | done | failed | interrupted
            stage       TEXT NOT NULL DEFAULT '',
            detail      TEXT NOT NULL DEFAULT '',
            fingerprint TEXT NOT NULL DEFAULT '',
            attempts    INTEGER NOT NULL DEFAULT 0,
            error       TEXT NOT NULL DEFAULT '',
            started_at  REAL,
            finished_at REAL,
            output      TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (job, instance_id)
        ) WITHOUT ROWID;
        CREATE TABLE task_stages (
            id          INTEGER PRIMARY KEY,
            job         TEXT NOT NULL,
            instance_id TEXT NOT NULL,
            stage       TEXT NOT NULL,
            detail      TEXT NOT NULL DEFAULT '',
            at          REAL NOT NULL
        );
        CREATE INDEX task_stages_instance ON task_stages (instance_id);
        CREATE TABLE test_runs (
            id          INTEGER PRIMARY KEY,
            instance_id TEXT NOT NULL,
            started_at  REAL NOT NULL,
            argv        TEXT NOT NULL,
            exit_code   INTEGER,
            timed_out   INTEGER NOT NULL,
            duration    REAL NOT NULL,
            output      TEXT NOT NULL
        );
        CREATE INDEX test_runs_instance ON test_runs (instance_id);
        CREATE TABLE checkpoints (
            instance_id TEXT NOT NULL,
            name        TEXT NOT NULL,
            key         TEXT NOT NULL,
            value       TEXT NOT NULL,
            created_at  REAL NOT NULL,
            PRIMARY KEY (instance_id, name, key)
        ) WITHOUT ROWID;
        """,
    ),
    # Later capabilities append their migrations here.
]

TaskStatus = Literal["running", "done", "failed", "interrupted"]

# Test output kept per run in the store (head and tail); the sandbox caps what it captures.
TEST_OUTPUT_LIMIT = 200_000


@dataclass(frozen=True)
class TaskRun:
    """The scheduler's record of one task of one job (``batch``, ``eval``, ...)."""

    job: str
    instance_id: str
    status: TaskStatus
    stage: str
    detail: str
    fingerprint: str
    attempts: int
    error: str
    started_at: float | None
    finished_at: float | None
    output: dict[str, Any]


@dataclass(frozen=True)
class TestRunRecord:
    """One command run in the sandbox for a task, as kept in the store."""

    instance_id: str
    started_at: float
    argv: list[str]
    exit_code: int | None
    timed_out: bool
    duration: float
    output: str


@dataclass(frozen=True)
class StoredCall:
    """A model call as read back from the store."""

    id: int
    stage: str
    model: str
    url: str
    request: dict[str, Any]
    status: int | None
    error: str
    completions: list[Completion]
    usage: Usage
    started_at: float
    instance_id: str = ""


def _statements(script: str) -> Iterator[str]:
    """Split an SQL script into complete statements (semicolons inside strings are safe)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise StoreError(f"incomplete SQL statement in a migration: {buffer.strip()[:80]!r}")


class Store:
    """SQLite store for one run; thread-safe (a connection per thread) and multi-process safe.

    Use ``Store.for_run(run_dir)`` for ``RUN_DIR/store.db`` or ``Store(path)`` for any file;
    close it (or use it as a context manager) when done.
    """

    def __init__(self, path: str | Path, migrations: list[Migration] | None = None) -> None:
        self.path = Path(path)
        self._migrations = list(MIGRATIONS if migrations is None else migrations)
        self._local = threading.local()
        # Connections by the thread that opened them: those of finished threads are closed
        # when a new one opens, so short-lived worker threads do not pile up open files.
        self._open: dict[threading.Thread, sqlite3.Connection] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the run directory {self.path.parent}: {exc}") from None
        try:
            self._migrate()
        except BaseException:
            # The caller never gets this store: its connection must not wait for the garbage
            # collector (a traceback kept by the caller would hold it open).
            self.close()
            raise

    @classmethod
    def for_run(cls, run_dir: str | Path) -> Store:
        """The store of a run directory: ``RUN_DIR/store.db`` (created when missing)."""
        return cls(Path(run_dir) / STORE_FILENAME)

    # --- connections and transactions -----------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; use ``transaction()`` to group writes)."""
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open_connection()
            self._local.conn = conn
            with self._lock:
                self._close_finished_threads()
                self._open[threading.current_thread()] = conn
        return conn

    def _close_finished_threads(self) -> None:
        for thread in [t for t in self._open if not t.is_alive()]:
            self._open.pop(thread).close()

    def _open_connection(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives a killed process (not a power cut).
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open the run store {self.path}: {exc}; check that the directory is "
                "writable and on a local filesystem"
            ) from None
        conn.row_factory = sqlite3.Row
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): commits on success, rolls back on error."""
        conn = self.connect()
        # Threads of this process queue here for the write lock; left to SQLite, each would
        # poll for it with growing sleeps (up to 100 ms) while another thread commits.
        with self._write_lock:
            yield from self._write(conn)

    def _write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"the run store {self.path} is locked or unusable: {exc}") from None
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback(conn)
            raise StoreError(
                f"writing to the run store {self.path} failed: {exc}; check the free disk "
                "space, or use a new run directory if the file was changed by another tool"
            ) from exc
        except BaseException:
            self._rollback(conn)
            raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        # SQLite may already have rolled back on its own (e.g. a full disk).
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            conns, self._open = list(self._open.values()), {}
            self._closed = True
        for conn in conns:
            conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- migrations -----------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            applied = [
                row["name"]
                for row in conn.execute("SELECT name FROM schema_version ORDER BY version")
            ]
            self._check_history(applied)
            for version, migration in enumerate(self._migrations, start=1):
                if version <= len(applied):
                    continue
                try:
                    for statement in _statements(migration.sql):
                        conn.execute(statement)
                except sqlite3.Error as exc:
                    raise StoreError(
                        f"migration {migration.name} failed on {self.path}: {exc}"
                    ) from None
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, migration.name, time.time()),
                )

    def _check_history(self, applied: list[str]) -> None:
        known = [m.name for m in self._migrations]
        if len(applied) > len(known):
            raise StoreError(
                f"{self.path} has schema migrations this version does not know "
                f"({', '.join(applied[len(known) :])}); upgrade agentless or use a new run directory"
            )
        if applied != known[: len(applied)]:
            raise StoreError(
                f"{self.path} was migrated differently ({applied}) than this version expects "
                f"({known[: len(applied)]}); use a new run directory"
            )

    @property
    def schema_version(self) -> int:
        """Number of migrations applied."""
        row = self.connect().execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return int(row.fetchone()[0])

    # --- model calls and the response cache (the CallRecorder protocol) -------------------

    def record_call(self, call: CallRecord, *, instance_id: str = "") -> int:
        """Write one model call and cache its completions; returns the call's row id.
        ``instance_id`` names the task the call was made for (batch runs share one store)."""
        now = time.time()
        usage = call.usage
        reply = json.dumps([c.to_dict() for c in call.completions], ensure_ascii=False)
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO model_calls (started_at, finished_at, stage, model, url, "
                "request_key, request, status, error, reply, prompt_tokens, completion_tokens, "
                "cached_tokens, reasoning_tokens, latency, retries, cost, instance_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    call.started_at or now,
                    now,
                    call.stage,
                    call.model,
                    call.url,
                    call.key,
                    json.dumps(dict(call.request), ensure_ascii=False, sort_keys=True),
                    call.status,
                    call.error,
                    reply,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.cached_tokens,
                    usage.reasoning_tokens,
                    usage.latency,
                    usage.retries,
                    usage.cost,
                    instance_id,
                ),
            )
            call_id = int(cursor.lastrowid or 0)
            if not call.error:
                conn.executemany(
                    "INSERT OR IGNORE INTO response_cache "
                    "(request_key, sample_index, completion, call_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            call.key,
                            c.index,
                            json.dumps(c.to_dict(), ensure_ascii=False),
                            call_id,
                            now,
                        )
                        for c in call.completions
                    ],
                )
        return call_id

    def cached_samples(self, key: str, n: int) -> dict[int, Completion]:
        """Cached completions of request ``key`` with sample index below ``n``."""
        rows = self.connect().execute(
            "SELECT sample_index, completion FROM response_cache "
            "WHERE request_key = ? AND sample_index < ?",
            (key, n),
        )
        return {
            int(row["sample_index"]): Completion.from_dict(
                json.loads(row["completion"]), cached=True
            )
            for row in rows
        }

    def calls(
        self, stage: str | None = None, *, instance_id: str | None = None
    ) -> list[StoredCall]:
        """Recorded model calls in order, optionally only those of one stage or one task."""
        where, params = [], []
        if stage is not None:
            where.append("stage = ?")
            params.append(stage)
        if instance_id is not None:
            where.append("instance_id = ?")
            params.append(instance_id)
        query = "SELECT * FROM model_calls" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.connect().execute(query + " ORDER BY id", params)
        return [_stored_call(row) for row in rows]

    def usage_by_instance(self) -> dict[str, Usage]:
        """Summed usage of the calls made for each task."""
        sums = ", ".join(f"SUM({name}) AS {name}" for name in _SUMMED)
        rows = self.connect().execute(
            f"SELECT instance_id, COUNT(*) AS calls, {sums}, "
            "CASE WHEN COUNT(cost) = COUNT(*) THEN TOTAL(cost) END AS cost "
            "FROM model_calls GROUP BY instance_id ORDER BY instance_id"
        )
        return {row["instance_id"]: _usage(row, row["calls"]) for row in rows}

    def usage_by_stage(self) -> dict[str, Usage]:
        """Summed usage per stage label; cost is ``None`` where any call's price was unknown."""
        sums = ", ".join(f"SUM({name}) AS {name}" for name in _SUMMED)
        rows = self.connect().execute(
            f"SELECT stage, COUNT(*) AS calls, {sums}, "
            "CASE WHEN COUNT(cost) = COUNT(*) THEN TOTAL(cost) END AS cost "
            "FROM model_calls GROUP BY stage ORDER BY stage"
        )
        return {row["stage"]: _usage(row, row["calls"]) for row in rows}

    def total_usage(self) -> Usage:
        """Usage summed over every recorded call."""
        return sum(self.usage_by_stage().values(), Usage())

    # --- task results -----------------------------------------------------------------------

    def save_result(self, instance_id: str, patch: str, result: dict[str, Any]) -> None:
        """Record one task's outcome (every run is kept; the latest wins on lookup)."""
        with self.transaction() as conn:
            self._insert_result(conn, instance_id, patch, result)

    @staticmethod
    def _insert_result(
        conn: sqlite3.Connection, instance_id: str, patch: str, result: dict[str, Any]
    ) -> None:
        conn.execute(
            "INSERT INTO task_results (instance_id, created_at, patch, result) VALUES (?, ?, ?, ?)",
            (instance_id, time.time(), patch, json.dumps(result, ensure_ascii=False)),
        )

    def latest_result(self, instance_id: str) -> dict[str, Any] | None:
        """The most recent result recorded for ``instance_id``, or ``None``."""
        row = (
            self.connect()
            .execute(
                "SELECT result FROM task_results WHERE instance_id = ? ORDER BY id DESC LIMIT 1",
                (instance_id,),
            )
            .fetchone()
        )
        return None if row is None else dict(json.loads(row["result"]))

    def result_count(self, instance_id: str) -> int:
        """How many results were recorded for ``instance_id``."""
        row = self.connect().execute(
            "SELECT COUNT(*) FROM task_results WHERE instance_id = ?", (instance_id,)
        )
        return int(row.fetchone()[0])

    # --- scheduler state: one row per (job, task), stage history, test runs ---------------

    def begin_task(self, job: str, instance_id: str, fingerprint: str) -> None:
        """Mark a task as running (again): its attempt count goes up by one."""
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO task_runs (job, instance_id, status, fingerprint, attempts, "
                "started_at) VALUES (?, ?, 'running', ?, 1, ?) "
                "ON CONFLICT (job, instance_id) DO UPDATE SET status = 'running', "
                "stage = '', detail = '', error = '', fingerprint = excluded.fingerprint, "
                "attempts = attempts + 1, started_at = excluded.started_at, finished_at = NULL",
                (job, instance_id, fingerprint, now),
            )

    def task_stage(self, job: str, instance_id: str, stage: str, detail: str = "") -> None:
        """Record that a running task entered ``stage`` (``detail``: what it is doing)."""
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE task_runs SET stage = ?, detail = ? WHERE job = ? AND instance_id = ?",
                (stage, detail, job, instance_id),
            )
            conn.execute(
                "INSERT INTO task_stages (job, instance_id, stage, detail, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (job, instance_id, stage, detail, now),
            )

    def finish_task(
        self,
        job: str,
        instance_id: str,
        status: TaskStatus,
        *,
        output: Mapping[str, object] | None = None,
        error: str = "",
        result: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """Record how a task ended: ``done`` with its output, or ``failed``/``interrupted``
        (an earlier output is then kept). ``result`` (patch, result) goes into
        ``task_results`` in the same transaction, so a task is never counted twice."""
        sets, params = "status = ?, error = ?, finished_at = ?", [status, error, time.time()]
        if output is not None:
            sets += ", output = ?"
            params.append(json.dumps(output, ensure_ascii=False))
        with self.transaction() as conn:
            conn.execute(
                f"UPDATE task_runs SET {sets} WHERE job = ? AND instance_id = ?",
                (*params, job, instance_id),
            )
            if result is not None:
                self._insert_result(conn, instance_id, *result)

    def task_runs(self, job: str | None = None) -> dict[str, TaskRun]:
        """The scheduler's rows by instance id (of one job, or of every job)."""
        query, params = "SELECT * FROM task_runs", []
        if job is not None:
            query, params = query + " WHERE job = ?", [job]
        rows = self.connect().execute(query + " ORDER BY started_at, instance_id", params)
        return {row["instance_id"]: _task_run(row) for row in rows}

    def stage_history(self, instance_id: str) -> list[tuple[str, str, float]]:
        """``(stage, detail, time)`` of every stage a task entered, oldest first."""
        rows = self.connect().execute(
            "SELECT stage, detail, at FROM task_stages WHERE instance_id = ? ORDER BY id",
            (instance_id,),
        )
        return [(row["stage"], row["detail"], row["at"]) for row in rows]

    def record_test_run(self, run: TestRunRecord) -> None:
        """Keep one sandboxed command of a task: argv, exit status, time, output (capped)."""
        output = run.output
        if len(output) > TEST_OUTPUT_LIMIT:
            half = TEST_OUTPUT_LIMIT // 2
            output = f"{output[:half]}\n[... {len(output) - 2 * half} characters left out ...]\n{output[-half:]}"
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO test_runs (instance_id, started_at, argv, exit_code, timed_out, "
                "duration, output) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.instance_id,
                    run.started_at,
                    json.dumps(run.argv),
                    run.exit_code,
                    int(run.timed_out),
                    run.duration,
                    output,
                ),
            )

    def test_runs(self, instance_id: str) -> list[TestRunRecord]:
        """The sandboxed commands of a task, in order."""
        rows = self.connect().execute(
            "SELECT * FROM test_runs WHERE instance_id = ? ORDER BY id", (instance_id,)
        )
        return [
            TestRunRecord(
                instance_id=row["instance_id"],
                started_at=row["started_at"],
                argv=json.loads(row["argv"]),
                exit_code=row["exit_code"],
                timed_out=bool(row["timed_out"]),
                duration=row["duration"],
                output=row["output"],
            )
            for row in rows
        ]

    def get_checkpoint(self, instance_id: str, name: str, key: str) -> Any:
        """A value a task saved under ``(name, key)``, or ``None``."""
        row = (
            self.connect()
            .execute(
                "SELECT value FROM checkpoints WHERE instance_id = ? AND name = ? AND key = ?",
                (instance_id, name, key),
            )
            .fetchone()
        )
        return None if row is None else json.loads(row["value"])

    def put_checkpoint(self, instance_id: str, name: str, key: str, value: Any) -> None:
        """Save a finished step of a task, so a resumed run need not repeat it."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO checkpoints (instance_id, name, key, value, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (instance_id, name, key, json.dumps(value, ensure_ascii=False), time.time()),
            )

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` answer (``ok`` for a sound file)."""
        rows = self.connect().execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(row[0]) for row in rows)

    # --- run metadata ---------------------------------------------------------------------

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-serializable value under ``key`` (e.g. the run's configuration)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        row = self.connect().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])


def _stored_call(row: sqlite3.Row) -> StoredCall:
    return StoredCall(
        id=row["id"],
        stage=row["stage"],
        model=row["model"],
        url=row["url"],
        request=json.loads(row["request"]),
        status=row["status"],
        error=row["error"],
        completions=[Completion.from_dict(c) for c in json.loads(row["reply"])],
        usage=_usage(row, calls=1),
        started_at=row["started_at"],
        instance_id=row["instance_id"],
    )


def _task_run(row: sqlite3.Row) -> TaskRun:
    return TaskRun(
        job=row["job"],
        instance_id=row["instance_id"],
        status=row["status"],
        stage=row["stage"],
        detail=row["detail"],
        fingerprint=row["fingerprint"],
        attempts=row["attempts"],
        error=row["error"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        output=json.loads(row["output"] or "{}"),
    )


# Usage columns of ``model_calls`` that add up across calls (cost is summed apart: see
# ``usage_by_stage``).
_SUMMED = (
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "latency",
    "retries",
)


def _usage(row: sqlite3.Row, calls: int) -> Usage:
    return Usage(**{name: row[name] for name in _SUMMED}, calls=calls, cost=row["cost"])


if TYPE_CHECKING:

    def _is_a_recorder(store: Store) -> CallRecorder:
        # mypy proves here that the store satisfies the model's recorder protocol.
        return store
