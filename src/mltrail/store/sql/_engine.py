"""Engines for SQLite, PostgreSQL and MariaDB/MySQL, and the schema check at open.

SQLite is tuned for many concurrent writers: WAL, a long busy timeout, and ``BEGIN IMMEDIATE``
for write transactions so a reader never has to upgrade its lock (the source of most
"database is locked" errors).  A fresh database is created in one transaction and stamped
with the Alembic head; an older schema is refused until ``mltrail db upgrade`` runs.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from mltrail._exceptions import InvalidArgument, MltrailError, SchemaOutOfDate
from mltrail._optional import missing_dependency
from mltrail.store._foreign import folder_uri_error, mlflow_folder_kind
from mltrail.store._foreign import redact as _redact
from mltrail.store.sql._probe import refuse_mlflow_database, refuse_mlflow_sqlite
from mltrail.store.sql._schema import HEAD_REVISION, metadata

__all__ = [
    "KNOWN_REVISIONS",
    "create_db_engine",
    "current_revision",
    "ensure_schema",
    "is_retryable",
    "normalize_db_uri",
    "open_checked_engine",
    "read_transaction",
    "retrying",
    "sqlite_path",
    "unknown_revision_error",
    "write_transaction",
]

# Every revision in migrations/versions, oldest first.
KNOWN_REVISIONS = (
    "0001_initial",
    "0002_datasets",
    "0003_registry",
    "0004_logged_models",
    "0005_import_ledger",
    HEAD_REVISION,
)
# How mltrail names its revisions (a newer mltrail's too): "0004_logged_models".
_MLTRAIL_REVISION = re.compile(r"\d{4}_\w+")

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}

T = TypeVar("T")


def normalize_db_uri(uri: str) -> str:
    """Pick our default driver when the URI names none (``postgresql://`` -> psycopg 3)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise InvalidArgument(f"Invalid database URI '{uri}': expected scheme://...")
    if scheme in _DRIVERS:
        return f"{_DRIVERS[scheme]}://{rest}"
    if scheme.split("+")[0] in ("sqlite", "postgresql", "mysql", "mariadb"):
        return uri
    raise InvalidArgument(
        f"Unsupported database URI scheme '{scheme}': use sqlite, postgresql, mysql or mariadb"
    )


#: How long a connection keeps retrying its switch to WAL (the busy timeout's length).
_WAL_SWITCH_WAIT = 60.0


def sqlite_path(uri: str) -> str | None:
    """The file path of an ``sqlite:///`` URI; None for in-memory databases."""
    path = urlsplit(uri).path if uri.startswith("sqlite") else ""
    if uri.startswith("sqlite:////"):
        return "/" + uri[len("sqlite:////") :]
    if uri.startswith("sqlite:///"):
        rest = uri[len("sqlite:///") :]
        return None if rest in ("", ":memory:") else os.path.abspath(rest.split("?")[0])
    return path or None


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun explicitly (see _on_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 60000")
    _switch_to_wal(cur)
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA case_sensitive_like = ON")
    cur.close()


def _switch_to_wal(cur: Any) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the file.

    SQLite answers a journal-mode change (and a first read while the last connection of a WAL
    file cleans up) with "database is locked" at once, without its busy handler: several
    processes opening a fresh file together would otherwise fail.
    """
    deadline = time.monotonic() + _WAL_SWITCH_WAIT
    delay = 0.002
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.1)


def _on_sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("mltrail_write", False)
    # Straight on the sqlite3 connection: SQLAlchemy's execution path costs more than BEGIN.
    # Its errors (a lock held past the busy timeout) are wrapped as SQLAlchemy's would be, for
    # `retrying`.
    statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
    dbapi_conn: Any = conn.connection.dbapi_connection
    try:
        dbapi_conn.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, (), exc, sqlite3.Error, dialect=conn.dialect) from exc


def create_db_engine(uri: str) -> Engine:
    url = normalize_db_uri(uri)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 60, "check_same_thread": False}}
        if path is None:
            kwargs["poolclass"] = StaticPool
        elif not os.path.isdir(os.path.dirname(path) or "."):
            raise InvalidArgument(
                f"The folder {os.path.dirname(path)} of the SQLite database {path} does not "
                "exist: create it first (a folder tracking URI such as ./folder is created)"
            )
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    try:  # SQLAlchemy imports the driver (psycopg, pymysql) here
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=3600
        )
    except ModuleNotFoundError as exc:
        raise missing_dependency(exc) from None
    if engine.dialect.name in ("mysql", "mariadb"):
        event.listen(engine, "connect", _on_mysql_connect)
    return engine


def _on_mysql_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # Let the default experiment keep id 0; make writes strict rather than truncating.
    cur.execute(
        "SET SESSION sql_mode = CONCAT_WS(',', @@sql_mode, 'NO_AUTO_VALUE_ON_ZERO', "
        "'STRICT_ALL_TABLES')"
    )
    cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    cur.close()


def is_retryable(exc: BaseException) -> bool:
    """Lock contention and deadlocks that a fresh attempt resolves."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    msg = str(exc.orig).lower()
    return any(
        s in msg
        for s in (
            "database is locked",
            "database is busy",
            "deadlock",
            "lock wait timeout",
            "could not serialize",
            "server has gone away",
            "lost connection",
        )
    )


def retrying(fn: Callable[[], T], attempts: int = 8) -> T:
    """Run *fn*, retrying transient lock and connection errors with jittered backoff."""
    delay = 0.02
    for attempt in range(attempts):
        try:
            return fn()
        except (OperationalError, DBAPIError) as exc:
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
    with engine.connect() as conn:
        conn = conn.execution_options(mltrail_write=True)
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def current_revision(conn: Connection) -> str | None:
    if not conn.dialect.has_table(conn, "alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _lock_schema(conn: Connection) -> None:
    name = conn.dialect.name
    if name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7263410)"))
    elif name in ("mysql", "mariadb"):
        conn.execute(text("SELECT GET_LOCK('mltrail_schema', 120)"))


def ensure_schema(engine: Engine, uri: str, on_create: Callable[[Connection], None]) -> None:
    """Create a fresh database, or check that an existing one is at the head revision.

    An MLflow database is refused before anything is written or locked (an SQLite file was
    read before the engine opened it: see :func:`open_checked_engine`).
    """
    with engine.connect() as probe, probe.begin():
        revision = current_revision(probe)
        if revision != HEAD_REVISION:
            refuse_mlflow_database(probe, uri, revision)
    if revision == HEAD_REVISION:
        return
    if revision is None:
        with write_transaction(engine) as conn:
            _lock_schema(conn)
            if current_revision(conn) is None:
                existing = [
                    t for t in metadata.sorted_tables if conn.dialect.has_table(conn, t.name)
                ]
                if existing:
                    raise MltrailError(
                        f"The database at {_redact(uri)} has tables ({existing[0].name}, ...) "
                        "but no mltrail schema version: it is not an mltrail database"
                    )
                metadata.create_all(conn)
                conn.execute(
                    text(
                        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                    )
                )
                conn.execute(
                    text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                    {"v": HEAD_REVISION},
                )
                on_create(conn)
            revision = current_revision(conn)
        if revision == HEAD_REVISION:
            return
    if revision in KNOWN_REVISIONS:
        raise SchemaOutOfDate(
            f"The database at {_redact(uri)} has schema revision {revision}, older than this "
            f"mltrail's {HEAD_REVISION}. Back it up, then run: mltrail db upgrade '{_redact(uri)}'"
        )
    raise unknown_revision_error(uri, revision)


def unknown_revision_error(uri: str, revision: str | None) -> MltrailError:
    """A revision neither this mltrail's nor MLflow's: a newer mltrail's, or someone else's."""
    if revision is not None and _MLTRAIL_REVISION.fullmatch(revision):
        return SchemaOutOfDate(
            f"The database at {_redact(uri)} has schema revision {revision!r}, unknown to this "
            "mltrail: a newer mltrail created it; upgrade mltrail to open it"
        )
    return MltrailError(
        f"The database at {_redact(uri)} has schema revision {revision!r}, neither an mltrail "
        "nor an MLflow schema: it is not an mltrail database, and mltrail will not change it"
    )


def open_checked_engine(uri: str) -> Engine:
    """The engine of *uri*, once an existing SQLite file is known not to be MLflow's.

    The engine's connections switch SQLite to WAL, a write: an MLflow file is read through
    a read-only connection first and refused (the other databases are checked by
    :func:`ensure_schema` on the engine's first, read-only, connection).  A new SQLite file
    is not created inside an MLflow folder (``mlruns``) either.
    """
    normalized = normalize_db_uri(uri)
    path = sqlite_path(normalized) if normalized.startswith("sqlite") else None
    if path is not None:
        folder = os.path.dirname(path)
        if not os.path.exists(path) and mlflow_folder_kind(folder) is not None:
            raise folder_uri_error(folder)  # a new file inside MLflow's folder: none made
        refuse_mlflow_sqlite(uri, path)
    return create_db_engine(uri)
