"""PostgreSQL and MariaDB databases for the tests: one per test worker, emptied before each test.

Creating a database and its schema costs about a second on PostgreSQL and several on MariaDB
(InnoDB creates every table on disk), so each pytest-xdist worker creates one database per
server the first time a test asks for it, builds the schema by opening a store on it, and drops
it when the session ends.  Before each test :meth:`WorkerDatabase.reset` brings it back to the
state of a freshly created store, in milliseconds:

- a new store's state includes the authentication schema (``auth_*`` tables, created by
  ``open_auth_store`` when the database is made), as an authenticating server's database has;
- every table but the schema versions (``alembic_version``, ``auth_alembic_version``) is
  emptied (only the tables holding rows are touched):
  ``DELETE`` on PostgreSQL (with ``session_replication_role = replica``, so foreign keys need no
  order; ``TRUNCATE`` costs 0.4-0.5 s there even on empty tables), ``TRUNCATE`` on MariaDB (it
  also resets ``AUTO_INCREMENT``, which a ``DELETE`` plus ``ALTER TABLE`` does three times more
  slowly);
- id sequences (PostgreSQL) and ``AUTO_INCREMENT`` counters (MariaDB) start at 1 again, so the
  first experiment created in a test is experiment 1, as in a new database;
- the default workspace is inserted again when its table was emptied (a table holding only
  it is left alone);
- the default experiment (id 0, "Default") is inserted again.  A new store names its location
  after its artifact root, which only the store that opens the database first knows:
  :meth:`WorkerDatabase.opened` gives the row that location (``tests/conftest.py`` calls it
  from every ``SqlBackend`` opened on the database; the first after the reset counts).  Until
  then it is the location a store opened in the test's working folder without an artifact
  root would give it.
- connections that an earlier test left open on the database are closed first (as
  ``DROP DATABASE ... WITH (FORCE)`` did), so a leaked transaction cannot block the reset.

Tests that need a database with no schema at all (migrations, ``mltrail db upgrade``) use the
``fresh_*`` fixtures of ``tests/conftest.py``, which create and drop a new database each time.

Database names carry the worker id and a random suffix: several test sessions (several
checkouts) may share the servers.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MY_HOST",
    "MY_PORT",
    "PG_ADMIN",
    "PG_HOST",
    "PG_PORT",
    "WorkerDatabase",
    "create_mysql_database",
    "create_postgres_database",
    "drop_mysql_database",
    "drop_postgres_database",
    "new_database_name",
]

PG_HOST, PG_PORT = "127.0.0.1", 5432
MY_HOST, MY_PORT = "127.0.0.1", 3306
PG_ADMIN = f"host={PG_HOST} port={PG_PORT} dbname=test user=postgres"
DEFAULT_WORKSPACE_DESCRIPTION = "Default workspace for legacy resources"
# Tables a new store fills: a row other than these makes the table dirty (emptied, refilled).
_PRISTINE = {
    "workspaces": (
        "WHERE name <> 'default' OR description IS NULL "
        f"OR description <> '{DEFAULT_WORKSPACE_DESCRIPTION}' "
        "OR default_artifact_root IS NOT NULL OR trace_archival_location IS NOT NULL "
        "OR trace_archival_retention IS NOT NULL"
    )
}
ARTIFACTS_DIR_NAME = "mltrail-artifacts"  # a server store's artifact root: ./mltrail-artifacts


def new_database_name(worker: str = "") -> str:
    tag = f"{worker}_" if worker else ""
    return f"mltrail_{tag}{uuid.uuid4().hex[:10]}"


def _mysql_connect(database: str | None = None) -> Any:
    import pymysql

    return pymysql.connect(
        host=MY_HOST, port=MY_PORT, user="root", password="", database=database, autocommit=True
    )


def create_postgres_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_mysql_database(name: str) -> str:
    conn = _mysql_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    finally:
        conn.close()
    return f"mysql://root@{MY_HOST}:{MY_PORT}/{name}"


def drop_mysql_database(name: str) -> None:
    conn = _mysql_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


def _default_location(cwd: Path) -> str:
    return (cwd / ARTIFACTS_DIR_NAME).resolve().as_uri() + "/0"


@dataclass
class WorkerDatabase:
    """A database of one worker on one server (``kind`` is "postgres" or "mysql")."""

    kind: str
    name: str
    uri: str
    _conn: Any = None
    _tables: list[str] = field(default_factory=list)
    _location: str = ""
    _named = True  # experiment 0 has its first store's location

    @classmethod
    def create(cls, kind: str, worker: str) -> WorkerDatabase:
        from mltrail.store import open_auth_store
        from mltrail.store.sql import SqlBackend

        name = new_database_name(worker)
        uri = create_postgres_database(name) if kind == "postgres" else create_mysql_database(name)
        db = cls(kind, name, uri)
        try:
            SqlBackend(uri).close()  # the schema, exactly as a store builds it
            open_auth_store(uri).close()  # and the authentication schema beside it
            db._connect()
        except BaseException:
            db.drop()
            raise
        return db

    def _connect(self) -> None:
        if self.kind == "postgres":
            import psycopg

            self._conn = psycopg.connect(
                f"host={PG_HOST} port={PG_PORT} dbname={self.name} user=postgres", autocommit=True
            )
            # Foreign keys are triggers: off for this session, so tables empty in any order.
            self._conn.execute("SET session_replication_role = replica")
            rows = self._conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('alembic_version', 'auth_alembic_version') "
                "ORDER BY tablename"
            ).fetchall()
        else:
            self._conn = _mysql_connect(self.name)
            with self._conn.cursor() as cur:
                # As the store's own sessions: experiment 0 keeps its id.
                cur.execute(
                    "SET SESSION sql_mode = CONCAT_WS(',', @@sql_mode, 'NO_AUTO_VALUE_ON_ZERO')"
                )
                cur.execute("SET SESSION FOREIGN_KEY_CHECKS = 0")
                cur.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                    "AND table_name NOT IN ('alembic_version', 'auth_alembic_version') "
                    "ORDER BY table_name",
                    (self.name,),
                )
                rows = cur.fetchall()
        self._tables = [r[0] for r in rows]
        assert "experiments" in self._tables, self._tables
        assert "auth_users" in self._tables, self._tables

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.kind == "postgres":
            cursor = self._conn.execute(sql, params or None)
            return list(cursor.fetchall()) if cursor.description else []
        with self._conn.cursor() as cur:
            cur.execute(sql, params or None)
            return list(cur.fetchall()) if cur.description else []

    def _quote(self, name: str) -> str:
        return f'"{name}"' if self.kind == "postgres" else f"`{name}`"

    def _close_other_connections(self) -> None:
        if self.kind == "postgres":
            self._execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.name,),
            )
            return
        others = self._execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (self.name,),
        )
        for (pid,) in others:
            try:
                self._execute(f"KILL CONNECTION {int(pid)}")
            except Exception as exc:  # it ended meanwhile
                if "Unknown thread id" not in str(exc):
                    raise

    def reset(self, cwd: Path) -> None:
        """Empty the database back to a new store's state (see the module docstring)."""
        self._close_other_connections()
        q = self._quote
        holding = self._execute(
            " UNION ALL ".join(
                f"(SELECT '{t}' FROM {q(t)} {_PRISTINE.get(t, '')} LIMIT 1)" for t in self._tables
            )
        )
        dirty = {row[0] for row in holding}
        if self.kind == "postgres":
            sequences = self._execute(
                "SELECT sequencename FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
            statements = [f"DELETE FROM {q(t)}" for t in sorted(dirty)]
            statements += [f"ALTER SEQUENCE {q(s)} RESTART" for (s,) in sequences]
            if statements:
                with self._conn.transaction():
                    for statement in statements:
                        self._conn.execute(statement)
        else:
            counted = self._execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND auto_increment > 1",
                (self.name,),
            )
            dirty |= {row[0] for row in counted}
            for table in sorted(dirty):
                self._execute(f"TRUNCATE TABLE {q(table)}")
        if "workspaces" in dirty:  # emptied: the default workspace a new store has, again
            self._execute(
                "INSERT INTO workspaces (name, description) VALUES ('default', %s)",
                (DEFAULT_WORKSPACE_DESCRIPTION,),
            )
        now = int(time.time() * 1000)
        self._location = _default_location(cwd)
        self._named = False
        self._execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
            "creation_time, last_update_time) VALUES (0, 'Default', %s, 'active', %s, %s)",
            (self._location, now, now),
        )

    def opened(self, artifact_root: str) -> None:
        """A store with this artifact root opened the database: if it is the first since the
        reset, experiment 0 gets the location a new database opened by it would have."""
        if self._named:
            return
        self._named = True
        location = artifact_root.rstrip("/") + "/0"
        if location != self._location:
            self._execute(
                "UPDATE experiments SET artifact_location = %s "
                "WHERE experiment_id = 0 AND artifact_location = %s",
                (location, self._location),
            )
            self._location = location

    def drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.kind == "postgres":
            drop_postgres_database(self.name)
        else:
            drop_mysql_database(self.name)
