"""MLflow's database as an import source: stores made by MLflow 3.17 (SQLite, PostgreSQL,
MariaDB) and MLflow 2.22 (SQLite), read value by value as MLflow's client reads them; the
source never writes; fingerprints change with the run and only with it."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import column, table
from sqlalchemy.exc import DBAPIError
from tests.importers._mlflow_compare import assert_source_matches
from tests.importers.conftest import MakeStore, run_script

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.importers._mlflow import open_mlflow_source
from mltrail.importers._mlflow_db import MlflowDatabaseSource
from mltrail.store import open_backend

pytestmark = pytest.mark.slow


def _assert_read_only(source: MlflowDatabaseSource) -> None:
    """The source's connections refuse to write (SQLite mode=ro, read-only sessions)."""
    tags = table("experiment_tags", column("key"), column("value"), column("experiment_id"))
    with source.engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(tags.insert().values(key="probe", value="x", experiment_id=0))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Closing:
    """The source at *uri*, closed at the end of the block."""

    def __init__(self, uri: str) -> None:
        self.source = MlflowDatabaseSource(uri)

    def __enter__(self) -> MlflowDatabaseSource:
        return self.source

    def __exit__(self, *exc: object) -> None:
        self.source.close()


def test_an_mlflow_3_sqlite_store_reads_as_mlflows_client_reads_it(
    tmp_path: Path, make_store: MakeStore
) -> None:
    db = tmp_path / "mlflow.db"
    dump = make_store(f"sqlite:///{db}")
    before = _digest(db)
    source = open_mlflow_source(str(db))  # a path to a file is a SQLite database
    try:
        assert isinstance(source, MlflowDatabaseSource)
        assert "an MLflow 3 tracking database" in source.description
        _assert_read_only(source)
        contents = assert_source_matches(source, dump)
        parent = contents[dump["ids"]["parent"]]
        assert parent.params["opt/beta"] == "0.9"
        assert parent.metrics.model_ids is not None  # MLflow 3 links metrics to models
        linked = {
            key: model_id
            for key, model_id in zip(parent.metrics.keys, parent.metrics.model_ids, strict=True)
            if model_id
        }
        assert linked["val_acc"] == dump["logged_models"][0]["model_id"]
        (model,) = [r for r in source.registered_models() if r.model.name == "logged-reg"]
        assert model.versions[0].model_id == dump["logged_models"][0]["model_id"]
        counts = source.counts([e.experiment_id for e in source.experiments()])
        assert counts.runs == len(dump["runs"])
        assert counts.metric_points == sum(
            len(points or []) for run in dump["runs"] for points in run["metrics"].values()
        )
        assert counts.registered_models == 3
        assert counts.model_versions == 3  # reg's deleted third version is not counted
        assert counts.logged_models == 1
        assert counts.artifacts is not None
        assert counts.artifacts >= 2
        repo = source.open_artifacts(parent.header.info.artifact_uri)
        assert repo is not None
        with repo.open_read("notes/hello.txt") as stream:
            assert stream.read() == b"hello"
    finally:
        source.close()
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("mlflow.db")) == [
        "mlflow.db"
    ]


def test_fingerprints_change_with_the_run_that_changed_only(
    tmp_path: Path, make_store: MakeStore
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    dump = make_store(uri)
    with _Closing(uri) as source:
        ids = [e.experiment_id for e in source.experiments()]
        first = {h.info.run_id: h.fingerprint for h in source.run_headers(ids)}
        again = {h.info.run_id: h.fingerprint for h in source.run_headers(ids)}
    assert first == again
    parent = dump["ids"]["parent"]
    run_script(sys.executable, "more", uri, parent, cwd=tmp_path)
    with _Closing(uri) as source:
        after = {h.info.run_id: h.fingerprint for h in source.run_headers(ids)}
    assert [run_id for run_id in first if first[run_id] != after[run_id]] == [parent]


def test_an_mlflow_2_sqlite_store_reads_as_mlflow_2_reads_it(
    tmp_path: Path, make_store: MakeStore, mlflow2_python: str
) -> None:
    db = tmp_path / "mlflow.db"
    dump = make_store(f"sqlite:///{db}", python=mlflow2_python)
    assert dump["mlflow_version"].startswith("2.")
    with _Closing(f"sqlite:///{db}") as source:
        assert "an MLflow 2 (or older) tracking database" in source.description
        contents = assert_source_matches(source, dump)
        assert all(c.metrics.model_ids is None for c in contents.values())
        assert list(source.logged_models([e.experiment_id for e in source.experiments()])) == []


@pytest.mark.postgres
def test_an_mlflow_3_postgresql_store(fresh_postgres_uri: str, make_store: MakeStore) -> None:
    uri = fresh_postgres_uri.replace("postgresql://", "postgresql+psycopg://")
    dump = make_store(uri)
    with _Closing(fresh_postgres_uri) as source:
        assert_source_matches(source, dump)
        _assert_read_only(source)


@pytest.mark.mysql
def test_an_mlflow_3_mariadb_store(fresh_mysql_uri: str, make_store: MakeStore) -> None:
    uri = fresh_mysql_uri.replace("mysql://", "mysql+pymysql://")
    dump = make_store(uri)
    with _Closing(fresh_mysql_uri) as source:
        assert_source_matches(source, dump)
        _assert_read_only(source)


def test_what_is_not_an_mlflow_database_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        MlflowDatabaseSource(f"sqlite:///{tmp_path / 'missing.db'}")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(InvalidArgument, match="not an MLflow database"):
        MlflowDatabaseSource(f"sqlite:///{empty}")
    ours = f"sqlite:///{tmp_path / 'mltrail.db'}"
    open_backend(ours).close()
    with pytest.raises(InvalidArgument, match="mltrail import mltrail"):
        MlflowDatabaseSource(ours)
    assert sqlite3.connect(empty).execute("select count(*) from sqlite_master").fetchone() == (0,)
