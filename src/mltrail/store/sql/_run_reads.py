"""Reading runs from the SQL store: get_run and search_runs (keyset-paged)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, select

from mltrail.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
    ViewType,
)
from mltrail.search import OrderKey, parse_filter, parse_order_by
from mltrail.store._base import MAX_DATASET_SUMMARIES, PagedList
from mltrail.store._visibility import Visibility
from mltrail.store.sql._codec import decode_float, decode_token, encode_token
from mltrail.store.sql._core import SqlContext, parse_experiment_id
from mltrail.store.sql._filters import run_attribute_column, run_condition
from mltrail.store.sql._logged_model_schema import logged_model_run_links_table, logged_models_table
from mltrail.store.sql._paging import SortColumn, after_condition, order_clauses
from mltrail.store.sql._prepared import PreparedIn
from mltrail.store.sql._schema import (
    dataset_table,
    experiments_table,
    input_tags_table,
    inputs_table,
    latest_metrics_table,
    params_table,
    runs_table,
    tags_table,
)
from mltrail.store.sql._visible import visibility_condition
from mltrail.validation import validate_max_results

__all__ = ["get_run", "run_info_from_row", "search_dataset_summaries", "search_runs"]

#: The input tag naming how a run used a dataset (training, eval, ...).
DATASET_CONTEXT_TAG = "mlflow.data.context"

_R = runs_table.c
_METRIC_COLUMNS = {"latest": "value", "min": "min_value", "max": "max_value"}


def run_info_from_row(row: Row[Any]) -> RunInfo:
    return RunInfo(
        run_id=row.run_uuid,
        experiment_id=str(row.experiment_id),
        run_name=row.name,
        user_id=row.user_id,
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        lifecycle_stage=row.lifecycle_stage,
    )


def _in_runs(*columns: Any, table: Any = None, order: Sequence[Any] = ()) -> PreparedIn:
    """``SELECT columns ... WHERE run_id IN (...)`` (the first column is the run id)."""

    def build(_: str, n: int) -> Any:
        query = select(*columns)
        if table is not None:
            query = query.select_from(table)
        return query.where(columns[0].in_(PreparedIn.names(n))).order_by(*order)

    return PreparedIn(build)


_P, _T, _M = params_table.c, tags_table.c, latest_metrics_table.c
_I, _D, _IT = inputs_table.c, dataset_table.c, input_tags_table.c
_RUNS_BY_PK = _in_runs(*runs_table.c)
_PARAMS_OF = _in_runs(_P.run_id, _P.key, _P.value)
_TAGS_OF = _in_runs(_T.run_id, _T.key, _T.value)
_METRICS_OF = _in_runs(_M.run_id, _M.key, _M.value, _M.special, _M.timestamp, _M.step)
_INPUTS_OF = _in_runs(
    _I.run_id,
    _D.id,
    _D.name,
    _D.digest,
    _D.source_type,
    _D.source,
    _D.schema,
    _D.profile,
    table=inputs_table.join(dataset_table, _D.id == _I.dataset_id),
    order=(_I.run_id, _D.id),
)
_INPUT_TAGS_OF = _in_runs(_IT.run_id, _IT.dataset_id, _IT.key, _IT.value)
_LR, _L = logged_model_run_links_table.c, logged_models_table.c
_MODELS_OF = _in_runs(
    _LR.run_id,
    _LR.kind,
    _L.model_id,
    _LR.step,
    table=logged_model_run_links_table.join(logged_models_table, _L.id == _LR.model_pk),
    order=(_LR.run_id, _LR.kind, _L.id, _LR.step),
)


def _load_runs(conn: Connection, rows: Sequence[Any]) -> list[Run]:
    """Whole runs (info, latest metrics, params, tags, datasets, logged models) for runs
    rows, in order."""
    ids = [r.id for r in rows]
    params: dict[int, list[Param]] = {i: [] for i in ids}
    tags: dict[int, list[RunTag]] = {i: [] for i in ids}
    metrics: dict[int, list[Metric]] = {i: [] for i in ids}
    inputs: dict[int, list[DatasetInput]] = {i: [] for i in ids}
    model_inputs: dict[int, list[LoggedModelInput]] = {}
    model_outputs: dict[int, list[LoggedModelOutput]] = {}
    if ids:
        for run_pk, key, value in _PARAMS_OF.all(conn, ids):
            params[run_pk].append(Param(key, value))
        for run_pk, key, value in _TAGS_OF.all(conn, ids):
            tags[run_pk].append(RunTag(key, value))
        for run_pk, key, value, special, timestamp, step in _METRICS_OF.all(conn, ids):
            metrics[run_pk].append(Metric(key, decode_float(value, special), timestamp, step))
        _load_inputs(conn, ids, inputs)
        for run_pk, kind, model_id, step in _MODELS_OF.all(conn, ids):
            if kind == "output":
                model_outputs.setdefault(run_pk, []).append(LoggedModelOutput(model_id, step))
            else:
                model_inputs.setdefault(run_pk, []).append(LoggedModelInput(model_id))
    return [
        Run(
            run_info_from_row(r),
            RunData(metrics=metrics[r.id], params=params[r.id], tags=tags[r.id]),
            RunInputs(inputs[r.id], model_inputs.get(r.id, [])),
            RunOutputs(model_outputs.get(r.id, [])),
        )
        for r in rows
    ]


def _load_inputs(conn: Connection, ids: list[int], out: dict[int, list[DatasetInput]]) -> None:
    rows = _INPUTS_OF.all(conn, ids)
    if not rows:
        return
    input_tags: dict[tuple[int, int], list[InputTag]] = {}
    for run_pk, dataset_id, key, value in _INPUT_TAGS_OF.all(conn, ids):
        input_tags.setdefault((run_pk, dataset_id), []).append(InputTag(key, value))
    for run_pk, dataset_id, name, digest, source_type, source, schema, profile in rows:
        dataset = Dataset(name, digest, source_type, source, schema, profile)
        out[run_pk].append(DatasetInput(dataset, input_tags.get((run_pk, dataset_id), [])))


def get_run(ctx: SqlContext, run_id: str) -> Run:
    return ctx.read(lambda conn: _load_runs(conn, [ctx.run_row(conn, run_id)])[0])


def search_runs(
    ctx: SqlContext,
    experiment_ids: Sequence[str] | None,
    filter_string: str | None = None,
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
    visible: Visibility | None = None,
) -> PagedList[Run]:
    limit = validate_max_results(max_results)
    stages = LifecycleStage.view_type_to_stages(ViewType.coerce(run_view_type))
    expr = parse_filter(filter_string, "runs")
    keys = parse_order_by(order_by, "runs")
    conditions: list[ColumnElement[bool]] = [_R.lifecycle_stage.in_(stages)]
    if experiment_ids is not None:
        conditions.append(_R.experiment_id.in_([parse_experiment_id(e) for e in experiment_ids]))
    if expr is not None:
        conditions.append(run_condition(expr))
    workspace = ctx.workspace()
    if workspace is not None:
        conditions.append(
            _R.experiment_id.in_(
                select(experiments_table.c.experiment_id).where(
                    experiments_table.c.workspace == workspace
                )
            )
        )
    readable = visibility_condition(_R.experiment_id, visible)
    if readable is not None:
        conditions.append(readable)
    state = decode_token(page_token, "runs") if page_token else None

    def build(present: bool | None) -> tuple[Any, list[SortColumn]]:
        """The query; with *present* True/False only runs that have/lack the first key.

        A metric, param or tag sort puts runs lacking the key last.  Asking first for the
        runs that have it lets the database walk its (key, value) index instead of sorting
        every run of the experiments; those lacking it are read only when a page needs them.
        """
        query = select(runs_table.c.id)
        sort: list[SortColumn] = []
        for n, key in enumerate(keys):
            column, query = _sort_column(query, key, n, inner=present is True and n == 0)
            if n == 0 and present is not None:
                query = query.where(column.expr.is_not(None) if present else column.expr.is_(None))
                column = SortColumn(column.expr, column.ascending, nullable=not present)
            sort.append(column)
        if not any(s.expr is _R.start_time for s in sort):
            sort.append(SortColumn(_R.start_time, ascending=False, nullable=False))
        # Ties broken by run id, ascending, as MLflow breaks them.
        sort.append(SortColumn(_R.run_uuid, ascending=True, nullable=False))
        query = query.add_columns(*(s.expr.label(f"s{i}") for i, s in enumerate(sort)))
        where = list(conditions)
        if state is not None:
            where.append(after_condition(sort, state["k"]))
        return query.where(and_(*where)).order_by(*order_clauses(sort)), sort

    split = bool(keys) and keys[0].ident.entity != "attribute"
    parts = [build(True), build(False)] if split else [build(None)]

    def search(conn: Connection) -> PagedList[Run]:
        found: list[Any] = []
        for query, _ in parts:
            if state is not None and split and query is parts[0][0] and state["k"][0] is None:
                continue  # the previous page ended among the runs lacking the key
            found += conn.execute(query.limit(limit + 1 - len(found))).all()
            if len(found) > limit:
                break
        token = None
        if len(found) > limit:
            found = found[:limit]
            last = found[-1]
            width = len(parts[0][1])
            token = encode_token({"t": "runs", "k": [last[i + 1] for i in range(width)]})
        ids = [r.id for r in found]
        rows = {r.id: r for r in _RUNS_BY_PK.all(conn, ids)}
        return PagedList(_load_runs(conn, [rows[i] for i in ids]), token)

    return ctx.read(search)


def _sort_column(
    query: Any, key: OrderKey, n: int, *, inner: bool = False
) -> tuple[SortColumn, Any]:
    ident = key.ident
    if ident.entity == "attribute":
        column = run_attribute_column(ident.key)
        nullable = ident.key == "end_time"
        return SortColumn(column, key.ascending, nullable), query
    if ident.entity == "metric":
        alias = latest_metrics_table.alias(f"o{n}")
        expr = alias.c[_METRIC_COLUMNS[ident.aggregate]]
    else:
        alias = (params_table if ident.entity == "param" else tags_table).alias(f"o{n}")
        expr = alias.c.value
    on = and_(alias.c.run_id == _R.id, alias.c.key == ident.key)
    query = query.join(alias, on) if inner else query.outerjoin(alias, on)
    return SortColumn(expr, key.ascending, nullable=True), query


def search_dataset_summaries(
    ctx: SqlContext, experiment_ids: Sequence[str]
) -> list[DatasetSummary]:
    """The distinct (dataset, ``mlflow.data.context``) pairs of the experiments' run inputs."""
    ids = [parse_experiment_id(e) for e in experiment_ids]
    d, i, t = dataset_table.c, inputs_table.c, input_tags_table.c
    context = and_(t.run_id == i.run_id, t.dataset_id == i.dataset_id, t.key == DATASET_CONTEXT_TAG)
    query = (
        select(d.experiment_id, d.name, d.digest, t.value)
        .select_from(dataset_table.join(inputs_table, i.dataset_id == d.id))
        .outerjoin(input_tags_table, context)
        .where(d.experiment_id.in_(ids))
        .distinct()
        .order_by(d.experiment_id, d.name, d.digest, t.value)
        .limit(MAX_DATASET_SUMMARIES)
    )
    rows = ctx.read(lambda conn: conn.execute(query).all())
    return [DatasetSummary(str(r[0]), r[1], r[2], r[3]) for r in rows]
