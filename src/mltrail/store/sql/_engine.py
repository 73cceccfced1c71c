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
from mltrail.store.sql._schema import HEAD_REVISION, metadata

__all__ = [
    "KNOWN_REVISIONS",
    "create_db_engine",
    "current_revision",
    "ensure_schema",
    "is_retryable",
    "normalize_db_uri",
    "read_transaction",
    "retrying",
    "sqlite_path",
    "write_transaction",
]

# Every revision in migrations/versions, oldest first.
KNOWN_REVISIONS = (
    "0001_initial",
    "0002_datasets",
    "0003_registry",
    "0004_logged_models",
    HEAD_REVISION,
)

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
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA case_sensitive_like = ON")
    cur.close()


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
    """Create a fresh database, or check that an existing one is at the head revision."""
    with engine.connect() as probe, probe.begin():
        revision = current_revision(probe)
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
    raise SchemaOutOfDate(
        f"The database at {_redact(uri)} has schema revision {revision!r}, unknown to this "
        "mltrail: it was created by a newer version; upgrade mltrail"
    )


def _redact(uri: str) -> str:
    """The URI without its password."""
    parts = urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return uri
