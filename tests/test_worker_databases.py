"""The per-worker PostgreSQL and MariaDB databases (tests/_databases.py): emptied before a test,
one is indistinguishable from a database a new store has just created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tests._databases import WorkerDatabase

from mltrail import MlflowClient
from mltrail.entities._auth import AuditEvent, Permission, ResourceType
from mltrail.store import open_auth_store
from mltrail.store.sql import SqlBackend
from mltrail.store.sql._engine import normalize_db_uri
from mltrail.tracking import close_backends

KINDS = ["postgres", "mysql"]


def _snapshot(uri: str) -> dict[str, Any]:
    """Every row of every table (experiment 0's clock readings aside) and the next ids."""
    engine = create_engine(normalize_db_uri(uri))
    state: dict[str, Any] = {}
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                tables = conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
                counters = conn.execute(
                    text("SELECT sequencename, last_value FROM pg_sequences")
                ).all()
                quote = '"{}"'
            else:
                tables = conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = DATABASE()"
                    )
                ).scalars()
                counters = conn.execute(
                    text(
                        "SELECT table_name, auto_increment FROM information_schema.tables "
                        "WHERE table_schema = DATABASE() AND auto_increment IS NOT NULL"
                    )
                ).all()
                quote = "`{}`"
            for table in sorted(tables):
                rows = conn.execute(text(f"SELECT * FROM {quote.format(table)}")).mappings()
                state[table] = sorted(
                    repr(sorted((k, v) for k, v in row.items() if not k.endswith("_time")))
                    for row in rows
                )
            state["next ids"] = sorted(tuple(c) for c in counters)
    finally:
        engine.dispose()
    return state


def _use_every_aggregate(uri: str) -> None:
    client = MlflowClient(uri)
    eid = client.create_experiment("e", tags={"t": "1"})
    run = client.create_run(eid, tags={"k": "v"})
    client.log_param(run.info.run_id, "p", "1")
    client.log_metric(run.info.run_id, "m", 1.0, step=3)
    client.create_registered_model("model", tags={"a": "b"})
    client.create_model_version("model", f"runs:/{run.info.run_id}/model", run.info.run_id)
    client.set_registered_model_alias("model", "champion", 1)
    client.create_logged_model(eid, name="lm")
    client.create_registered_model("gone")
    client.delete_registered_model("gone")
    client.delete_experiment(client.create_experiment("deleted"))
    close_backends()
    auth = open_auth_store(uri)
    try:
        auth.create_user("alice", "$argon2id$not-a-real-hash")
        auth.set_permission("alice", ResourceType.EXPERIMENT, eid, Permission.EDIT)
        auth.create_token("alice", "ci", "a" * 64, None)
        auth.create_session("alice", "b" * 64, "c" * 64, 2**40)
        auth.record_audit(AuditEvent(1, "alice", "127.0.0.1", "login"))
    finally:
        auth.close()


@pytest.mark.parametrize("kind", KINDS)
def test_an_emptied_worker_database_is_a_new_stores(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    request.getfixturevalue(f"{kind}_uri")  # the service is there; the database is made
    fresh_uri: str = request.getfixturevalue(f"fresh_{kind}_uri")
    db: WorkerDatabase = request.getfixturevalue(f"_{kind}_worker_database")
    root = str(tmp_path / "artifacts")

    SqlBackend(fresh_uri, root).close()
    open_auth_store(fresh_uri).close()
    _use_every_aggregate(db.uri)
    assert _snapshot(db.uri) != _snapshot(fresh_uri)

    db.reset(tmp_path)
    store = SqlBackend(db.uri, root)  # the first store opened after the reset names experiment 0
    try:
        assert _snapshot(db.uri) == _snapshot(fresh_uri)
    finally:
        store.close()
    # And the next ids are a new database's.
    for uri in (fresh_uri, db.uri):
        assert MlflowClient(uri).create_experiment("first") == "1"


@pytest.mark.parametrize("kind", KINDS)
def test_without_a_store_opened_experiment_0_is_where_a_store_in_the_cwd_puts_it(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    uri: str = request.getfixturevalue(f"{kind}_uri")
    location = MlflowClient(uri).get_experiment("0").artifact_location
    assert location == (tmp_path / "mltrail-artifacts" / "0").as_uri()


def test_a_connection_left_open_does_not_block_the_reset(
    postgres_uri: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db: WorkerDatabase = request.getfixturevalue("_postgres_worker_database")
    engine = create_engine(normalize_db_uri(postgres_uri))
    conn = engine.connect()
    conn.execute(text("LOCK TABLE experiments IN ACCESS EXCLUSIVE MODE"))  # and stays open
    try:
        db.reset(tmp_path)
        assert [e.name for e in MlflowClient(postgres_uri).search_experiments()] == ["Default"]
    finally:
        conn.invalidate()
        engine.dispose()
