"""Many writers on one SQLite file: every value stored, no "database is locked" for the user."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mltrail.entities import Metric, Param, RunTag
from mltrail.store.sql import SqlBackend
from mltrail.store.sql._engine import _switch_to_wal

WRITER = """
import sys
import mltrail as mlflow
mlflow.set_tracking_uri(sys.argv[1])
with mlflow.start_run(run_name=f"proc-{sys.argv[2]}") as run:
    for i in range(300):
        mlflow.log_metric("m", float(i), step=i)
        if i % 50 == 0:
            mlflow.log_param(f"p{i}", i)
            mlflow.set_tag(f"t{i}", i)
            mlflow.flush()
print(run.info.run_id)
"""


def test_eight_processes_log_into_one_sqlite_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    SqlBackend(uri).close()  # create it once; the writers race on everything after
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, uri, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    results = [p.communicate(timeout=180) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    store = SqlBackend(uri)
    try:
        for out, _ in results:
            run_id = out.strip()
            history = store.metrics.get_metric_history(run_id, "m")
            assert [m.value for m in history] == [float(i) for i in range(300)]
            data = store.runs.get_run(run_id).data
            assert len(data.params) == 6
            assert len([k for k in data.tags if k.startswith("t")]) == 6
            assert store.runs.get_run(run_id).info.status == "FINISHED"
    finally:
        store.close()


def test_fresh_database_created_by_eight_processes_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, uri, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    store = SqlBackend(uri)
    try:
        assert len(store.runs.search_runs(["0"])) == 8
        assert [e.name for e in store.experiments.search_experiments()] == ["Default"]
    finally:
        store.close()


def test_eight_threads_log_into_one_sqlite_file(tmp_path: Path) -> None:
    store = SqlBackend(f"sqlite:///{tmp_path / 'threads.db'}")
    errors: list[BaseException] = []
    run_ids: list[str] = []

    def work(n: int) -> None:
        try:
            run_id = store.runs.create_run("0", "u", 1, [], f"t{n}").info.run_id
            run_ids.append(run_id)
            for i in range(100):
                store.runs.log_batch(
                    run_id,
                    metrics=[Metric("m", float(i), i, i)],
                    params=[Param(f"p{i}", str(i))] if i % 10 == 0 else [],
                    tags=[RunTag("last", str(i))],
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(run_ids) == 8
    for run_id in run_ids:
        assert len(store.metrics.get_metric_history(run_id, "m")) == 100
        data = store.runs.get_run(run_id).data
        assert len(data.params) == 10
        assert data.tags["last"] == "99"
    store.close()


def test_fluent_logging_from_eight_threads(tmp_path: Path) -> None:
    import mltrail as mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'fluent.db'}")
    client = mlflow.MlflowClient()
    run_id = client.create_run("0").info.run_id

    def work(n: int) -> None:
        for i in range(1000):
            mlflow.log_metric(f"thread{n}", float(i), step=i, run_id=run_id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    mlflow.flush()
    run = client.get_run(run_id)
    assert run.data.metrics == {f"thread{n}": 999.0 for n in range(8)}
    for n in range(8):
        assert len(client.get_metric_history(run_id, f"thread{n}")) == 1000


class _LockedCursor:
    """A cursor whose switch to WAL finds the file locked *locked* times first."""

    def __init__(self, locked: int, message: str = "database is locked") -> None:
        self.locked = locked
        self.message = message
        self.statements: list[str] = []

    def execute(self, statement: str) -> None:
        self.statements.append(statement)
        if len(self.statements) <= self.locked:
            raise sqlite3.OperationalError(self.message)


def test_the_switch_to_wal_is_retried_while_another_connection_holds_the_file() -> None:
    # SQLite answers a journal-mode change with "database is locked" at once, without its busy
    # handler, while other connections open the same fresh file.
    cursor = _LockedCursor(locked=3)
    _switch_to_wal(cursor)
    assert cursor.statements == ["PRAGMA journal_mode = WAL"] * 4


def test_any_other_error_in_the_switch_to_wal_is_raised_at_once() -> None:
    cursor = _LockedCursor(locked=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        _switch_to_wal(cursor)
    assert len(cursor.statements) == 1
