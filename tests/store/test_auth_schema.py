"""The auth schema's own management: created, upgraded or refused by ``open_auth_store``, and
living beside the tracking schema in one database without either disturbing the other."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from mltrail._exceptions import InvalidArgument, MltrailError, SchemaOutOfDate
from mltrail.entities._auth import Permission, ResourceType
from mltrail.store import open_auth_store, upgrade_database
from mltrail.store.sql import SqlBackend
from mltrail.store.sql._auth_open import AUTH_MIGRATIONS_DIR, auth_revision, ensure_auth_schema
from mltrail.store.sql._auth_schema import (
    AUTH_HEAD_REVISION,
    AUTH_VERSION_TABLE,
    auth_metadata,
    include_auth_name,
    include_tracking_name,
)
from mltrail.store.sql._engine import create_db_engine
from mltrail.store.sql._schema import HEAD_REVISION, metadata
from mltrail.store.sql._upgrade import run_migrations

AUTH_HEAD = "auth_0001_initial"
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def _version_rows(uri: str) -> list[str]:
    engine = create_db_engine(uri)
    try:
        with engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(text(f"SELECT * FROM {AUTH_VERSION_TABLE}"))]
    finally:
        engine.dispose()


def _execute(uri: str, sql: str) -> None:
    engine = create_db_engine(uri)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def test_the_chain_builds_exactly_the_auth_tables_beside_the_tracking_ones(
    fresh_db_uri: str,
) -> None:
    open_auth_store(fresh_db_uri).close()
    SqlBackend(fresh_db_uri).close()
    engine = create_db_engine(fresh_db_uri)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert {t.name for t in auth_metadata.sorted_tables} < tables
            assert {"experiments", "alembic_version", AUTH_VERSION_TABLE} < tables
            auth_diff = compare_metadata(
                MigrationContext.configure(
                    conn,
                    opts={"include_name": include_auth_name, "version_table": AUTH_VERSION_TABLE},
                ),
                auth_metadata,
            )
            assert auth_diff == []
            # The tracking chain compares its own tables only: it never proposes to drop the
            # auth ones (without the filter it would).
            tracking = MigrationContext.configure(
                conn, opts={"include_name": include_tracking_name}
            )
            assert compare_metadata(tracking, metadata) == []
            unfiltered = compare_metadata(MigrationContext.configure(conn), metadata)
            assert {d[1].name for d in unfiltered if d[0] == "remove_table"} >= {"auth_users"}
    finally:
        engine.dispose()
    assert _version_rows(fresh_db_uri) == [AUTH_HEAD]


def test_the_tracking_store_opens_and_upgrades_beside_the_auth_tables(db_uri: str) -> None:
    # SQLite: a fresh file gets the auth schema first; the servers' databases have both.
    auth = open_auth_store(db_uri)
    try:
        auth.create_user("alice", HASH)
        backend = SqlBackend(db_uri)
        try:
            eid = backend.experiments.create_experiment("beside")
            auth.set_permission("alice", ResourceType.EXPERIMENT, eid, Permission.MANAGE)
        finally:
            backend.close()
        result = upgrade_database(db_uri)
        assert (result.from_revision, result.to_revision) == (HEAD_REVISION, HEAD_REVISION)
        assert auth.get_permission("alice", ResourceType.EXPERIMENT, eid) is Permission.MANAGE
    finally:
        auth.close()
    reopened = open_auth_store(db_uri)  # and the auth schema is found at its head
    try:
        assert reopened.get_user("alice").username == "alice"
    finally:
        reopened.close()


def test_db_upgrade_of_an_older_tracking_schema_keeps_the_auth_tables(fresh_db_uri: str) -> None:
    engine = create_db_engine(fresh_db_uri)
    try:
        run_migrations(engine, "0004_logged_models")
    finally:
        engine.dispose()
    auth = open_auth_store(fresh_db_uri)  # the auth schema does not depend on tracking's
    try:
        auth.create_user("alice", HASH, is_admin=True)
    finally:
        auth.close()
    with pytest.raises(SchemaOutOfDate, match="mltrail db upgrade"):
        SqlBackend(fresh_db_uri)
    result = upgrade_database(fresh_db_uri, backup=False)
    assert (result.from_revision, result.to_revision) == ("0004_logged_models", HEAD_REVISION)
    SqlBackend(fresh_db_uri).close()
    auth = open_auth_store(fresh_db_uri)
    try:
        assert auth.get_user("alice").is_admin
    finally:
        auth.close()


def _chain_with_a_newer_revision(tmp_path: Path) -> Path:
    chain = tmp_path / "auth_chain"
    shutil.copytree(AUTH_MIGRATIONS_DIR, chain, ignore=shutil.ignore_patterns("__pycache__"))
    (chain / "versions" / "auth_0002_note.py").write_text(
        '"""A later revision, for the test."""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        'revision = "auth_0002_note"\n'
        f'down_revision = "{AUTH_HEAD}"\n'
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        '    op.add_column("auth_users", sa.Column("note", sa.String(40), nullable=True))\n\n\n'
        "def downgrade() -> None:\n"
        '    op.drop_column("auth_users", "note")\n'
    )
    return chain


def test_an_older_auth_schema_is_upgraded_and_a_newer_one_refused(
    fresh_db_uri: str, tmp_path: Path
) -> None:
    auth = open_auth_store(fresh_db_uri)
    try:
        alice = auth.create_user("alice", HASH)
    finally:
        auth.close()
    chain = _chain_with_a_newer_revision(tmp_path)

    engine = create_db_engine(fresh_db_uri)
    try:
        # A later mltrail opening this database upgrades it, once.
        assert ensure_auth_schema(engine, fresh_db_uri, chain) == (AUTH_HEAD, "auth_0002_note")
        assert ensure_auth_schema(engine, fresh_db_uri, chain) == (
            "auth_0002_note",
            "auth_0002_note",
        )
        with engine.connect() as conn:
            assert auth_revision(conn) == "auth_0002_note"
            columns = {c["name"] for c in inspect(conn).get_columns("auth_users")}
            assert "note" in columns
    finally:
        engine.dispose()

    # This mltrail does not know that revision: it refuses the database, and changes nothing.
    with pytest.raises(SchemaOutOfDate, match="'auth_0002_note', unknown to this mltrail: a newer"):
        open_auth_store(fresh_db_uri)
    assert _version_rows(fresh_db_uri) == ["auth_0002_note"]
    _execute(fresh_db_uri, f"UPDATE {AUTH_VERSION_TABLE} SET version_num = '{AUTH_HEAD}'")
    auth = open_auth_store(fresh_db_uri)
    try:
        assert auth.get_user("alice") == alice
    finally:
        auth.close()


def test_foreign_revisions_and_unversioned_auth_tables_are_refused(sqlite_uri: str) -> None:
    open_auth_store(sqlite_uri).close()
    _execute(sqlite_uri, f"UPDATE {AUTH_VERSION_TABLE} SET version_num = 'a1b2c3d4e5f6'")
    with pytest.raises(MltrailError, match="'a1b2c3d4e5f6', not one of mltrail's"):
        open_auth_store(sqlite_uri)
    _execute(sqlite_uri, f"DELETE FROM {AUTH_VERSION_TABLE}")
    with pytest.raises(MltrailError, match=r"has authentication tables \(auth_\w+, ...\) but no"):
        open_auth_store(sqlite_uri)


def test_mlflows_auth_database_is_refused_unwritten(tmp_path: Path) -> None:
    path = tmp_path / "basic_auth.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE alembic_version_auth (version_num VARCHAR(32) PRIMARY KEY);"
        "INSERT INTO alembic_version_auth VALUES ('8606fa83a998');"
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(255), "
        "password_hash VARCHAR(255), is_admin BOOLEAN);"
    )
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(InvalidArgument, match="is MLflow's authentication database") as caught:
        open_auth_store(f"sqlite:///{path}")
    assert "alembic_version_auth" in caught.value.message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["basic_auth.db"]


def test_a_uri_that_is_not_a_database_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="Unsupported database URI scheme 'http'"):
        open_auth_store("http://127.0.0.1:5000")


def test_servers_starting_at_once_create_the_schema_once(fresh_db_uri: str) -> None:
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            open_auth_store(fresh_db_uri).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _version_rows(fresh_db_uri) == [AUTH_HEAD]


def test_the_head_constant_is_the_chains_head() -> None:
    """Opening a database at the head (or a fresh one) skips Alembic on the strength of
    AUTH_HEAD_REVISION: it must name the chain's head."""
    assert ScriptDirectory(str(AUTH_MIGRATIONS_DIR)).get_current_head() == AUTH_HEAD_REVISION


def test_opening_a_fresh_or_current_database_does_not_load_alembic(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from mltrail.store import open_auth_store\n"
        f"open_auth_store('sqlite:///{tmp_path / 'a.db'}').close()\n"
        f"open_auth_store('sqlite:///{tmp_path / 'a.db'}').close()\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
