"""State and helpers shared by the SQL store's parts."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.exc import IntegrityError

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import LifecycleStage
from mltrail.entities._workspace import DEFAULT_WORKSPACE_NAME
from mltrail.store._workspace_base import active_workspace
from mltrail.store.sql._engine import read_transaction, retrying, write_transaction
from mltrail.store.sql._prepared import Prepared, bound
from mltrail.store.sql._schema import experiments_table, runs_table

__all__ = [
    "SqlContext",
    "insert_ignore_statement",
    "inserted_id",
    "is_integrity_error",
    "now_ms",
    "parse_experiment_id",
    "upsert_statement",
]

T = TypeVar("T")

_RUN_BY_UUID = Prepared(
    lambda _: select(runs_table).where(runs_table.c.run_uuid == bindparam("run_uuid"))
)
_RUN_BY_UUID_FOR_UPDATE = Prepared(
    lambda _: (
        select(runs_table).where(runs_table.c.run_uuid == bindparam("run_uuid")).with_for_update()
    )
)
_EXPERIMENT_BY_ID = Prepared(
    lambda _: select(experiments_table).where(
        experiments_table.c.experiment_id == bindparam("experiment_id")
    )
)

_EXPERIMENT_WORKSPACE = Prepared(
    lambda _: select(experiments_table.c.workspace).where(
        experiments_table.c.experiment_id == bindparam("experiment_id")
    )
)


def _dialect_insert(dialect: str) -> Any:
    """The dialect's own ``insert`` construct (its module is imported only when first used,
    so an SQLite user never loads the server dialects)."""
    name = "mysql" if dialect == "mariadb" else dialect
    return import_module(f"sqlalchemy.dialects.{name}").insert


@functools.lru_cache(maxsize=128)
def upsert_statement(
    table: Any,
    columns: tuple[str, ...],
    key_columns: tuple[str, ...],
    update_columns: tuple[str, ...],
) -> Prepared:
    """An INSERT of *columns* that updates *update_columns* on a key conflict."""

    def build(dialect: str) -> Any:
        values = bound(*columns)
        if dialect in ("sqlite", "postgresql"):
            stmt: Any = _dialect_insert(dialect)(table).values(**values)
            return stmt.on_conflict_do_update(
                index_elements=list(key_columns),
                set_={c: stmt.excluded[c] for c in update_columns},
            )
        stmt = _dialect_insert("mysql")(table).values(**values)
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in update_columns})

    return Prepared(build)


@functools.lru_cache(maxsize=32)
def insert_ignore_statement(table: Any, columns: tuple[str, ...]) -> Prepared:
    """An INSERT of *columns* that skips rows whose key already exists."""

    def build(dialect: str) -> Any:
        values = bound(*columns)
        if dialect in ("sqlite", "postgresql"):
            return _dialect_insert(dialect)(table).values(**values).on_conflict_do_nothing()
        stmt = _dialect_insert("mysql")(table).values(**values)
        first = next(iter(table.primary_key.columns)).name
        return stmt.on_duplicate_key_update({first: stmt.inserted[first]})

    return Prepared(build)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def inserted_id(result: Any) -> int:
    """The primary key an INSERT generated."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def parse_experiment_id(experiment_id: Any) -> int:
    try:
        value = int(str(experiment_id))
    except ValueError:
        raise InvalidArgument(
            f"Invalid experiment_id {experiment_id!r}: must be an integer id"
        ) from None
    if value < 0:
        raise InvalidArgument(f"Invalid experiment_id {experiment_id!r}: must not be negative")
    return value


class SqlContext:
    """What every part of the SQL store shares: the engine, its dialect, the default artifact
    root, the transaction helpers and the run and experiment look-ups."""

    def __init__(self, engine: Engine, artifact_root: str) -> None:
        self.engine = engine
        self.artifact_root = artifact_root
        self.dialect: str = engine.dialect.name
        #: Whether experiments, registered models and webhooks are scoped by the active
        #: workspace (``SqlWorkspaces.enable``).
        self.workspaces_enabled = False

    def workspace(self) -> str | None:
        """The workspace this call is scoped to, or None while workspaces are off."""
        return active_workspace() if self.workspaces_enabled else None

    def new_row_workspace(self) -> str:
        """The workspace a new experiment, registered model or webhook belongs to."""
        return self.workspace() or DEFAULT_WORKSPACE_NAME

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run *fn* in one write transaction, retried on lock contention."""

        def attempt() -> T:
            with write_transaction(self.engine) as conn:
                return fn(conn)

        return retrying(attempt)

    def read(self, fn: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with read_transaction(self.engine) as conn:
                return fn(conn)

        return retrying(attempt)

    def upsert(
        self,
        conn: Connection,
        table: Any,
        rows: Sequence[dict[str, Any]],
        key_columns: Sequence[str],
        update_columns: Sequence[str],
    ) -> None:
        """Insert rows, replacing *update_columns* where the key already exists."""
        if rows:
            stmt = upsert_statement(
                table, tuple(rows[0]), tuple(key_columns), tuple(update_columns)
            )
            stmt.execute_many(conn, rows)

    def run_row(self, conn: Connection, run_id: str, *, for_update: bool = False) -> Any:
        """The runs row of *run_id* (a named tuple of the table's columns)."""
        query = _RUN_BY_UUID_FOR_UPDATE if for_update and self.dialect != "sqlite" else _RUN_BY_UUID
        row = query.first(conn, {"run_uuid": run_id})
        if row is None or not self._in_workspace(conn, row.experiment_id):
            raise NotFound(f"Run with id={run_id} not found")
        return row

    def find_run_row(self, conn: Connection, run_id: str) -> Any:
        """The runs row of *run_id*, or None when this store (workspace) has no such run."""
        row = _RUN_BY_UUID.first(conn, {"run_uuid": run_id})
        if row is None or not self._in_workspace(conn, row.experiment_id):
            return None
        return row

    def _in_workspace(self, conn: Connection, experiment_id: int) -> bool:
        workspace = self.workspace()
        if workspace is None:
            return True
        found = _EXPERIMENT_WORKSPACE.first(conn, {"experiment_id": experiment_id})
        return found is not None and found.workspace == workspace

    def active_run_row(self, conn: Connection, run_id: str) -> Any:
        row = self.run_row(conn, run_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidArgument(
                f"The run {run_id} must be in the 'active' state; its current state is "
                f"'{row.lifecycle_stage}'"
            )
        return row

    def experiment_row(self, conn: Connection, experiment_id: Any) -> Any:
        eid = parse_experiment_id(experiment_id)
        row = _EXPERIMENT_BY_ID.first(conn, {"experiment_id": eid})
        workspace = self.workspace()
        if row is None or (workspace is not None and row.workspace != workspace):
            raise NotFound(f"No Experiment with id={experiment_id} exists")
        return row


def is_integrity_error(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError)
