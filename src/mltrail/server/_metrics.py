"""Metric endpoints: full histories (paged), MLflow's bulk interval, and reduced chart series.

``GET /mlflow/metrics/get-history-bulk-interval`` and ``POST /mltrail/metrics/series`` are
answered by the same store call, :meth:`~mltrail.store.MetricStore.get_metric_series`: the
first returns each bucket's last point (MLflow's shape, one list of metrics with ``run_id``),
the second the columnar series with min, max and last per bucket.
"""

from __future__ import annotations

from typing import Any

from mltrail.entities._metric import metric_value_to_json
from mltrail.server._context import ServerContext
from mltrail.server._routing import Endpoint
from mltrail.server._runs import RUN_ID_FIELDS, run_id_of
from mltrail.server._schema import array, boolean, double, enum, int32, int64, obj, string
from mltrail.server._shapes import METRIC, paged
from mltrail.store._series import MAX_BUCKETS_LIMIT, SERIES_FIELDS

__all__ = ["metric_endpoints"]

#: MLflow's limits for get-history-bulk-interval.
MAX_BULK_RUNS = 100
MAX_BULK_RESULTS = 2500
DEFAULT_BULK_RESULTS = 320


def _history(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.store.get_metric_history(
        run_id_of(args),
        args["metric_key"],
        max_results=args.get("max_results"),
        page_token=args.get("page_token") or None,
    )
    out: dict[str, Any] = {"metrics": [m.to_dict() for m in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def _bulk_interval(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    series = ctx.store.get_metric_series(
        args["run_ids"],
        [args["metric_key"]],
        max_buckets=args.get("max_results", DEFAULT_BULK_RESULTS),
        start_step=args.get("start_step"),
        end_step=args.get("end_step"),
    )
    metrics = []
    for s in series:
        for step, timestamp, value in zip(s.steps, s.timestamps, s.last, strict=True):
            metrics.append(
                {
                    "key": s.key,
                    "value": metric_value_to_json(value),
                    "timestamp": timestamp,
                    "step": step,
                    "run_id": s.run_id,
                }
            )
    return {"metrics": metrics}


def _series(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    series = ctx.store.get_metric_series(
        args["run_ids"],
        args["metric_keys"],
        max_buckets=args.get("max_buckets", 1000),
        start_step=args.get("start_step"),
        end_step=args.get("end_step"),
    )
    fields = args.get("fields") or SERIES_FIELDS
    return {"series": [s.to_dict(fields) for s in series]}


_SERIES = obj(
    {
        "run_id": string(),
        "key": string(),
        "exact": boolean("True when every point in the range is there (nothing reduced)."),
        "count": int64("Points in the step range."),
        "steps": array(int64(), "Step of each bucket's last point."),
        "timestamps": array(int64(), "Present when asked for in fields (or fields is empty)."),
        "last": array(double(), "Present when asked for in fields (or fields is empty)."),
        "min": array(double(), "Present when asked for in fields (or fields is empty)."),
        "max": array(double(), "Present when asked for in fields (or fields is empty)."),
    }
)


def metric_endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET",
            "/mlflow/metrics/get-history",
            "Every point of one metric of a run, paged",
            obj(
                {
                    **RUN_ID_FIELDS,
                    "metric_key": string(max_length=250),
                    "max_results": int32(minimum=1, maximum=1_000_000),
                    "page_token": string(),
                },
                ["metric_key"],
            ),
            paged("metrics", METRIC),
            _history,
        ),
        Endpoint(
            "GET",
            "/mlflow/metrics/get-history-bulk-interval",
            "One metric of up to 100 runs, at most max_results points per run",
            obj(
                {
                    "run_ids": array(string(max_length=256), max_items=MAX_BULK_RUNS),
                    "metric_key": string(max_length=250),
                    "start_step": int64(),
                    "end_step": int64(),
                    "max_results": int32(minimum=1, maximum=MAX_BULK_RESULTS),
                },
                ["run_ids", "metric_key"],
            ),
            obj({"metrics": array(METRIC)}),
            _bulk_interval,
        ),
        Endpoint(
            "POST",
            "/mltrail/metrics/series",
            "Series of many runs x keys, each reduced to at most max_buckets (min, max, last)",
            obj(
                {
                    "run_ids": array(string(max_length=256), max_items=1000),
                    "metric_keys": array(string(max_length=250), max_items=100),
                    "max_buckets": int32(minimum=1, maximum=MAX_BUCKETS_LIMIT),
                    "start_step": int64(),
                    "end_step": int64(),
                    "fields": array(
                        enum(SERIES_FIELDS),
                        "Which per-bucket lists to return besides steps (default: all)",
                    ),
                },
                ["run_ids", "metric_keys"],
            ),
            obj({"series": array(_SERIES)}),
            _series,
            tag="mltrail",
        ),
    ]
