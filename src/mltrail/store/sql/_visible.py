"""A search's :class:`~mltrail.store.Visibility` as a condition inside its SQL query.

An allow- or deny-list may hold tens of thousands of ids (a user with grants on 20,000
experiments).  A plain ``IN (?, ?, ...)`` of that size hits bound-parameter limits (SQLite:
32,766; PostgreSQL's protocol: 65,535) and gives every length its own statement text, and
splitting it over several statements would break paging.  So the ids travel as **one**
value, which the database unpacks inside the query:

- SQLite: ``col IN (SELECT value FROM json_each(?))``, a JSON array bound as one
  parameter; SQLite reads it once into an ephemeral index and probes that per row.
- MariaDB/MySQL: ``col IN (SELECT ids.id FROM JSON_TABLE(%s, '$[*]' COLUMNS (...)) ids)``,
  likewise (the subquery is materialized once).
- PostgreSQL: ``col = ANY('{...}'::BIGINT[])`` (``<> ALL`` to deny), the array written into
  the statement as one literal when it runs.  A constant array is hashed once and probed per
  row (PostgreSQL 14+, ``<> ALL`` 15+) whatever the row estimates say.  A set-returning
  function in a subquery, as on the others, is estimated at 100 rows whatever its length:
  with a low estimate of the outer rows PostgreSQL picks a nested loop that reads the whole
  list once per row (measured: 34 s for 10,000 experiments and 20,000 ids); and a bound
  array parameter is not hashed once psycopg prepares the statement (generic plans).

The statement's text does not depend on the ids on SQLite and MariaDB (cached plans, and
the registry's compiled first-page statements, keep working), and on PostgreSQL SQLAlchemy
caches the compiled form and writes the literal in at execution.  A temporary table would
cost DDL and an INSERT per search, and session state on pooled connections.

The lists hold no NULLs and the columns are NOT NULL, so ``NOT IN`` means what it says.
Ids that cannot match a row are left out of a list (an experiment id that is not a number of
at most 18 digits, a name longer than its column), so that the database never meets a value
its column type cannot hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BindParameter, Boolean, ColumnElement, String, and_, bindparam, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType
from sqlalchemy.types import TypeDecorator

from mltrail.store._visibility import LoggedModelVisibility, Visibility

__all__ = [
    "IdsIn",
    "IdsType",
    "encode_ids",
    "ids_in",
    "ids_param",
    "logged_model_visibility",
    "visibility_condition",
    "visible_ids",
]

#: Experiment ids are BIGINTs: at most 18 decimal digits (as the server checks).
_MAX_ID_DIGITS = 18


def _numbers(ids: Iterable[str]) -> list[str]:
    out = []
    for i in ids:
        if 0 < len(i) <= _MAX_ID_DIGITS and i.isascii() and i.isdigit():
            out.append(i if len(i) == 1 or i[0] != "0" else str(int(i)))
    return out


def _pg_element(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_ids(ids: Iterable[str], length: int | None, dialect: str) -> str:
    """*ids* as the one value a statement carries: a PostgreSQL array's text on PostgreSQL,
    else a JSON array; integer ids (*length* None) as numbers, string ids of at most
    *length* characters."""
    if length is None:
        numbers = _numbers(ids)
        if dialect == "postgresql":
            return "{" + ",".join(numbers) + "}"
        return "[" + ",".join(numbers) + "]"
    names = [i for i in ids if len(i) <= length]
    if dialect == "postgresql":
        return "{" + ",".join(map(_pg_element, names)) + "}"
    return json.dumps(names, ensure_ascii=False, separators=(",", ":"))


class IdsType(TypeDecorator[Any]):
    """A set of ids, sent as :func:`encode_ids` gives it for the dialect."""

    impl = String
    cache_ok = True

    def __init__(self, length: int | None) -> None:
        super().__init__()
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return encode_ids(value, self.length, dialect.name)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        return encode_ids(value, self.length, dialect.name)


class IdsIn(ColumnElement[bool]):
    """``column [NOT] IN`` the ids bound to *param* (a parameter of :class:`IdsType`);
    *length* is the longest string id the column holds, None for integer ids."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is, never ``(...) = 1`` on SQLite
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (SQLAlchemy's own form)
        ("column", InternalTraversal.dp_clauseelement),
        ("param", InternalTraversal.dp_clauseelement),
        ("negated", InternalTraversal.dp_boolean),
        ("length", InternalTraversal.dp_plain_obj),
    ]

    def __init__(
        self,
        column: ColumnElement[Any],
        param: BindParameter[Any],
        negated: bool,
        length: int | None,
    ) -> None:
        self.column = column
        self.param = param
        self.negated = negated
        self.length = length


def _in(element: IdsIn, compiler: SQLCompiler, subquery: str, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} {'NOT IN' if element.negated else 'IN'} ({subquery})"


@compiles(IdsIn)
def _sqlite(element: IdsIn, compiler: SQLCompiler, **kw: Any) -> str:
    param = compiler.process(element.param, **kw)
    return _in(element, compiler, f"SELECT value FROM json_each({param})", **kw)


@compiles(IdsIn, "mysql")
@compiles(IdsIn, "mariadb")
def _mysql(element: IdsIn, compiler: SQLCompiler, **kw: Any) -> str:
    param = compiler.process(element.param, **kw)
    if element.length is None:
        kind = "BIGINT"
    else:
        kind = f"VARCHAR({element.length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    table = f"JSON_TABLE({param}, '$[*]' COLUMNS (id {kind} PATH '$')) AS ids"
    return _in(element, compiler, f"SELECT ids.id FROM {table}", **kw)


@compiles(IdsIn, "postgresql")
def _postgresql(element: IdsIn, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    literal = compiler.process(element.param, **{**kw, "literal_execute": True})
    kind = "BIGINT[]" if element.length is None else "TEXT[]"
    test = "<> ALL" if element.negated else "= ANY"
    return f"{column} {test} (CAST({literal} AS {kind}))"


def ids_param(
    name: str, length: int | None, ids: Iterable[str] | None = None
) -> BindParameter[Any]:
    """A parameter carrying a set of ids (*ids* None: given when the statement runs)."""
    if ids is None:
        return bindparam(name, type_=IdsType(length))
    return bindparam(name, frozenset(ids), type_=IdsType(length), unique=True)


def ids_in(
    column: ColumnElement[Any], param: BindParameter[Any], *, negated: bool, length: int | None
) -> ColumnElement[bool]:
    """*column* in the ids of *param* (not in them when *negated*)."""
    return IdsIn(column, param, negated, length)


def visible_ids(visible: Visibility | None) -> tuple[frozenset[str], bool] | None:
    """What a query checks of *visible*: the visible ids (False) or the hidden ones (True);
    None when every id is visible."""
    if visible is None or visible.is_everything:
        return None
    only = visible.only
    return (only, False) if only is not None else (visible.denied, True)


def visibility_condition(
    column: ColumnElement[Any], visible: Visibility | None, length: int | None = None
) -> ColumnElement[bool] | None:
    """The condition that keeps the rows whose *column* (an experiment id when *length* is
    None, else a string id of at most *length* characters) *visible* admits; None when it
    admits every row."""
    found = visible_ids(visible)
    if found is None:
        return None
    ids, negated = found
    param = ids_param("invisible" if negated else "visible", length, ids)
    return ids_in(column, param, negated=negated, length=length)


def logged_model_visibility(
    model_id: ColumnElement[Any],
    experiment_id: ColumnElement[Any],
    visible: LoggedModelVisibility | None,
    length: int,
) -> ColumnElement[bool] | None:
    """The condition of :class:`~mltrail.store.LoggedModelVisibility` on a logged model's
    *model_id* and *experiment_id* columns; None when it admits every model."""
    if visible is None or visible.is_everything:
        return None
    terms: list[ColumnElement[bool]] = []
    experiments = visibility_condition(experiment_id, visible.experiments)
    if experiments is not None:
        terms.append(experiments)
    granted = visible.granted - visible.denied
    if granted and experiments is not None:
        param = ids_param("granted_models", length, granted)
        terms = [or_(ids_in(model_id, param, negated=False, length=length), *terms)]
    if visible.denied:
        param = ids_param("denied_models", length, visible.denied)
        terms.append(ids_in(model_id, param, negated=True, length=length))
    return and_(*terms)
