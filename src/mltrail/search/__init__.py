"""The search grammar: filter strings and ``order_by`` items parsed into a small AST.

Pure Python, standard library only, no I/O; the stores translate the AST into queries.

Filters
=======

A filter is comparisons joined by ``AND``, ``OR`` and ``NOT`` with parentheses; ``NOT`` binds
tighter than ``AND``, which binds tighter than ``OR``.  Keywords are case-insensitive::

    metrics.acc > 0.9 AND (params.model = 'rf' OR tags.team ILIKE 'r%')
    NOT status = 'FAILED' AND start_time >= 1700000000000
    params.optimizer IN ('adam', 'sgd') AND tags.reviewed IS NULL

A comparison is ``<field> <operator> <value>``.  Fields are ``prefix.key`` or a bare attribute
name.  Prefixes: ``metrics``/``metric``, ``params``/``param``, ``tags``/``tag``,
``attributes``/``attribute``/``attr``/``run`` and ``datasets``/``dataset``.  An unquoted key may
hold letters, digits and ``_ - . / :`` (``tags.mlflow.source.git.commit``, ``metrics.val/loss``);
any other key is back-quoted or double-quoted: ``metrics.`f1 score```, ``params."my param"``
(a doubled quote inside stands for itself).

Values are strings in single or double quotes (a doubled quote, ``\\'``, ``\\"`` and ``\\\\``
stand for the character; any other backslash is kept, so LIKE patterns such as ``'100\\%'``
keep their escape), numbers (``3``, ``-1.5``, ``2e-3``, and for metrics ``NaN``, ``Infinity``,
``-Infinity``), or for ``IN`` / ``NOT IN`` a non-empty parenthesised list of strings.

Metric aggregates
-----------------

A metric is compared by its latest value.  ``min(...)`` and ``max(...)`` around a metric compare
its smallest or largest value ever logged instead, in filters and in ``order_by``::

    min(metrics.loss) < 0.1
    max(metrics.acc) >= 0.9
    order_by=["max(metrics.acc) DESC"]

What each kind of search accepts
================================

``runs``
    metrics: ``= != < <= > >=`` and ``IS [NOT] NULL`` (no such metric) with numbers; params and
    tags: ``= != LIKE ILIKE NOT LIKE NOT ILIKE IN NOT IN IS NULL IS NOT NULL`` with strings;
    attributes ``run_id``, ``run_name``, ``status``, ``user_id``, ``artifact_uri``,
    ``lifecycle_stage`` (string operators including ``IN``), ``start_time`` (alias ``created``),
    ``end_time`` (numeric operators, integers); ``datasets.name``, ``datasets.digest``,
    ``datasets.context`` (string operators).
``experiments``
    ``name``, ``experiment_id`` (string operators), ``creation_time``, ``last_update_time``
    (numeric), tags.
``registered_models``
    ``name`` (string operators), tags.
``model_versions``
    ``name``, ``run_id``, ``source_path``, ``current_stage`` (string operators),
    ``version_number`` (alias ``version``; numeric), tags.
``logged_models``
    ``name``, ``model_id``, ``status``, ``source_run_id``, ``model_type``, ``experiment_id``
    (string operators), ``creation_timestamp`` (alias ``creation_time``),
    ``last_updated_timestamp`` (numeric), params, tags, metrics.

Order by
========

Each ``order_by`` item is ``<field> [ASC|DESC]`` (ascending by default).  Runs sort by any
metric (also ``min(...)``/``max(...)``), param or tag, and by ``run_id``, ``run_name``,
``status``, ``user_id``, ``artifact_uri``, ``start_time``, ``end_time``, ``experiment_id``;
experiments by ``name``, ``experiment_id``, ``creation_time``, ``last_update_time``; registered
models by ``name``, ``creation_timestamp``, ``last_updated_timestamp``; model versions by
``name``, ``version_number``, ``creation_timestamp``, ``last_updated_timestamp``, ``run_id``.

Limits
======

A filter holds at most :data:`MAX_FILTER_TERMS` (50) comparisons, :data:`MAX_FILTER_VALUES`
(10,000) values in all its ``IN`` lists and :data:`MAX_DEPTH` (50) levels of parentheses and
``NOT``; an ``order_by`` list at most :data:`MAX_ORDER_BY_ITEMS` (20) items.  Past a limit the
search is refused at once, with an error that names the limit, before any store does work.

Errors
======

Anything else raises :class:`mltrail.InvalidArgument` with a message that says what is wrong
and where, for example::

    Invalid filter 'metrics.a > ': expected a value at position 12
        metrics.a >
                    ^

The position is also the error's ``details["position"]`` (the ``details`` field of a server's
error body), for programs that point at the problem.
"""

from __future__ import annotations

from mltrail.search._ast import (
    Aggregate,
    And,
    Comparison,
    Entity,
    Expr,
    Identifier,
    Not,
    Or,
    OrderKey,
    SearchKind,
)
from mltrail.search._parser import (
    MAX_DEPTH,
    MAX_FILTER_TERMS,
    MAX_FILTER_VALUES,
    MAX_ORDER_BY_ITEMS,
    parse_filter,
    parse_order_by,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_FILTER_TERMS",
    "MAX_FILTER_VALUES",
    "MAX_ORDER_BY_ITEMS",
    "Aggregate",
    "And",
    "Comparison",
    "Entity",
    "Expr",
    "Identifier",
    "Not",
    "Or",
    "OrderKey",
    "SearchKind",
    "parse_filter",
    "parse_order_by",
]
