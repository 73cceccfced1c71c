"""What an existing database is, read before mltrail writes anything to it.

An SQLite file is read through its own read-only connection before an engine opens it: the
engine's connections switch the file to WAL (a write), and an MLflow database must keep every
byte.  ``mode=ro`` creates no journal; a WAL database whose ``-wal`` file is absent is read
``immutable`` too, since a read-only connection would otherwise create ``-wal`` and ``-shm``
beside it (with no ``-wal`` file, the main file holds every committed change).  PostgreSQL and
MariaDB are read on the engine's first connection, before the schema is created or locked.
"""

from __future__ import annotations

import os
import sqlite3
import time
from urllib.parse import quote

from sqlalchemy import Connection, inspect

from mltrail._exceptions import MltrailError
from mltrail.store._foreign import describe_mlflow_database, mlflow_database_error

__all__ = ["read_sqlite_schema", "refuse_mlflow_database", "refuse_mlflow_sqlite"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_VERSION = 2  # the file format bytes (18, 19) of a database in WAL mode
_ATTEMPTS = 3


def _read_only_uri(path: str) -> str:
    with open(path, "rb") as f:
        header = f.read(100)
    wal = len(header) == 100 and header[18] == _WAL_VERSION
    immutable = wal and not os.path.exists(path + "-wal")
    return f"file:{quote(path)}?mode=ro" + ("&immutable=1" if immutable else "")


def _sqlite_schema(path: str) -> tuple[str | None, set[str]] | None:
    """The Alembic revision and tables of the SQLite file at *path*; None if it is empty or
    not an SQLite database (the engine reports that as it always has).

    An ``immutable`` read can meet a checkpoint that another process's mltrail is writing
    into the file at that moment: the probe is then read again (the ``-wal`` file that
    process made now exists, so the second read is an ordinary read-only one).
    """
    with open(path, "rb") as f:
        if f.read(16) != _SQLITE_MAGIC:
            return None
    for attempt in range(_ATTEMPTS):
        try:
            return _read_schema(_read_only_uri(path))
        except sqlite3.Error as exc:
            if attempt == _ATTEMPTS - 1:
                raise MltrailError(f"Cannot read the SQLite database at {path}: {exc}") from None
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _read_schema(uri: str) -> tuple[str | None, set[str]]:
    conn = sqlite3.connect(uri, uri=True, timeout=60)
    try:
        tables = {
            str(row[0])
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = None if row is None else str(row[0])
        return revision, tables
    finally:
        conn.close()


def read_sqlite_schema(path: str) -> tuple[str | None, set[str]] | None:
    """The tracking revision and the tables of the SQLite file at *path*, read without a byte
    written; None when there is no such file, or it is empty or not an SQLite database."""
    return _sqlite_schema(path) if os.path.isfile(path) else None


def refuse_mlflow_sqlite(uri: str, path: str | None) -> None:
    """Raise the MLflow-store error if the SQLite file at *path* is MLflow's (no byte written)."""
    if path is None or not os.path.isfile(path):
        return
    schema = _sqlite_schema(path)
    if schema is None:
        return
    description = describe_mlflow_database(*schema)
    if description is not None:
        raise mlflow_database_error(uri, description, path)


def refuse_mlflow_database(conn: Connection, uri: str, revision: str | None) -> None:
    """Raise the MLflow-store error if the database behind *conn* is MLflow's (reads only)."""
    tables = set(inspect(conn).get_table_names())
    description = describe_mlflow_database(revision, tables)
    if description is not None:
        database = conn.engine.url.database if conn.dialect.name == "sqlite" else None
        path = os.path.abspath(database) if database and database != ":memory:" else None
        raise mlflow_database_error(uri, description, path)
