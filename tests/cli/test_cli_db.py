"""``mltrail db upgrade``: real databases at an older revision, brought to the head."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import insert

from mltrail import MlflowClient
from mltrail.store.sql._engine import create_db_engine, current_revision
from mltrail.store.sql._schema import HEAD_REVISION, experiments_table, params_table, runs_table
from mltrail.store.sql._upgrade import UpgradeResult, run_migrations

OLD = "0001_initial"


def _make_old_database(uri: str) -> None:
    """A database at the first revision holding one experiment and one run with a param."""
    engine = create_db_engine(uri)
    run_migrations(engine, OLD)
    with engine.begin() as conn:
        conn.execute(
            insert(experiments_table).values(
                experiment_id=0,
                name="Default",
                artifact_location="file:///tmp/x/0",
                lifecycle_stage="active",
                creation_time=10,
                last_update_time=10,
            )
        )
        conn.execute(
            insert(runs_table).values(
                id=1,
                run_uuid="r1",
                experiment_id=0,
                name="legacy",
                user_id="me",
                status="FINISHED",
                start_time=20,
                lifecycle_stage="active",
                artifact_uri="file:///tmp/x/0/r1/artifacts",
            )
        )
        conn.execute(insert(params_table).values(run_id=1, key="lr", value="0.01"))
    engine.dispose()


def _revision(uri: str) -> str | None:
    engine = create_db_engine(uri)
    try:
        with engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()


def test_upgrade_an_old_sqlite_database_with_a_backup(mltrail, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    uri = f"sqlite:///{path}"
    _make_old_database(uri)
    result = mltrail.ok("db", "upgrade", uri)
    backup = f"{path}.bak-{OLD}"
    assert result.stdout == (
        f"Upgraded the database from revision {OLD} to {HEAD_REVISION}\n"
        f"Backup of the previous database: {backup}\n"
    )
    assert result.stderr == ""
    assert _revision(uri) == HEAD_REVISION
    assert MlflowClient(uri).get_run("r1").data.params == {"lr": "0.01"}
    conn = sqlite3.connect(backup)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (OLD,)
    finally:
        conn.close()

    again = mltrail.ok("db", "upgrade", uri).stdout
    assert again == f"The database is already at revision {HEAD_REVISION}: nothing to do\n"


def test_upgrade_without_backup(mltrail, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    uri = f"sqlite:///{path}"
    _make_old_database(uri)
    out = mltrail.ok("db", "upgrade", uri, "--no-backup").stdout
    assert out.splitlines()[-1] == "No backup was made"
    assert _revision(uri) == HEAD_REVISION
    assert [p.name for p in tmp_path.iterdir() if ".bak-" in p.name] == []


def test_upgrade_uses_the_tracking_uri_when_no_argument_is_given(mltrail, tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'env.db'}"
    _make_old_database(uri)
    mltrail.ok("db", "upgrade", env={"MLTRAIL_TRACKING_URI": None, "MLFLOW_TRACKING_URI": uri})
    assert _revision(uri) == HEAD_REVISION

    other = f"sqlite:///{tmp_path / 'opt.db'}"
    _make_old_database(other)
    mltrail.ok("db", "upgrade", "--tracking-uri", other)
    assert _revision(other) == HEAD_REVISION


def test_the_argument_wins_over_the_environment(mltrail, uri: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'arg.db'}"
    _make_old_database(target)
    mltrail.ok("db", "upgrade", target)  # MLTRAIL_TRACKING_URI names another database
    assert _revision(target) == HEAD_REVISION
    assert not Path(uri.removeprefix("sqlite:///")).exists()


def test_two_different_databases_is_a_usage_error(mltrail, tmp_path: Path) -> None:
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    result = mltrail("db", "upgrade", a, "--tracking-uri", b)
    assert result.exit_code == 2
    assert "not both" in result.stderr
    assert not (tmp_path / "a.db").exists()
    assert not (tmp_path / "b.db").exists()


def test_upgrade_refuses_a_missing_sqlite_file(mltrail, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'typo.db'}"
    err = mltrail.fails("db", "upgrade", uri).stderr
    assert "No SQLite database at" in err
    assert not (tmp_path / "typo.db").exists()


def test_upgrade_creates_an_empty_server_database(mltrail, fresh_postgres_uri: str) -> None:
    out = mltrail.ok("db", "upgrade", fresh_postgres_uri).stdout
    assert out == f"Created a new database at revision {HEAD_REVISION}\n"
    assert MlflowClient(fresh_postgres_uri).get_experiment("0").name == "Default"


def test_a_foreign_database_is_refused(mltrail, tmp_path: Path) -> None:
    path = tmp_path / "foreign.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE experiments (x INTEGER)")
    conn.commit()
    conn.close()
    err = mltrail.fails("db", "upgrade", f"sqlite:///{path}").stderr
    assert "not an mltrail database" in err
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        conn.close()
    assert tables == ["experiments"]


def test_an_unsupported_uri_is_an_error(mltrail) -> None:
    err = mltrail.fails("db", "upgrade", "ftp://example.com/db").stderr
    assert "Unsupported database URI scheme 'ftp'" in err


def test_mysql_gets_a_warning_before_the_upgrade(mltrail, monkeypatch) -> None:
    from mltrail.store.sql import _upgrade

    calls: list[tuple[str, bool]] = []

    def fake_upgrade(
        uri: str, *, backup: bool = True, before_migrating: Callable[[], None] | None = None
    ) -> UpgradeResult:
        calls.append((uri, backup))
        if before_migrating is not None:
            before_migrating()
        return UpgradeResult(OLD, HEAD_REVISION, None)

    monkeypatch.setattr(_upgrade, "upgrade_database", fake_upgrade)
    result = mltrail.ok("db", "upgrade", "mysql+pymysql://root@db.example:3306/mltrail")
    assert calls == [("mysql+pymysql://root@db.example:3306/mltrail", True)]
    assert result.stderr.startswith("Warning: MySQL and MariaDB commit every schema change")
    assert "backup" in result.stderr
    assert result.stdout == f"Upgraded the database from revision {OLD} to {HEAD_REVISION}\n"

    postgres = mltrail.ok("db", "upgrade", "postgresql://u@db.example/mltrail")
    assert postgres.stderr == ""
    assert postgres.stdout.splitlines()[-1] == "No backup was made"


@pytest.mark.mysql
def test_upgrade_a_real_mariadb_database(mltrail, fresh_mysql_uri: str) -> None:
    _make_old_database(fresh_mysql_uri)
    result = mltrail.ok("db", "upgrade", fresh_mysql_uri)
    assert "Warning: MySQL and MariaDB" in result.stderr
    assert f"from revision {OLD} to {HEAD_REVISION}" in result.stdout
    assert _revision(fresh_mysql_uri) == HEAD_REVISION


@pytest.mark.postgres
def test_upgrade_a_real_postgres_database(mltrail, fresh_postgres_uri: str) -> None:
    _make_old_database(fresh_postgres_uri)
    result = mltrail.ok("db", "upgrade", fresh_postgres_uri)
    assert result.stderr == ""
    assert _revision(fresh_postgres_uri) == HEAD_REVISION
    assert MlflowClient(fresh_postgres_uri).get_run("r1").data.params == {"lr": "0.01"}
