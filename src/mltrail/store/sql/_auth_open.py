"""Opening an auth database: its schema created, upgraded or refused, apart from tracking's.

The auth schema has an Alembic chain of its own (``auth_migrations``, revisions
``auth_<NNNN>_<name>``, version in ``auth_alembic_version``), so the same code serves a
database of its own and the tracking database, whatever revision the tracking schema is at.
Unlike the tracking schema, which waits for ``mltrail db upgrade``, the auth schema is brought
to this mltrail's head when it is opened (it is small, and the server cannot authenticate
anyone without it):

- a fresh database gets ``auth_metadata``'s tables and the head's version row, without
  loading Alembic (a test checks that the chain builds exactly those tables);
- an older auth revision is upgraded, under a lock, so that several server processes starting
  at once upgrade it once (an advisory lock on PostgreSQL, ``GET_LOCK`` on MariaDB/MySQL,
  ``BEGIN IMMEDIATE`` on SQLite); on SQLite and PostgreSQL in one transaction;
- a revision this mltrail does not know (a newer mltrail's) is refused, as are ``auth_``
  tables without a version, MLflow's tracking databases and MLflow's own authentication
  database (``alembic_version_auth``): mltrail never changes MLflow's stores.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)

from mltrail._exceptions import (
    InvalidArgument,
    MltrailError,
    SchemaOutOfDate,
    TemporarilyUnavailable,
)
from mltrail.store._foreign import redact
from mltrail.store.sql._auth import SqlAuthStore
from mltrail.store.sql._auth_schema import (
    AUTH_HEAD_REVISION,
    AUTH_PREFIX,
    AUTH_VERSION_TABLE,
    auth_metadata,
)
from mltrail.store.sql._engine import (
    current_revision,
    normalize_db_uri,
    open_checked_engine,
    read_transaction,
    sqlite_path,
)
from mltrail.store.sql._probe import read_sqlite_schema, refuse_mlflow_database

__all__ = ["AUTH_MIGRATIONS_DIR", "auth_revision", "ensure_auth_schema", "open_auth_store"]

AUTH_MIGRATIONS_DIR = Path(__file__).with_name("auth_migrations")
#: How the auth chain names its revisions (a newer mltrail's too).
_AUTH_REVISION = re.compile(r"auth_\d{4}_\w+")
#: The version table of MLflow's ``basic-auth`` database.
_MLFLOW_AUTH_VERSION_TABLE = "alembic_version_auth"
_PG_LOCK = 7263411  # the tracking schema's creation takes 7263410
_MYSQL_LOCK = "mltrail_auth_schema"
_LOCK_WAIT = 120  # seconds


def auth_revision(conn: Connection) -> str | None:
    """The auth schema's revision in the database; None when it has none."""
    if not conn.dialect.has_table(conn, AUTH_VERSION_TABLE):
        return None
    row = conn.execute(text(f"SELECT version_num FROM {AUTH_VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def _mlflow_auth_error(uri: str) -> InvalidArgument:
    return InvalidArgument(
        f"The database at {redact(uri)} is MLflow's authentication database (it has "
        f"{_MLFLOW_AUTH_VERSION_TABLE}): mltrail keeps its users in tables of its own and does "
        "not change MLflow's stores. Use another database for mltrail's users (by default they "
        "live in the tracking database)"
    )


def _refuse_foreign(conn: Connection, uri: str, *, strays: bool = True) -> None:
    """Refuse MLflow's databases and (with *strays*) ``auth_`` tables that no auth revision
    accounts for.  Strays are only judged under the schema lock: on MariaDB each CREATE TABLE
    commits at once, so another process creating the schema shows its tables before its
    version row."""
    refuse_mlflow_database(conn, uri, current_revision(conn))
    tables = inspect(conn).get_table_names()
    if _MLFLOW_AUTH_VERSION_TABLE in tables:
        raise _mlflow_auth_error(uri)
    if not strays:
        return
    stray = sorted(t for t in tables if t.startswith(AUTH_PREFIX) and t != AUTH_VERSION_TABLE)
    if stray:
        raise MltrailError(
            f"The database at {redact(uri)} has authentication tables ({stray[0]}, ...) but no "
            "auth schema version: they are not mltrail's, and mltrail will not change them"
        )


def _unknown_revision(uri: str, revision: str) -> MltrailError:
    if _AUTH_REVISION.fullmatch(revision):
        return SchemaOutOfDate(
            f"The database at {redact(uri)} has auth schema revision {revision!r}, unknown to "
            "this mltrail: a newer mltrail created it; upgrade mltrail to open it"
        )
    return MltrailError(
        f"The database at {redact(uri)} has auth schema revision {revision!r}, not one of "
        "mltrail's: mltrail will not change it"
    )


@contextlib.contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A write transaction that one process at a time holds to create or upgrade the schema.

    PostgreSQL's advisory lock ends with the transaction; MariaDB's ``GET_LOCK`` belongs to
    the session, so it is taken before the transaction and released after its commit (never
    while another process could still miss the new version row); SQLite's ``BEGIN
    IMMEDIATE`` is the lock.
    """
    with engine.connect() as base:
        conn = base.execution_options(mltrail_write=True)
        mysql = conn.dialect.name in ("mysql", "mariadb")
        if mysql:
            got = conn.execute(
                text("SELECT GET_LOCK(:name, :wait)"), {"name": _MYSQL_LOCK, "wait": _LOCK_WAIT}
            ).scalar()
            conn.commit()
            if got != 1:
                raise TemporarilyUnavailable(
                    f"Another process has been creating or upgrading the auth schema for "
                    f"{_LOCK_WAIT} s: try again once it is done"
                )
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
                yield conn
        finally:
            if mysql:
                conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _MYSQL_LOCK})
                conn.commit()


def ensure_auth_schema(
    engine: Engine, uri: str, migrations: Path = AUTH_MIGRATIONS_DIR
) -> tuple[str | None, str]:
    """Bring the auth schema of *engine*'s database to the head of the chain in *migrations*:
    the revision it had (None: none) and the one it has now.

    With mltrail's own chain, a database at its head or a fresh one costs no Alembic: the
    fresh one gets ``auth_metadata``'s tables and the head's version row (what the chain
    builds, a test checks); Alembic loads only to upgrade an older schema.
    """
    own = migrations == AUTH_MIGRATIONS_DIR
    with read_transaction(engine) as probe:
        revision = auth_revision(probe)
        if revision is None:
            _refuse_foreign(probe, uri, strays=False)
    if own and revision == AUTH_HEAD_REVISION:
        return revision, revision
    if own and revision is None:
        with _schema_lock(engine) as conn:
            revision = auth_revision(conn)  # another process may have got there first
            if revision is None:
                _refuse_foreign(conn, uri)
                auth_metadata.create_all(conn)
                _version_table().create(conn)
                conn.execute(_version_table().insert(), {"version_num": AUTH_HEAD_REVISION})
                return None, AUTH_HEAD_REVISION
    return _migrate(engine, uri, migrations, revision)


def _version_table() -> Table:
    """Alembic's version table, as Alembic makes it, under the auth schema's name."""
    return Table(
        AUTH_VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{AUTH_VERSION_TABLE}_pkc"),
    )


def _migrate(
    engine: Engine, uri: str, migrations: Path, revision: str | None
) -> tuple[str | None, str]:
    """Upgrade through Alembic (loaded here: only an older schema or another chain needs it)."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations))
    head = script.get_current_head()
    assert head is not None, f"no revision in {migrations}"
    known = {s.revision for s in script.walk_revisions()}
    if revision == head:
        return revision, head
    if revision is not None and revision not in known:
        raise _unknown_revision(uri, revision)
    with _schema_lock(engine) as conn:
        revision = auth_revision(conn)  # another process may have got there first
        if revision is None:
            _refuse_foreign(conn, uri)
        elif revision not in known:
            raise _unknown_revision(uri, revision)
        if revision != head:
            config = Config()
            config.set_main_option("script_location", str(migrations))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return revision, head


def open_auth_store(uri: str) -> SqlAuthStore:
    """The auth store of the SQL database at *uri*, its schema created or upgraded first.

    An SQLite file is read without a byte written before anything else, and refused if it is
    MLflow's (its tracking or its authentication database).
    """
    normalized = normalize_db_uri(uri)
    path = sqlite_path(normalized) if normalized.startswith("sqlite") else None
    if path is not None:
        schema = read_sqlite_schema(path)
        if schema is not None and _MLFLOW_AUTH_VERSION_TABLE in schema[1]:
            raise _mlflow_auth_error(uri)
    engine = open_checked_engine(uri)  # an MLflow tracking SQLite file is refused unwritten
    try:
        ensure_auth_schema(engine, uri)
    except BaseException:
        engine.dispose()
        raise
    return SqlAuthStore(engine)
