"""``mltrail db upgrade``: bring an older database to the current schema, all or nothing.

All pending Alembic revisions run in one transaction: on SQLite and PostgreSQL a failure leaves
the database exactly as it was.  MariaDB/MySQL commit each DDL statement implicitly, so there
a backup first is the only safe path (the command says so).  An SQLite file is copied beside
itself (``<file>.bak-<revision>``) through SQLite's online backup before anything changes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from mltrail._exceptions import MltrailError, NotFound
from mltrail.store._foreign import folder_uri_error
from mltrail.store.sql._backend import SqlBackend
from mltrail.store.sql._engine import (
    KNOWN_REVISIONS,
    current_revision,
    open_checked_engine,
    sqlite_path,
    unknown_revision_error,
)
from mltrail.store.sql._probe import refuse_mlflow_database
from mltrail.store.sql._schema import HEAD_REVISION, metadata

__all__ = ["UpgradeResult", "upgrade_database"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class UpgradeResult:
    from_revision: str | None
    to_revision: str
    backup_path: str | None


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _backup_sqlite(path: str, revision: str) -> str:
    target = f"{path}.bak-{revision}"
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    """Run *pragma* on the driver connection, outside any transaction (SQLAlchemy would begin
    one around a statement it runs itself)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute(pragma)


def run_migrations(engine: Engine, target: str = "head") -> None:
    """Run Alembic up to *target* in one transaction on *engine*."""
    config = _alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds an SQLite table (copy, drop, rename): with foreign keys
            # on, dropping the old table would cascade to its child rows.  The pragma is set
            # outside the transaction (SQLite ignores it inside one), and checked after.
            _sqlite_pragma(conn, "PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                config.attributes["connection"] = conn
                command.upgrade(config, target)
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise MltrailError("The upgrade would break foreign keys: nothing changed")
        finally:
            if sqlite:
                _sqlite_pragma(conn, "PRAGMA foreign_keys = ON")


def upgrade_database(
    uri: str, *, backup: bool = True, before_migrating: Callable[[], None] | None = None
) -> UpgradeResult:
    """Upgrade the database at *uri* to this mltrail's schema.

    *before_migrating* is called once the database is known to be an older mltrail schema,
    right before anything changes (the CLI warns about MariaDB there).  MLflow's databases and
    folders are refused first, untouched.
    """
    if uri[:5].lower() == "file:":  # what an MLflow folder resolves to: never opened
        raise folder_uri_error(uri)
    path = sqlite_path(uri) if uri.startswith("sqlite") else None
    if path is not None and not os.path.exists(path):
        raise NotFound(f"No SQLite database at {path}: nothing to upgrade")
    engine = open_checked_engine(uri)  # an MLflow SQLite file is refused unwritten
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
            if revision != HEAD_REVISION:
                refuse_mlflow_database(conn, uri, revision)
            has_tables = any(conn.dialect.has_table(conn, t.name) for t in metadata.sorted_tables)
        if revision == HEAD_REVISION:
            return UpgradeResult(revision, HEAD_REVISION, None)
        if revision is None and has_tables:
            raise MltrailError(
                "The database has tables but no mltrail schema version: it is not an mltrail "
                "database, and mltrail will not change it"
            )
        if revision is None:
            SqlBackend(uri).close()  # a new database: created at the head revision
            return UpgradeResult(None, HEAD_REVISION, None)
        if revision not in KNOWN_REVISIONS:
            raise unknown_revision_error(uri, revision)
        if before_migrating is not None:
            before_migrating()
        backup_path = _backup_sqlite(path, revision) if backup and path else None
        run_migrations(engine)
    finally:
        engine.dispose()
    backend = SqlBackend(uri)
    try:
        backend.experiments.ensure_default_experiment()
    finally:
        backend.close()
    return UpgradeResult(revision, HEAD_REVISION, backup_path)
