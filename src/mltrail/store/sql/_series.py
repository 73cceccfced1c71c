"""Reduced metric series for charts, read from the packed chunks in one query.

Chunks whose step range lies outside the requested ``[start_step, end_step]`` are never read;
the rest are streamed per (run, key), decoded, concatenated and reduced by
:func:`mltrail.store._series.reduce_series`, so memory holds one series at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.store._series import MetricSeries, reduce_series, validate_series_request
from mltrail.store.sql._core import SqlCore
from mltrail.store.sql._schema import metric_chunks_table, runs_table

__all__ = ["MAX_SERIES_KEYS", "MAX_SERIES_RUNS", "SqlSeries"]

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


class SqlSeries(SqlCore):
    def get_metric_series(
        self,
        run_ids: Sequence[str],
        metric_keys: Sequence[str],
        max_buckets: int = 1000,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[MetricSeries]:
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
            query = select(_MC.run_id, _MC.key, _MC.steps, _MC.timestamps, _MC.vals).where(
                _MC.run_id.in_(list(by_pk)), _MC.key.in_(keys)
            )
            if start is not None:
                query = query.where(_MC.max_step >= start)
            if end is not None:
                query = query.where(_MC.min_step <= end)
            query = query.order_by(_MC.run_id, _MC.key, _MC.id).execution_options(yield_per=64)
            found: dict[tuple[str, str], MetricSeries] = {}
            current: tuple[int, str] | None = None
            parts: list[tuple[bytes, bytes, bytes]] = []

            def flush() -> None:
                if current is not None and parts:
                    run_id = by_pk[current[0]]
                    series = _reduce(run_id, current[1], parts, buckets, start, end)
                    if series.count:
                        found[(run_id, current[1])] = series

            for run_pk, key, steps, stamps, vals in conn.execute(query):
                if (run_pk, key) != current:
                    flush()
                    current, parts = (run_pk, key), []
                parts.append((steps, stamps, vals))
            flush()
            return [found[(r, k)] for r in runs for k in keys if (r, k) in found]

        return self._read(read)


def _reduce(
    run_id: str,
    key: str,
    parts: list[tuple[bytes, bytes, bytes]],
    buckets: int,
    start: int | None,
    end: int | None,
) -> MetricSeries:
    import numpy as np

    def column(index: int, dtype: Any) -> Any:
        # The blobs are little-endian int64/float64 arrays (see _codec).
        return np.concatenate([np.frombuffer(bytes(p[index]), dtype=dtype) for p in parts])

    return reduce_series(
        run_id,
        key,
        column(0, "<i8"),
        column(1, "<i8"),
        column(2, "<f8"),
        buckets,
        start,
        end,
    )
