"""Translate a parsed filter (``mltrail.search`` AST) into SQL conditions on runs or experiments.

Conditions on params, tags, metrics and datasets are ``runs.id IN (subquery)`` so that they
compose freely under AND, OR and NOT and use the (key, value) indexes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, not_, or_, select

from mltrail._exceptions import InvalidArgument
from mltrail.search import And, Comparison, Expr, Identifier, Not, Or
from mltrail.store.sql._codec import DBL_MAX, NAN
from mltrail.store.sql._schema import (
    dataset_table,
    experiment_tags_table,
    experiments_table,
    input_tags_table,
    inputs_table,
    latest_metrics_table,
    params_table,
    runs_table,
    tags_table,
)

__all__ = ["experiment_condition", "run_attribute_column", "run_condition"]

_RUN_ATTRIBUTES = {
    "run_id": runs_table.c.run_uuid,
    "run_name": runs_table.c.name,
    "status": runs_table.c.status,
    "user_id": runs_table.c.user_id,
    "artifact_uri": runs_table.c.artifact_uri,
    "lifecycle_stage": runs_table.c.lifecycle_stage,
    "start_time": runs_table.c.start_time,
    "end_time": runs_table.c.end_time,
    "experiment_id": runs_table.c.experiment_id,
}
_EXPERIMENT_ATTRIBUTES = {
    "name": experiments_table.c.name,
    "experiment_id": experiments_table.c.experiment_id,
    "creation_time": experiments_table.c.creation_time,
    "last_update_time": experiments_table.c.last_update_time,
    "lifecycle_stage": experiments_table.c.lifecycle_stage,
}
_METRIC_COLUMNS = {"latest": "value", "min": "min_value", "max": "max_value"}
_CONTEXT_TAG = "mlflow.data.context"


def run_attribute_column(key: str) -> ColumnElement[Any]:
    try:
        return _RUN_ATTRIBUTES[key]
    except KeyError:
        raise InvalidArgument(
            f"Invalid attribute '{key}': valid run attributes are "
            + ", ".join(sorted(_RUN_ATTRIBUTES))
        ) from None


_OPERATORS: dict[str, Callable[[ColumnElement[Any], Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "LIKE": lambda c, v: c.like(v),
    "NOT LIKE": lambda c, v: c.not_like(v),
    "ILIKE": lambda c, v: c.ilike(v),
    "NOT ILIKE": lambda c, v: c.not_ilike(v),
    "IN": lambda c, v: c.in_(list(v)),
    "NOT IN": lambda c, v: c.not_in(list(v)),
    "IS NULL": lambda c, _: c.is_(None),
    "IS NOT NULL": lambda c, _: c.is_not(None),
}


def _compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    apply = _OPERATORS.get(op)
    if apply is None:
        raise InvalidArgument(f"Unsupported comparison operator '{op}'")
    condition: ColumnElement[bool] = apply(column, value)
    return condition


def _metric_condition(ident: Identifier, op: str, value: Any) -> ColumnElement[bool]:
    lm = latest_metrics_table.c
    has_key = select(lm.run_id).where(lm.key == ident.key)
    if op == "IS NULL":
        return runs_table.c.id.not_in(has_key)
    if op == "IS NOT NULL":
        return runs_table.c.id.in_(has_key)
    column_name = _METRIC_COLUMNS[ident.aggregate]
    column = lm[column_name]
    special = lm[column_name.replace("value", "special")]
    number = float(value)
    if number != number:  # NaN: only = and != make sense
        cond = special == NAN if op == "=" else special != NAN
        if op not in ("=", "!="):
            raise InvalidArgument(f"Invalid comparison '{op} NaN' on metric '{ident.key}'")
        return runs_table.c.id.in_(has_key.where(cond))
    number = max(-DBL_MAX, min(DBL_MAX, number))  # infinities are stored as +-DBL_MAX
    return runs_table.c.id.in_(has_key.where(_compare(column, op, number)))


def _key_value_condition(table: Any, ident: Identifier, op: str, value: Any) -> ColumnElement[bool]:
    c = table.c
    has_key = select(c.run_id).where(c.key == ident.key)
    if op == "IS NULL":
        return runs_table.c.id.not_in(has_key)
    if op == "IS NOT NULL":
        return runs_table.c.id.in_(has_key)
    return runs_table.c.id.in_(has_key.where(_compare(c.value, op, value)))


def _dataset_condition(ident: Identifier, op: str, value: Any) -> ColumnElement[bool]:
    if ident.key == "context":
        it = input_tags_table.c
        sub: Select[Any] = select(it.run_id).where(
            it.key == _CONTEXT_TAG, _compare(it.value, op, value)
        )
    else:
        d = dataset_table.c
        column = d.name if ident.key == "name" else d.digest
        sub = (
            select(inputs_table.c.run_id)
            .join(dataset_table, dataset_table.c.id == inputs_table.c.dataset_id)
            .where(_compare(column, op, value))
        )
    return runs_table.c.id.in_(sub)


def _run_comparison(cmp: Comparison) -> ColumnElement[bool]:
    ident = cmp.ident
    if ident.entity == "metric":
        return _metric_condition(ident, cmp.op, cmp.value)
    if ident.entity == "param":
        return _key_value_condition(params_table, ident, cmp.op, cmp.value)
    if ident.entity == "tag":
        return _key_value_condition(tags_table, ident, cmp.op, cmp.value)
    if ident.entity == "dataset":
        return _dataset_condition(ident, cmp.op, cmp.value)
    column = run_attribute_column(ident.key)
    value: Any = cmp.value
    if ident.key == "experiment_id":
        value = _experiment_ids(value)
    return _compare(column, cmp.op, value)


def _experiment_ids(value: Any) -> Any:
    """Experiment ids are integers in the database; a non-integer id matches nothing."""
    try:
        return [int(v) for v in value] if isinstance(value, tuple) else int(value)
    except ValueError:
        raise InvalidArgument(f"Invalid experiment_id {value!r}: ids are integers") from None


def _experiment_comparison(cmp: Comparison) -> ColumnElement[bool]:
    ident = cmp.ident
    if ident.entity == "tag":
        t = experiment_tags_table.c
        has_key = select(t.experiment_id).where(t.key == ident.key)
        eid = experiments_table.c.experiment_id
        if cmp.op == "IS NULL":
            return eid.not_in(has_key)
        if cmp.op == "IS NOT NULL":
            return eid.in_(has_key)
        return eid.in_(has_key.where(_compare(t.value, cmp.op, cmp.value)))
    if ident.entity != "attribute" or ident.key not in _EXPERIMENT_ATTRIBUTES:
        raise InvalidArgument(f"Invalid experiment filter key '{ident.key}'")
    value: Any = cmp.value
    if ident.key == "experiment_id":
        value = _experiment_ids(value)
    return _compare(_EXPERIMENT_ATTRIBUTES[ident.key], cmp.op, value)


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


def run_condition(expr: Expr) -> ColumnElement[bool]:
    return _walk(expr, _run_comparison)


def experiment_condition(expr: Expr) -> ColumnElement[bool]:
    return _walk(expr, _experiment_comparison)
