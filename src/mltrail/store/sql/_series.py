"""Reduced metric series for charts, read from the packed chunks in one query.

Chunks whose step range lies outside the requested ``[start_step, end_step]`` are never read;
the rest are streamed per (run, key), decoded, concatenated and reduced by
:func:`mltrail.store._series.reduce_series`, so memory holds one series at a time.  A chart on a
step axis needs no timestamps: then they are not read (a third of the bytes), except for the
series whose steps do not strictly increase, where they decide the order; those are read after
the main query (some drivers cannot run a query while another streams).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, null, select

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import Metric
from mltrail.store._sample import sampled_metrics
from mltrail.store._series import MetricSeries, reduce_series, validate_series_request
from mltrail.store.sql._core import SqlContext
from mltrail.store.sql._schema import metric_chunks_table, runs_table

__all__ = ["MAX_SERIES_KEYS", "MAX_SERIES_RUNS", "read_metric_series", "sample_metric_series"]

_MC = metric_chunks_table.c
_R = runs_table.c

#: Most runs and keys one call may ask for.
MAX_SERIES_RUNS = 1000
MAX_SERIES_KEYS = 100


def _check_ids(field: str, items: Sequence[str], limit: int) -> list[str]:
    unique = list(dict.fromkeys(items))
    if not unique:
        raise InvalidArgument(f"Invalid {field}: at least one is required")
    if len(unique) > limit:
        raise InvalidArgument(f"Invalid {field}: at most {limit} per request, got {len(unique)}")
    for item in unique:
        if not isinstance(item, str) or not item:
            raise InvalidArgument(f"Invalid {field} entry {item!r}: must be a non-empty string")
    return unique


def read_metric_series(
    ctx: SqlContext,
    run_ids: Sequence[str],
    metric_keys: Sequence[str],
    max_buckets: int,
    start_step: int | None,
    end_step: int | None,
    timestamps: bool,
) -> list[MetricSeries]:
    """:meth:`mltrail.store.MetricStore.get_metric_series` in one query.

    With ``timestamps=False`` (a chart on a step axis) each series' ``timestamps`` is empty
    and the stored timestamps are mostly not read (see the module doc).
    """
    buckets, start, end = validate_series_request(max_buckets, start_step, end_step)
    runs = _check_ids("run_ids", run_ids, MAX_SERIES_RUNS)
    keys = _check_ids("metric_keys", metric_keys, MAX_SERIES_KEYS)

    def read(conn: Connection) -> list[MetricSeries]:
        pks: dict[str, int] = {
            row.run_uuid: row.id
            for row in conn.execute(select(_R.id, _R.run_uuid).where(_R.run_uuid.in_(runs)))
        }
        missing = [r for r in runs if r not in pks]
        if missing:
            raise NotFound(f"Run with id={missing[0]} not found")
        by_pk = {pk: run_id for run_id, pk in pks.items()}

        def in_range(query: Any) -> Any:
            if start is not None:
                query = query.where(_MC.max_step >= start)
            if end is not None:
                query = query.where(_MC.min_step <= end)
            return query

        stamps_col = _MC.timestamps if timestamps else null()
        query = in_range(
            select(_MC.run_id, _MC.key, _MC.steps, stamps_col, _MC.vals).where(
                _MC.run_id.in_(list(by_pk)), _MC.key.in_(keys)
            )
        )
        query = query.order_by(_MC.run_id, _MC.key, _MC.id).execution_options(yield_per=64)
        found: dict[tuple[str, str], MetricSeries] = {}
        later: list[tuple[int, str, Any, Any]] = []  # unordered, once the query is read
        current: tuple[int, str] | None = None
        parts: list[tuple[bytes, bytes | None, bytes]] = []

        def keep(series: MetricSeries) -> None:
            if series.count:
                found[(series.run_id, series.key)] = series

        def flush() -> None:
            if current is None or not parts:
                return
            run_pk, key = current
            steps, values = _column(parts, 0, "<i8"), _column(parts, 2, "<f8")
            run_id = by_pk[run_pk]
            if timestamps:
                stamps = _column(parts, 1, "<i8")
                keep(reduce_series(run_id, key, steps, stamps, values, buckets, start, end))
            elif _strictly_increasing(steps):
                # The order is known: zeros stand in for the timestamps nobody asked for.
                zeros = _zeros(steps)
                series = reduce_series(run_id, key, steps, zeros, values, buckets, start, end)
                keep(replace(series, timestamps=[]))
            else:
                later.append((run_pk, key, steps, values))

        for run_pk, key, steps, stamps, vals in conn.execute(query):
            if (run_pk, key) != current:
                flush()
                current, parts = (run_pk, key), []
            parts.append((steps, stamps, vals))
        flush()
        for run_pk, key, steps, values in later:
            one = select(_MC.timestamps).where(_MC.run_id == run_pk, _MC.key == key)
            blobs = [row[0] for row in conn.execute(in_range(one).order_by(_MC.id))]
            stamps = _column([(b, b, b) for b in blobs], 0, "<i8")
            series = reduce_series(by_pk[run_pk], key, steps, stamps, values, buckets, start, end)
            keep(replace(series, timestamps=[]))
        return [found[(r, k)] for r in runs for k in keys if (r, k) in found]

    return ctx.read(read)


def sample_metric_series(
    ctx: SqlContext,
    run_ids: Sequence[str],
    metric_key: str,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    """:meth:`mltrail.store.MetricStore.sample_metric_history` in one query: the chunks of
    the runs' series that reach into the step range, streamed run by run, each run's points
    decoded into arrays and sampled there (no object per point; only the picks become
    metrics)."""
    if not run_ids:
        return []
    runs = _check_ids("run_ids", run_ids, MAX_SERIES_RUNS)
    ranged = start_step is not None and end_step is not None

    def read(conn: Connection) -> list[Metric]:
        query = (
            select(_R.run_uuid, _MC.steps, _MC.timestamps, _MC.vals)
            .join(runs_table, _R.id == _MC.run_id)
            .where(_R.run_uuid.in_(runs), _MC.key == metric_key)
        )
        if ranged:
            query = query.where(_MC.max_step >= start_step, _MC.min_step <= end_step)
        query = query.order_by(_MC.run_id, _MC.id).execution_options(yield_per=64)
        picked: dict[str, list[Metric]] = {}
        current: str | None = None
        parts: list[tuple[bytes, bytes | None, bytes]] = []

        def flush() -> None:
            if current is None:
                return
            picked[current] = sampled_metrics(
                current,
                metric_key,
                _column(parts, 0, "<i8"),
                _column(parts, 1, "<i8"),
                _column(parts, 2, "<f8"),
                max_results,
                start_step if ranged else None,
                end_step if ranged else None,
            )

        for run_uuid, steps, stamps, vals in conn.execute(query):
            if run_uuid != current:
                flush()
                current, parts = run_uuid, []
            parts.append((steps, stamps, vals))
        flush()
        return [m for run_id in run_ids for m in picked.get(run_id, ())]

    return ctx.read(read)


def _column(parts: list[tuple[bytes, bytes | None, bytes]], index: int, dtype: str) -> Any:
    import numpy as np

    # The blobs are little-endian int64/float64 arrays (see _codec).
    return np.concatenate([np.frombuffer(bytes(p[index] or b""), dtype=dtype) for p in parts])


def _strictly_increasing(steps: Any) -> bool:
    import numpy as np

    return steps.size < 2 or bool((np.diff(steps) > 0).all())


def _zeros(steps: Any) -> Any:
    import numpy as np

    return np.zeros(steps.shape, dtype=np.int64)
