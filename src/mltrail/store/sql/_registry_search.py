"""Searching registered models and model versions: filters, sort orders, keyset pages.

Filters use the tracking search grammar (``AND``, ``OR``, ``NOT``, parentheses, ``IN``,
``LIKE``/``ILIKE``); tag conditions are ``id IN (subquery)`` so that they compose freely and
use the (key, value) indexes.  Pages are keyset pages: a token holds the last row's sort values.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, not_, or_, select

from mltrail._exceptions import InvalidArgument
from mltrail.entities import ModelVersion, RegisteredModel
from mltrail.entities._registry import canonical_stage
from mltrail.search import And, Comparison, Expr, Not, Or, parse_filter, parse_order_by
from mltrail.store._base import PagedList
from mltrail.store._visibility import Visibility
from mltrail.store.sql._codec import decode_token, encode_token
from mltrail.store.sql._filters import _compare
from mltrail.store.sql._paging import SortColumn, after_condition, order_clauses
from mltrail.store.sql._prepared import Prepared
from mltrail.store.sql._registry_core import ENTITY_COLUMNS, VERSION_FLAGS, RegistryCore
from mltrail.store.sql._registry_schema import (
    model_version_tags_table,
    model_versions_table,
    registered_model_tags_table,
    registered_models_table,
)
from mltrail.store.sql._visible import ids_in, ids_param, visible_ids
from mltrail.validation import validate_max_results

__all__ = [
    "MAX_MODEL_VERSIONS_RESULTS",
    "MAX_REGISTERED_MODELS_RESULTS",
    "model_version_condition",
    "registered_model_condition",
    "search_model_versions",
    "search_registered_models",
]

MAX_REGISTERED_MODELS_RESULTS = 1000
MAX_MODEL_VERSIONS_RESULTS = 200_000

_M = registered_models_table.c
_V = model_versions_table.c
#: The longest registered model name (the column's length): visibility lists hold names.
_NAME_LENGTH = 256
#: The parameter that carries a search's visibility list (see :func:`_visibility`).
_VISIBLE = "visible_names"
_WORKSPACE = "workspace_name"
PROMPT_TAG = "mlflow.prompt.is_prompt"

_MODEL_SORT = {
    "name": _M.name,
    "creation_timestamp": _M.creation_time,
    "last_updated_timestamp": _M.last_updated_time,
}
_VERSION_SORT: dict[str, Any] = {
    "name": _M.name,
    "version_number": _V.version,
    "creation_timestamp": _V.creation_time,
    "last_updated_timestamp": _V.last_updated_time,
    "run_id": _V.run_id,
}
_VERSION_ATTRIBUTES: dict[str, Any] = {
    "name": _M.name,
    "run_id": _V.run_id,
    "source_path": _V.source,
    "current_stage": _V.current_stage,
    "version_number": _V.version,
}


def _walk(expr: Expr, leaf: Any) -> ColumnElement[bool]:
    if isinstance(expr, Comparison):
        result: ColumnElement[bool] = leaf(expr)
        return result
    if isinstance(expr, And):
        return and_(*(_walk(e, leaf) for e in expr.items))
    if isinstance(expr, Or):
        return or_(*(_walk(e, leaf) for e in expr.items))
    if isinstance(expr, Not):
        return not_(_walk(expr.item, leaf))
    raise InvalidArgument(f"Unsupported filter expression {expr!r}")  # pragma: no cover


def _not_a_prompt(cmp: Comparison) -> bool:
    """MLflow's clients add ``tags.`mlflow.prompt.is_prompt` != 'true'`` to every registry
    search; a model without that tag is not a prompt, so it matches (as in MLflow)."""
    if cmp.ident.key != PROMPT_TAG or not isinstance(cmp.value, str):
        return False
    value = cmp.value.lower()
    return (cmp.op == "!=" and value == "true") or (cmp.op == "=" and value == "false")


def _tag_condition(table: Any, owner: Any, cmp: Comparison) -> ColumnElement[bool]:
    c = table.c
    fk = c.model_id if "model_id" in c else c.version_id
    has_key = select(fk).where(c.key == cmp.ident.key)
    if _not_a_prompt(cmp):
        condition: ColumnElement[bool] = owner.not_in(has_key.where(c.value == "true"))
    elif cmp.op == "IS NULL":
        condition = owner.not_in(has_key)
    elif cmp.op == "IS NOT NULL":
        condition = owner.in_(has_key)
    else:
        condition = owner.in_(has_key.where(_compare(c.value, cmp.op, cmp.value)))
    return condition


def _model_comparison(cmp: Comparison) -> ColumnElement[bool]:
    if cmp.ident.entity == "tag":
        return _tag_condition(registered_model_tags_table, _M.id, cmp)
    return _compare(_M.name, cmp.op, cmp.value)


def _stage_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(canonical_stage(v) for v in value)
    if isinstance(value, str) and "%" not in value and "_" not in value:
        return canonical_stage(value)
    return value


def _version_comparison(cmp: Comparison) -> ColumnElement[bool]:
    if cmp.ident.entity == "tag":
        return _tag_condition(model_version_tags_table, _V.id, cmp)
    value: Any = cmp.value
    if cmp.ident.key == "current_stage" and cmp.op in ("=", "!=", "IN", "NOT IN"):
        value = _stage_value(value)
    return _compare(_VERSION_ATTRIBUTES[cmp.ident.key], cmp.op, value)


def _pinned_model_name(expr: Expr | None) -> str | None:
    """The model name a version filter fixes with ``name = '...'`` at its top level, if any.

    Such a search reads one model's versions: the store then looks the model up by name first
    (a scalar subquery), so that the database walks that model's (model_id, version) index
    instead of sorting every version of every model with that name.
    """
    items = expr.items if isinstance(expr, And) else (expr,)
    for item in items:
        if (
            isinstance(item, Comparison)
            and item.ident.entity != "tag"
            and item.ident.key == "name"
            and item.op == "="
            and isinstance(item.value, str)
        ):
            return item.value
    return None


def registered_model_condition(expr: Expr) -> ColumnElement[bool]:
    return _walk(expr, _model_comparison)


def model_version_condition(expr: Expr) -> ColumnElement[bool]:
    return _walk(expr, _version_comparison)


@dataclass(frozen=True)
class _Sort:
    columns: list[SortColumn]
    labels: list[str]


def _sort(
    order_by: Sequence[str] | None,
    kind: str,
    columns: dict[str, Any],
    default: Sequence[tuple[str, bool]],
    natural: Sequence[tuple[str, bool]],
    unique: Any,
) -> _Sort:
    keys = [(k.ident.key, k.ascending) for k in parse_order_by(order_by, kind)]  # type: ignore[arg-type]
    seen = [k for k, _ in keys]
    if len(set(seen)) != len(seen):
        raise InvalidArgument(f"`order_by` contains duplicate fields: {list(order_by or [])}")
    if not keys:
        keys = list(default)
    present = {k for k, _ in keys}
    keys += [(k, asc) for k, asc in natural if k not in present]
    sort = [SortColumn(columns[k], asc, nullable=k == "run_id") for k, asc in keys]
    sort.append(SortColumn(unique, ascending=True, nullable=False))
    return _Sort(sort, [f"s{i}" for i in range(len(sort))])


@dataclass(frozen=True)
class _Plan:
    """A search's statement (sort values labelled, ordered) and its sort; a page adds a limit
    and, after the first, a keyset condition.  Plans are immutable and cached by
    (filter, order_by, visibility's shape): building SQLAlchemy statements costs more than
    running small ones."""

    query: Select[Any]
    sort: _Sort
    #: the first page's statement, compiled once (None when it has expanding parameters,
    #: e.g. ``name IN (...)``, or a visibility list, which PostgreSQL gets as a literal:
    #: those go through SQLAlchemy)
    first_page: Prepared | None


def _plan(query: Select[Any], sort: _Sort, *, compiled: bool = True) -> _Plan:
    """The statement and sort of a search; a sort value the query selects already (the
    version number, the id) is read from that column, any other is selected under its label."""
    selected = {id(c): str(c.key) for c in query.selected_columns}
    pairs = zip(sort.columns, sort.labels, strict=True)
    labels = [selected.get(id(col.expr), label) for col, label in pairs]
    labelled = query.add_columns(
        *(
            col.expr.label(label)
            for col, label in zip(sort.columns, labels, strict=True)
            if id(col.expr) not in selected
        )
    )
    ordered = labelled.order_by(*order_clauses(sort.columns)).limit(bindparam("page_limit"))
    plain = compiled and not ordered.compile().post_compile_params
    sort = _Sort(sort.columns, labels)
    return _Plan(ordered, sort, Prepared(lambda _: ordered) if plain else None)


def _visible_names(query: Select[Any], hidden: bool | None) -> Select[Any]:
    """*query* keeping the rows whose model name is in the list :data:`_VISIBLE` (when
    *hidden* is False) or not in it (True); as is when None.  The list is a parameter given
    when the statement runs, so that a cached plan serves every caller."""
    if hidden is None:
        return query
    param = ids_param(_VISIBLE, _NAME_LENGTH)
    return query.where(ids_in(_M.name, param, negated=hidden, length=_NAME_LENGTH))


def _visibility(visible: Visibility | None) -> tuple[bool | None, dict[str, Any]]:
    """The plan's *hidden* flag of :func:`_visible_names` and the parameters it needs."""
    found = visible_ids(visible)
    if found is None:
        return None, {}
    names, hidden = found
    return hidden, {_VISIBLE: names}


@functools.lru_cache(maxsize=256)
def _model_plan(
    filter_string: str | None, order_by: tuple[str, ...] | None, hidden: bool | None = None
) -> _Plan:
    expr = parse_filter(filter_string, "registered_models")
    sort = _sort(
        order_by,
        "registered_models",
        _MODEL_SORT,
        default=[("name", True)],
        natural=[("name", True)],
        unique=_M.id,
    )
    query = select(registered_models_table).where(_M.workspace == bindparam(_WORKSPACE))
    if expr is not None:
        query = query.where(registered_model_condition(expr))
    return _plan(_visible_names(query, hidden), sort, compiled=hidden is None)


@functools.lru_cache(maxsize=256)
def _version_plan(
    filter_string: str | None, order_by: tuple[str, ...] | None, hidden: bool | None = None
) -> _Plan:
    expr = parse_filter(filter_string, "model_versions")
    pinned = _pinned_model_name(expr)
    # With one model pinned by name, its name ties every row: sorting on it is a no-op that
    # would keep the database from reading the versions in index order.
    by_name = [] if pinned is not None else [("name", True)]
    sort = _sort(
        order_by,
        "model_versions",
        _VERSION_SORT,
        default=[("last_updated_timestamp", False), *by_name, ("version_number", False)],
        natural=[*by_name, ("version_number", False)],
        unique=_V.id,
    )
    entity = [_V[name] for name in ENTITY_COLUMNS]
    query = (
        select(*entity, _M.name.label("model_name"), *VERSION_FLAGS)
        .join(registered_models_table, _M.id == _V.model_id)
        .where(_M.workspace == bindparam(_WORKSPACE))
    )
    if expr is not None:
        query = query.where(model_version_condition(expr))
    if pinned is not None:
        model_id = (
            select(_M.id)
            .where(_M.name == pinned, _M.workspace == bindparam(_WORKSPACE))
            .scalar_subquery()
        )
        query = query.where(_V.model_id == model_id)
    return _plan(_visible_names(query, hidden), sort, compiled=hidden is None)


def _page(
    conn: Connection,
    plan: _Plan,
    page_token: str | None,
    limit: int,
    kind: str,
    params: dict[str, Any],
) -> tuple[Sequence[Any], str | None]:
    query, sort = plan.query, plan.sort
    params = {**params, "page_limit": limit + 1}
    rows: Sequence[Any]
    if page_token:
        state = decode_token(page_token, kind)
        values = state.get("k")
        if not isinstance(values, list) or len(values) != len(sort.columns):
            raise InvalidArgument(f"Invalid page_token {page_token!r}: not a token for this query")
        query = query.where(after_condition(sort.columns, values))
        rows = conn.execute(query, params).all()
    elif plan.first_page is not None:
        rows = plan.first_page.all(conn, params)
    else:
        rows = conn.execute(query, params).all()
    token = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]._asdict()
        token = encode_token({"t": kind, "k": [last[label] for label in sort.labels]})
    return rows, token


def search_registered_models(
    core: RegistryCore,
    filter_string: str | None = None,
    max_results: int = 100,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
    visible: Visibility | None = None,
) -> PagedList[RegisteredModel]:
    limit = validate_max_results(max_results, MAX_REGISTERED_MODELS_RESULTS)
    hidden, params = _visibility(visible)
    plan = _cached(_model_plan, filter_string, order_by, hidden)

    def search(conn: Connection) -> PagedList[RegisteredModel]:
        bound = {**params, _WORKSPACE: core.workspace()}
        rows, token = _page(conn, plan, page_token, limit, "registered_models", bound)
        return PagedList(core.load_models(conn, rows), token)

    return core.read(search)


def search_model_versions(
    core: RegistryCore,
    filter_string: str | None = None,
    max_results: int = 10000,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
    visible: Visibility | None = None,
) -> PagedList[ModelVersion]:
    limit = validate_max_results(max_results, MAX_MODEL_VERSIONS_RESULTS)
    hidden, params = _visibility(visible)
    plan = _cached(_version_plan, filter_string, order_by, hidden)

    def search(conn: Connection) -> PagedList[ModelVersion]:
        bound = {**params, _WORKSPACE: core.workspace()}
        rows, token = _page(conn, plan, page_token, limit, "model_versions", bound)
        names = {}
        if rows:
            get = operator.itemgetter(*map(rows[0]._fields.index, ("model_id", "model_name")))
            names = dict(map(get, rows))
        return PagedList(core.load_versions(conn, rows, names), token)

    return core.read(search)


def _cached(plan: Any, filter_string: Any, order_by: Any, hidden: bool | None) -> _Plan:
    """``plan(filter_string, order_by)`` from its cache, when the arguments are strings (as
    they should be; anything else goes to the parser uncached, which names the problem)."""
    if isinstance(order_by, list | tuple) and all(isinstance(i, str) for i in order_by):
        order_by = tuple(order_by)
    if (filter_string is None or isinstance(filter_string, str)) and (
        order_by is None or isinstance(order_by, str | tuple)
    ):
        result: _Plan = plan(filter_string, order_by, hidden)
    else:
        result = plan.__wrapped__(filter_string, order_by, hidden)
    return result
