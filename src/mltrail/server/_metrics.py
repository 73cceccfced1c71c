"""Metric endpoints: full histories (paged), MLflow's bulk endpoints, and reduced chart series.

``GET /mlflow/metrics/get-history-bulk-interval``, ``POST /mltrail/metrics/series`` and
``POST /mltrail/metrics/series-packed`` read the stored series.  The first samples each
series as MLflow 3.17 does, whatever its length (the first point of each of ``max_results``
even groups of the points in (step, timestamp, value) order, plus the last point:
:mod:`mltrail.store._sample`, through :meth:`~mltrail.store.MetricStore.sample_metric_history`),
in MLflow's shape (one list of metrics with ``run_id``); the second the columnar series with
min, max and last per bucket as JSON, the third the same series as packed binary arrays (what
the web UI's charts read: no number is formatted or parsed as text).

The packed body (``application/vnd.mltrail.series``), all little-endian:

* 4 bytes ``MTS1``; a uint32, the length *H* of the header;
* *H* bytes of UTF-8 JSON, space-padded so that the arrays start on an 8-byte boundary:
  ``{"fields": ["steps", ...], "series": [{"run_id", "key", "exact", "count", "length"}, ...]}``;
* for each series in that order, for each of ``fields`` in that order, ``length`` float64
  values.  Steps and timestamps are exact below 2**53; NaN and infinities are IEEE values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mltrail._exceptions import InvalidArgument
from mltrail.entities._metric import metric_value_to_json
from mltrail.server._access import RUN_ID, RUN_IDS, read
from mltrail.server._context import ServerContext
from mltrail.server._routing import Endpoint, read_json_body
from mltrail.server._runs import RUN_ID_FIELDS, run_id_of
from mltrail.server._schema import (
    array,
    boolean,
    double,
    enum,
    int32,
    int64,
    obj,
    parse_body,
    string,
)
from mltrail.server._shapes import METRIC, paged
from mltrail.store._series import MAX_BUCKETS_LIMIT, SERIES_FIELDS, MetricSeries

__all__ = ["PACKED_SERIES_MEDIA_TYPE", "metric_endpoints", "pack_series"]

#: The media type of ``POST /mltrail/metrics/series-packed`` responses (see the module doc).
PACKED_SERIES_MEDIA_TYPE = "application/vnd.mltrail.series"
_MAGIC = b"MTS1"

#: MLflow's limits for get-history-bulk-interval.
MAX_BULK_RUNS = 100
MAX_BULK_RESULTS = 2500
DEFAULT_BULK_RESULTS = 2500
#: MLflow's limit (and default) for get-history-bulk, points in all.
MAX_HISTORY_BULK_RESULTS = 25_000


def _history(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.backend.metrics.get_metric_history(
        run_id_of(args),
        args["metric_key"],
        max_results=args.get("max_results"),
        page_token=args.get("page_token") or None,
    )
    out: dict[str, Any] = {"metrics": [m.to_dict() for m in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def _history_bulk(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    """MLflow's UI call: every point of one metric of several runs, runs in id order, each
    point with its run_id; at most max_results points in all."""
    what = "GetMetricHistoryBulk request"
    run_ids = args.get("run_id") or []
    if not run_ids:
        raise InvalidArgument(f"{what} must specify at least one run_id.")
    if len(run_ids) > MAX_BULK_RUNS:
        raise InvalidArgument(
            f"{what} cannot specify more than {MAX_BULK_RUNS} run_ids. Got {len(run_ids)}."
        )
    if not args.get("metric_key"):
        raise InvalidArgument(f"{what} must specify a metric_key.")
    limit = args.get("max_results") or MAX_HISTORY_BULK_RESULTS
    metrics: list[dict[str, Any]] = []
    for run_id in sorted(set(run_ids)):
        history = ctx.backend.metrics.get_metric_history(
            run_id, args["metric_key"], max_results=limit - len(metrics)
        )
        metrics.extend({**m.to_dict(), "run_id": run_id} for m in history)
        if len(metrics) >= limit:
            break
    return {"metrics": metrics}


def _check_bulk_interval(args: dict[str, Any]) -> None:
    """The request's own rules, checked before any run is looked up, in MLflow's order and
    words."""
    what = "GetMetricHistoryBulkInterval request"
    count = len(args["run_ids"])
    if count > MAX_BULK_RUNS:
        raise InvalidArgument(
            f"{what} must specify at most {MAX_BULK_RUNS} run_ids. Received {count} run_ids."
        )
    if not args.get("metric_key"):
        raise InvalidArgument("Missing value for required parameter 'metric_key'")
    limit = args.get("max_results", DEFAULT_BULK_RESULTS)
    if not 1 <= limit <= MAX_BULK_RESULTS:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_BULK_RESULTS}.")
    start, end = args.get("start_step"), args.get("end_step")
    if (start is None) != (end is None):
        raise InvalidArgument(
            "If either start step or end step are specified, both must be specified."
        )
    if start is not None and end is not None and end < start:
        raise InvalidArgument(
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}."
        )


def _bulk_interval(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    """MLflow's sample of one metric of up to 100 runs: per run in the order asked, at most
    max_results points (see :mod:`mltrail.store._sample`), picked by the store without
    building the whole history."""
    _check_bulk_interval(args)
    sample = ctx.backend.metrics.sample_metric_history(
        args["run_ids"],
        args["metric_key"],
        args.get("max_results", DEFAULT_BULK_RESULTS),
        args.get("start_step"),
        args.get("end_step"),
    )
    return {
        "metrics": [
            {
                "key": m.key,
                "value": metric_value_to_json(m.value),
                "timestamp": m.timestamp,
                "step": m.step,
                "run_id": m.run_id,
            }
            for m in sample
        ]
    }


def _read_series(ctx: ServerContext, args: dict[str, Any]) -> tuple[list[MetricSeries], Any]:
    fields = args.get("fields") or SERIES_FIELDS
    kwargs: dict[str, Any] = {
        "max_buckets": args.get("max_buckets", 1000),
        "start_step": args.get("start_step"),
        "end_step": args.get("end_step"),
    }
    kwargs["timestamps"] = "timestamps" in fields  # without them, mostly not read at all
    return ctx.backend.metrics.get_metric_series(
        args["run_ids"], args["metric_keys"], **kwargs
    ), fields


def _series(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    series, fields = _read_series(ctx, args)
    return {"series": [s.to_dict(fields) for s in series]}


def pack_series(series: Sequence[MetricSeries], fields: Sequence[str]) -> bytes:
    """The packed body of *series* with ``steps`` and *fields* (see the module doc)."""
    import numpy as np

    names = ["steps", *(f for f in SERIES_FIELDS if f in fields)]
    header = {
        "fields": names,
        "series": [
            {
                "run_id": s.run_id,
                "key": s.key,
                "exact": s.exact,
                "count": s.count,
                "length": len(s.steps),
            }
            for s in series
        ],
    }
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    head += b" " * (-(len(head) + 8) % 8)
    columns = [getattr(s, name) for s in series for name in names]
    total = sum(len(c) for c in columns)
    out = np.empty(total, dtype="<f8")
    at = 0
    for column in columns:
        out[at : at + len(column)] = column
        at += len(column)
    return _MAGIC + len(head).to_bytes(4, "little") + head + out.tobytes()


async def _series_packed(ctx: ServerContext, request: Request) -> Response:
    args = parse_body(await read_json_body(request, ctx.settings.max_json_body_bytes), _SERIES_ARGS)

    def run() -> bytes:
        series, fields = _read_series(ctx, args)
        return pack_series(series, fields)

    body = await run_in_threadpool(run)
    return Response(body, media_type=PACKED_SERIES_MEDIA_TYPE)


_SERIES_ARGS = obj(
    {
        "run_ids": array(string(max_length=256), max_items=1000),
        "metric_keys": array(string(max_length=250), max_items=100),
        "max_buckets": int32(minimum=1, maximum=MAX_BUCKETS_LIMIT),
        "start_step": int64(),
        "end_step": int64(),
        "fields": array(
            enum(SERIES_FIELDS),
            "Which per-bucket lists to return besides steps (default: all)",
            max_items=4 * len(SERIES_FIELDS),
        ),
    },
    ["run_ids", "metric_keys"],
)

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
            access=read(RUN_ID),
        ),
        Endpoint(
            "GET",
            "/mlflow/metrics/get-history-bulk",
            "One metric's every point for up to 100 runs (run_id repeated), as MLflow's UI "
            "asks for it",
            obj(
                {
                    # at least one, at most MAX_BULK_RUNS, checked by the handler
                    "run_id": array(string(max_length=256), max_items=10_000),
                    "metric_key": string(max_length=250),
                    "max_results": int32(minimum=1, maximum=MAX_HISTORY_BULK_RESULTS),
                }
            ),
            obj({"metrics": array(METRIC)}),
            _history_bulk,
            access=read(RUN_ID),
        ),
        Endpoint(
            "GET",
            "/mlflow/metrics/get-history-bulk-interval",
            "One metric of up to 100 runs, at most max_results points per run",
            obj(
                {
                    # at most MAX_BULK_RUNS ids and max_results in 1..MAX_BULK_RESULTS, checked
                    # by the handler in MLflow's words
                    "run_ids": array(string(max_length=256), max_items=10_000),
                    "metric_key": string(max_length=250),
                    "start_step": int64(),
                    "end_step": int64(),
                    "max_results": int32(),
                },
                ["run_ids", "metric_key"],
            ),
            obj({"metrics": array(METRIC)}),
            _bulk_interval,
            access=read(RUN_IDS),
        ),
        Endpoint(
            "POST",
            "/mltrail/metrics/series",
            "Series of many runs x keys, each reduced to at most max_buckets (min, max, last)",
            _SERIES_ARGS,
            obj({"series": array(_SERIES)}),
            _series,
            tag="mltrail",
            access=read(RUN_IDS),
        ),
        Endpoint(
            "POST",
            "/mltrail/metrics/series-packed",
            "The same series as /mltrail/metrics/series, as packed float64 arrays",
            _SERIES_ARGS,
            raw=_series_packed,
            tag="mltrail",
            openapi={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _SERIES_ARGS}},
                },
                "responses": {
                    "200": {
                        "description": (
                            "MTS1, a uint32 header length, a JSON header (fields; per series"
                            " run_id, key, exact, count, length), then float64 arrays"
                        ),
                        "content": {
                            PACKED_SERIES_MEDIA_TYPE: {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    }
                },
            },
            access=read(RUN_IDS),
        ),
    ]
