"""Searching logged models: filters, ``order_by`` (attributes and metrics), keyset pages.

Filters use the tracking search grammar (``AND``, ``OR``, ``NOT``, parentheses, ``IN``,
``LIKE``/``ILIKE``) on the ``logged_models`` fields (see ``mltrail.search``).  A metric
condition holds when one of the model's values of that metric satisfies it (MLflow's rule),
``min(...)``/``max(...)`` compare the smallest or largest value; the request's ``datasets``
restrict which values count.  Sorting by a metric uses its latest value (by timestamp, then
step).  Pages are keyset pages: a token holds the last row's sort values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, func, or_, select

from mltrail._exceptions import InvalidArgument
from mltrail.entities import LifecycleStage
from mltrail.entities._logged_model import LoggedModel, LoggedModelStatus
from mltrail.search import (
    And,
    Comparison,
    Expr,
    Or,
    OrderKey,
    SearchKind,
    parse_filter,
    parse_order_by,
)
from mltrail.store._base import PagedList
from mltrail.store._logged_models_base import MAX_LOGGED_MODELS_RESULTS, OrderBy
from mltrail.store._visibility import LoggedModelVisibility
from mltrail.store.sql._codec import DBL_MAX, NAN, decode_token, encode_token
from mltrail.store.sql._core import SqlContext
from mltrail.store.sql._filters import _compare, _walk
from mltrail.store.sql._logged_model_schema import (
    logged_model_metrics_table,
    logged_model_params_table,
    logged_model_tags_table,
    logged_models_table,
)
from mltrail.store.sql._paging import SortColumn, after_condition, order_clauses
from mltrail.store.sql._visible import logged_model_visibility
from mltrail.validation import validate_max_results

__all__ = ["logged_model_condition", "search_logged_models"]

_L = logged_models_table.c
_LM = logged_model_metrics_table.c
_KIND: SearchKind = "logged_models"

_ATTRIBUTES: dict[str, Any] = {
    "name": _L.name,
    "model_id": _L.model_id,
    "status": _L.status,
    "source_run_id": _L.source_run_id,
    "model_type": _L.model_type,
    "experiment_id": _L.experiment_id,
    "creation_timestamp": _L.creation_time,
    "last_updated_timestamp": _L.last_updated_time,
}
_NULLABLE = {"source_run_id", "model_type"}
#: The longest logged model id (the column's length): visibility lists hold model ids.
_MODEL_ID_LENGTH = 64


def _dataset_condition(datasets: Sequence[Mapping[str, Any]] | None) -> ColumnElement[bool] | None:
    if not datasets:
        return None
    terms = []
    for d in datasets:
        name = d.get("dataset_name")
        if not isinstance(name, str) or not name:
            raise InvalidArgument("Invalid datasets: every item needs a non-empty dataset_name")
        term = _LM.dataset_name == name
        digest = d.get("dataset_digest")
        if digest:
            term = and_(term, _LM.dataset_digest == str(digest))
        terms.append(term)
    return or_(*terms)


def _status_value(value: Any) -> Any:
    def one(v: Any) -> Any:
        try:
            return LoggedModelStatus.parse(v)
        except InvalidArgument:
            return v  # matches nothing, as any unknown value would

    if isinstance(value, tuple):
        return tuple(one(v) for v in value)
    return one(value)


def _key_value_condition(table: Any, cmp: Comparison) -> ColumnElement[bool]:
    c = table.c
    has_key = select(c.model_pk).where(c.key == cmp.ident.key)
    if cmp.op == "IS NULL":
        return _L.id.not_in(has_key)
    if cmp.op == "IS NOT NULL":
        return _L.id.in_(has_key)
    return _L.id.in_(has_key.where(_compare(c.value, cmp.op, cmp.value)))


def _metric_condition(cmp: Comparison, datasets: ColumnElement[bool] | None) -> ColumnElement[bool]:
    key = cmp.ident.key
    has_key = select(_LM.model_pk).where(_LM.key == key)
    if datasets is not None:
        has_key = has_key.where(datasets)
    if cmp.op == "IS NULL":
        return _L.id.not_in(has_key)
    if cmp.op == "IS NOT NULL":
        return _L.id.in_(has_key)
    number = float(cmp.value)  # type: ignore[arg-type]
    if number != number:
        if cmp.op not in ("=", "!="):
            raise InvalidArgument(f"Invalid comparison '{cmp.op} NaN' on metric '{key}'")
        if cmp.ident.aggregate != "latest":
            raise InvalidArgument(f"Invalid comparison of {cmp.ident.aggregate}(...) with NaN")
        cond = _LM.special == NAN if cmp.op == "=" else _LM.special != NAN
        return _L.id.in_(has_key.where(cond))
    number = max(-DBL_MAX, min(DBL_MAX, number))
    if cmp.ident.aggregate == "latest":
        return _L.id.in_(has_key.where(_compare(_LM.value, cmp.op, number)))
    agg = func.min(_LM.value) if cmp.ident.aggregate == "min" else func.max(_LM.value)
    grouped = has_key.group_by(_LM.model_pk).having(_compare(agg, cmp.op, number))
    return _L.id.in_(grouped)


def _comparison(cmp: Comparison, datasets: ColumnElement[bool] | None) -> ColumnElement[bool]:
    entity = cmp.ident.entity
    if entity == "metric":
        return _metric_condition(cmp, datasets)
    if entity == "param":
        return _key_value_condition(logged_model_params_table, cmp)
    if entity == "tag":
        return _key_value_condition(logged_model_tags_table, cmp)
    key = cmp.ident.key
    value: Any = cmp.value
    if key == "status" and cmp.op in ("=", "!=", "IN", "NOT IN"):
        value = _status_value(value)
    elif key == "experiment_id":
        try:
            value = tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)
        except ValueError:
            raise InvalidArgument(f"Invalid experiment_id {value!r}: ids are integers") from None
    return _compare(_ATTRIBUTES[key], cmp.op, value)


def logged_model_condition(
    expr: Expr, datasets: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    return _walk(expr, lambda cmp: _comparison(cmp, datasets))


def _has_metric(expr: Expr | None) -> bool:
    if expr is None:
        return False
    if isinstance(expr, Comparison):
        return expr.ident.entity == "metric"
    if isinstance(expr, (And, Or)):
        return any(_has_metric(e) for e in expr.items)
    return _has_metric(expr.item)


def _order_key(item: OrderBy) -> tuple[OrderKey, ColumnElement[bool] | None]:
    """One ``order_by`` item (MLflow's dict or a string) parsed, with its dataset filter."""
    if isinstance(item, str):
        (key,) = parse_order_by([item], _KIND)
        return key, None
    if not isinstance(item, Mapping) or not isinstance(item.get("field_name"), str):
        raise InvalidArgument(
            f"Invalid order_by item {item!r}: expected {{'field_name': ..., 'ascending': ...}}"
        )
    ascending = item.get("ascending", True)
    if not isinstance(ascending, bool):
        raise InvalidArgument(f"Invalid order_by ascending {ascending!r}: must be true or false")
    (key,) = parse_order_by([item["field_name"]], _KIND)
    key = OrderKey(key.ident, ascending)
    name, digest = item.get("dataset_name"), item.get("dataset_digest")
    if (name or digest) and key.ident.entity != "metric":
        raise InvalidArgument(
            f"Invalid order_by item {item['field_name']!r}: dataset_name and dataset_digest "
            "apply only to metrics"
        )
    if digest and not name:
        raise InvalidArgument("Invalid order_by item: dataset_digest needs dataset_name")
    datasets = (
        _dataset_condition([{"dataset_name": name, "dataset_digest": digest}]) if name else None
    )
    return key, datasets


def _sort_columns(order_by: Sequence[OrderBy] | None) -> list[SortColumn]:
    columns: list[SortColumn] = []
    seen: set[tuple[str, str, str]] = set()
    has_creation = False
    for item in order_by or []:
        key, datasets = _order_key(item)
        ident = key.ident
        marker = (ident.entity, ident.key, ident.aggregate)
        if marker in seen:
            raise InvalidArgument(f"`order_by` contains duplicate fields: {list(order_by or [])}")
        seen.add(marker)
        if ident.entity == "metric":
            value = select(_LM.value).where(_LM.model_pk == _L.id, _LM.key == ident.key)
            if datasets is not None:
                value = value.where(datasets)
            if ident.aggregate == "latest":
                expr = (
                    value.order_by(_LM.timestamp.desc(), _LM.step.desc(), _LM.id.desc())
                    .limit(1)
                    .scalar_subquery()
                )
            else:
                agg = func.min(_LM.value) if ident.aggregate == "min" else func.max(_LM.value)
                expr = value.with_only_columns(agg).scalar_subquery()
            columns.append(SortColumn(expr, key.ascending, nullable=True))
            continue
        has_creation = has_creation or ident.key == "creation_timestamp"
        columns.append(
            SortColumn(_ATTRIBUTES[ident.key], key.ascending, nullable=ident.key in _NULLABLE)
        )
    if not has_creation:
        columns.append(SortColumn(_L.creation_time, ascending=False, nullable=False))
    columns.append(SortColumn(_L.model_id, ascending=True, nullable=False))
    return columns


def search_logged_models(
    ctx: SqlContext,
    load: Callable[[Connection, Sequence[Row[Any]]], list[LoggedModel]],
    experiment_ids: Sequence[str],
    filter_string: str | None,
    datasets: Sequence[Mapping[str, Any]] | None,
    max_results: int,
    order_by: Sequence[OrderBy] | None,
    page_token: str | None,
    visible: LoggedModelVisibility | None = None,
) -> PagedList[LoggedModel]:
    """:meth:`mltrail.store.LoggedModelStore.search_logged_models`; *load* makes the
    entities of the rows found."""
    limit = validate_max_results(max_results, MAX_LOGGED_MODELS_RESULTS)
    if isinstance(experiment_ids, str) or not experiment_ids:
        raise InvalidArgument(
            "Invalid experiment_ids: a logged model search needs at least one experiment id"
        )
    ids = []
    for eid in experiment_ids:
        try:
            ids.append(int(str(eid)))
        except ValueError:
            raise InvalidArgument(f"Invalid experiment_id {eid!r}: must be an integer id") from None
    expr = parse_filter(filter_string, _KIND)
    dataset_cond = _dataset_condition(datasets)
    sort = _sort_columns(order_by)
    labels = [f"s{i}" for i in range(len(sort))]
    query: Select[Any] = select(logged_models_table).where(
        _L.experiment_id.in_(ids), _L.lifecycle_stage == LifecycleStage.ACTIVE
    )
    if expr is not None:
        query = query.where(logged_model_condition(expr, dataset_cond))
    if dataset_cond is not None and not _has_metric(expr):
        query = query.where(_L.id.in_(select(_LM.model_pk).where(dataset_cond)))
    readable = logged_model_visibility(_L.model_id, _L.experiment_id, visible, _MODEL_ID_LENGTH)
    if readable is not None:
        query = query.where(readable)
    if page_token:
        state = decode_token(page_token, _KIND)
        values = state.get("k")
        if not isinstance(values, list) or len(values) != len(sort):
            raise InvalidArgument(f"Invalid page_token {page_token!r}: not a token for this query")
        query = query.where(after_condition(sort, values))
    query = query.add_columns(
        *(col.expr.label(label) for col, label in zip(sort, labels, strict=True))
    )

    def search(conn: Connection) -> PagedList[LoggedModel]:
        rows = list(conn.execute(query.order_by(*order_clauses(sort)).limit(limit + 1)))
        token = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]._mapping
            token = encode_token({"t": _KIND, "k": [last[label] for label in labels]})
        return PagedList(load(conn, rows), token)

    return ctx.read(search)
