"""Statements compiled once per dialect and run straight on the DBAPI cursor.

SQLAlchemy Core spends 100-300 µs of Python on every ``Connection.execute`` (cache key,
parameter set-up, result metadata) around a statement SQLite itself runs in 5-20 µs.  The
statements on the tracking server's hot paths (create a run, log metrics, read a run) are
fixed, so each is written once as a Core construct, compiled once per dialect, and then run
on the connection's DBAPI cursor inside the SQLAlchemy transaction that holds it.  Errors are
wrapped exactly as SQLAlchemy wraps them (``IntegrityError``, ``OperationalError``, ...), so
the retry and integrity handling around them does not change, and a dropped connection is
invalidated as it would be.

Only what compiles to plain SQL is accepted: no expanding ``IN`` lists and no literal-rendered
parameters (:class:`PreparedIn` covers ``IN`` lists by compiling one statement per length).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from sqlalchemy import Connection, Float, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

__all__ = ["IN_SLICE", "Prepared", "PreparedIn", "bound"]

Builder = Callable[[str], Any]
_new_tuple = tuple.__new__
#: The longest IN list sent in one statement (SQLite allows 32,766 parameters).
IN_SLICE = 500


def bound(*names: str) -> dict[str, Any]:
    """``values(**bound("a", "b"))``: each column set from the parameter of its name."""
    return {name: bindparam(name) for name in names}


class _Plan(NamedTuple):
    sql: str
    #: parameter names in placeholder order (positional paramstyles); None: pass a mapping
    order: tuple[str, ...] | None
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]
    #: result columns' processors by position (empty when every column is returned as is)
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    row: Any
    returning: bool
    #: values the statement's own bound parameters carry (a filter's literals)
    defaults: dict[str, Any]


def _compile(statement: Any, dialect: Dialect) -> _Plan:
    compiled: Any = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError(f"not a plain statement (expanding or literal parameters): {compiled}")
    binds = []
    for name, param in compiled.binds.items():
        process = param.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((name, process))
    results = []
    row_type: Any = None
    columns = getattr(statement, "selected_columns", None)
    returning = bool(getattr(compiled, "effective_returning", None))
    if columns is not None and not compiled.isinsert:
        names = []
        for i, column in enumerate(columns):
            names.append(column.key)
            if isinstance(column.type, Float):
                continue  # every supported driver returns double columns as float
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                results.append((i, process))
        row_type = namedtuple("Row", tuple(names), rename=True)  # type: ignore[misc,no-redef]
    order = tuple(compiled.positiontup) if dialect.positional else None
    defaults = {}
    for name, param in compiled.binds.items():
        if not param.required and param.effective_value is not None:
            defaults[name] = param.effective_value
    return _Plan(str(compiled), order, tuple(binds), tuple(results), row_type, returning, defaults)


def _arguments(plan: _Plan, params: Mapping[str, Any]) -> Any:
    if plan.defaults:
        params = {**plan.defaults, **params}
    if plan.binds:
        params = dict(params)
        for name, process in plan.binds:
            if name in params:
                params[name] = process(params[name])
    if plan.order is None:
        return params
    return tuple([params[name] for name in plan.order])


class Prepared:
    """One statement, built by ``build(dialect_name)`` and compiled the first time it runs."""

    __slots__ = ("_build", "_plans")

    def __init__(self, build: Builder) -> None:
        self._build = build
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _compile(self._build(dialect.name), dialect)
        return plan

    def _run(self, conn: Connection, params: Any, many: bool, fetch: int) -> Any:
        """Execute; *fetch*: 0 nothing, 1 one row, 2 every row, 3 the inserted key."""
        plan = self._plan(conn.dialect)
        if many:
            args: Any = [_arguments(plan, p) for p in params]
        else:
            args = _arguments(plan, params)
        if not conn.in_transaction():
            conn.begin()
        pooled = conn.connection
        cursor = pooled.cursor()
        try:
            if many:
                cursor.executemany(plan.sql, args)
            else:
                cursor.execute(plan.sql, args)
            if fetch == 3:
                return _first_value(cursor) if plan.returning else cursor.lastrowid
            if fetch == 1:
                found = cursor.fetchone()
                return None if found is None else self._row(plan, found)
            if fetch == 2:
                if plan.results:
                    return [self._row(plan, r) for r in cursor.fetchall()]
                # Named tuples made straight from C: no Python frame per row.
                return list(map(_new_tuple, repeat(plan.row), cursor.fetchall()))
            return cursor.rowcount
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, plan.sql, args, exc, cursor) from exc
        finally:
            cursor.close()

    @staticmethod
    def _row(plan: _Plan, found: Sequence[Any]) -> Any:
        if plan.results:
            values = list(found)
            for i, process in plan.results:
                values[i] = process(values[i])
            found = values
        return _new_tuple(plan.row, found)

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row (a named tuple) or None."""
        return self._run(conn, params or {}, False, 1)

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row, as named tuples."""
        rows: list[Any] = self._run(conn, params or {}, False, 2)
        return rows

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a write; the number of rows it matched (as the driver reports it)."""
        count: int = self._run(conn, params or {}, False, 0)
        return count

    def execute_many(self, conn: Connection, params: Iterable[Mapping[str, Any]]) -> None:
        items = list(params)
        if items:
            self._run(conn, items, True, 0)

    def insert(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT; the generated primary key (the builder adds ``RETURNING`` where the
        driver has no ``lastrowid``, i.e. on PostgreSQL)."""
        return int(self._run(conn, params, False, 3))


class PreparedIn:
    """A statement with one ``IN`` list, compiled once per list length (``build(dialect, n)``
    gets the length and names the list's parameters ``in_0`` ... ``in_<n-1>``)."""

    __slots__ = ("_build", "_by_length")

    def __init__(self, build: Callable[[str, int], Any]) -> None:
        self._build = build
        self._by_length: dict[int, Prepared] = {}

    @staticmethod
    def names(n: int) -> list[Any]:
        return [bindparam(f"in_{i}") for i in range(n)]

    def all(
        self, conn: Connection, values: Sequence[Any], params: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """The rows for *values*; a long list is asked in slices of :data:`IN_SLICE` (the
        rows of one value all come from the same slice, in the statement's order)."""
        rows: list[Any] = []
        for lo in range(0, len(values), IN_SLICE):
            part = values[lo : lo + IN_SLICE]
            args = dict(params or {})
            for i, value in enumerate(part):
                args[f"in_{i}"] = value
            rows += self._for_length(len(part)).all(conn, args)
        return rows

    def _for_length(self, n: int) -> Prepared:
        prepared = self._by_length.get(n)
        if prepared is None:
            if len(self._by_length) >= 256:
                self._by_length.clear()
            build = self._build
            prepared = self._by_length[n] = Prepared(lambda dialect: build(dialect, n))
        return prepared


def _first_value(cursor: Any) -> Any:
    found = cursor.fetchone()
    assert found is not None, "INSERT ... RETURNING returned no row"
    return found[0]


def _wrapped(conn: Connection, sql: str, args: Any, exc: Any, cursor: Any) -> BaseException:
    dialect = conn.dialect
    try:
        disconnect = bool(dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor))
    except Exception:  # pragma: no cover - a dialect's check failing on an odd error
        disconnect = False
    wrapped: BaseException = DBAPIError.instance(
        sql,
        args,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=disconnect,
        dialect=dialect,
    )
    if disconnect:
        conn.invalidate(wrapped)
    return wrapped
