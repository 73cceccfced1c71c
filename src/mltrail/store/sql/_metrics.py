"""Metric series in the SQL store: packed chunks for history, summaries for search."""

from __future__ import annotations

import contextlib
import functools
import gc
import math
from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from mltrail.entities import Metric
from mltrail.store._base import MetricStore, PagedList
from mltrail.store._series import MetricSeries
from mltrail.store.sql._codec import (
    decode_float,
    decode_token,
    encode_float,
    encode_token,
    pack_float64,
    pack_int64,
    unpack_float64,
    unpack_int64,
)
from mltrail.store.sql._core import SqlContext
from mltrail.store.sql._prepared import Prepared, PreparedIn, bound
from mltrail.store.sql._schema import latest_metrics_table, metric_chunks_table
from mltrail.store.sql._series import read_metric_series, sample_metric_series
from mltrail.validation import validate_int, validate_key, validate_metric_value

__all__ = [
    "SeriesGroup",
    "SqlMetrics",
    "chunk_rows",
    "group_metrics",
    "insert_series_rows",
    "summary_rows",
]

_LM = latest_metrics_table.c
_MC = metric_chunks_table.c
_new_tuple = tuple.__new__
#: A history point's model, dataset and run fields (None: every field of Metric is there).
_NO_LINKS = (repeat(None),) * 4


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small tuples are built.

    A million points would otherwise trigger hundreds of collections that cannot find
    anything (plain tuples of numbers form no cycles) and cost four times the build itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# A chunk row holds at most this many points, so reads can page without decoding everything.
CHUNK_POINTS = 50_000


class SeriesGroup:
    """Points of one metric key from one batch, in logging order."""

    __slots__ = ("steps", "timestamps", "values")

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.timestamps: list[int] = []
        self.values: list[float] = []


def group_metrics(metrics: Sequence[Metric]) -> dict[str, SeriesGroup]:
    """Validate metrics and group them by key, keeping their order."""
    groups: dict[str, SeriesGroup] = {}
    for m in metrics:
        group = groups.get(m.key)
        if group is None:
            validate_key(m.key, "metric")
            group = groups[m.key] = SeriesGroup()
        group.values.append(validate_metric_value(m.key, m.value))
        group.timestamps.append(
            m.timestamp if type(m.timestamp) is int else validate_int("timestamp", m.timestamp)
        )
        group.steps.append(m.step if type(m.step) is int else validate_int("step", m.step or 0))
    return groups


def _summary(group: SeriesGroup) -> dict[str, Any]:
    """Latest (greatest step, then timestamp, then the later logged), min, max, count."""
    best = 0
    steps, stamps = group.steps, group.timestamps
    for i in range(1, len(steps)):
        if (steps[i], stamps[i]) >= (steps[best], stamps[best]):
            best = i
    numbers = [v for v in group.values if not math.isnan(v)]
    return {
        "latest": group.values[best],
        "timestamp": stamps[best],
        "step": steps[best],
        "min": min(numbers) if numbers else math.nan,
        "max": max(numbers) if numbers else math.nan,
        "count": len(steps),
    }


def _merge(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """Combine a stored summary row with a new batch's summary."""
    old_latest = decode_float(old.value, old.special)
    if (new["step"], new["timestamp"]) < (old.step, old.timestamp):
        new = {**new, "latest": old_latest, "step": old.step, "timestamp": old.timestamp}
    lo = [
        x for x in (decode_float(old.min_value, old.min_special), new["min"]) if not math.isnan(x)
    ]
    hi = [
        x for x in (decode_float(old.max_value, old.max_special), new["max"]) if not math.isnan(x)
    ]
    return {
        **new,
        "min": min(lo) if lo else math.nan,
        "max": max(hi) if hi else math.nan,
        "count": new["count"] + old.count,
    }


def _summary_row(run_pk: int, key: str, s: dict[str, Any]) -> dict[str, Any]:
    value, special = encode_float(s["latest"])
    min_value, min_special = encode_float(s["min"])
    max_value, max_special = encode_float(s["max"])
    return {
        "run_id": run_pk,
        "key": key,
        "value": value,
        "special": special,
        "timestamp": s["timestamp"],
        "step": s["step"],
        "min_value": min_value,
        "min_special": min_special,
        "max_value": max_value,
        "max_special": max_special,
        "count": s["count"],
    }


def _latest_rows(for_update: bool) -> PreparedIn:
    def build(_: str, n: int) -> Any:
        query = select(latest_metrics_table).where(
            _LM.run_id == bindparam("run_id"), _LM.key.in_(PreparedIn.names(n))
        )
        return query.with_for_update() if for_update else query

    return PreparedIn(build)


_LATEST = _latest_rows(False)
_LATEST_FOR_UPDATE = _latest_rows(True)
_INSERT_CHUNK = Prepared(
    lambda _: insert(metric_chunks_table).values(
        **bound("run_id", "key", "count", "min_step", "max_step", "steps", "timestamps", "vals")
    )
)


def chunk_rows(run_pk: int, groups: dict[str, SeriesGroup]) -> list[dict[str, Any]]:
    """The ``metric_chunks`` rows holding each group's points (at most CHUNK_POINTS a row)."""
    chunks: list[dict[str, Any]] = []
    for key, g in groups.items():
        for lo in range(0, len(g.steps), CHUNK_POINTS):
            steps = g.steps[lo : lo + CHUNK_POINTS]
            chunks.append(
                {
                    "run_id": run_pk,
                    "key": key,
                    "count": len(steps),
                    "min_step": min(steps),
                    "max_step": max(steps),
                    "steps": pack_int64(steps),
                    "timestamps": pack_int64(g.timestamps[lo : lo + CHUNK_POINTS]),
                    "vals": pack_float64(g.values[lo : lo + CHUNK_POINTS]),
                }
            )
    return chunks


def summary_rows(run_pk: int, groups: dict[str, SeriesGroup]) -> list[dict[str, Any]]:
    """The ``latest_metrics`` rows of series that hold exactly these groups' points."""
    return [_summary_row(run_pk, key, _summary(g)) for key, g in groups.items()]


def insert_series_rows(
    conn: Connection, chunks: Sequence[dict[str, Any]], summaries: Sequence[dict[str, Any]]
) -> None:
    """Insert chunk and summary rows built by :func:`chunk_rows` and :func:`summary_rows`
    (for series that have no stored points yet)."""
    _INSERT_CHUNK.execute_many(conn, chunks)
    if summaries:
        columns = tuple(summaries[0])
        _insert_summary(columns).execute_many(conn, summaries)


@functools.lru_cache(maxsize=4)
def _insert_summary(columns: tuple[str, ...]) -> Prepared:
    return Prepared(lambda _: insert(latest_metrics_table).values(**bound(*columns)))


class SqlMetrics(MetricStore):
    """Metric histories (chunks of points) and their per-run summaries."""

    def __init__(self, ctx: SqlContext) -> None:
        self._ctx = ctx

    def write_groups(self, conn: Connection, run_pk: int, groups: dict[str, SeriesGroup]) -> None:
        """Append each group's points to the run's series and update its summaries."""
        chunks = chunk_rows(run_pk, groups)
        _INSERT_CHUNK.execute_many(conn, chunks)
        latest = _LATEST_FOR_UPDATE if self._ctx.dialect != "sqlite" else _LATEST
        stored = {row.key: row for row in latest.all(conn, list(groups), {"run_id": run_pk})}
        rows = []
        for key, g in groups.items():
            summary = _summary(g)
            old = stored.get(key)
            rows.append(_summary_row(run_pk, key, summary if old is None else _merge(old, summary)))
        self._ctx.upsert(
            conn,
            latest_metrics_table,
            rows,
            ["run_id", "key"],
            [c for c in rows[0] if c not in ("run_id", "key")],
        )

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        start_chunk, offset = 0, 0
        if page_token:
            state = decode_token(page_token, "history")
            start_chunk, offset = int(state["c"]), int(state["o"])
        limit = None if max_results is None else validate_int("max_results", max_results)

        def read(conn: Connection) -> PagedList[Metric]:
            pk = self._ctx.run_row(conn, run_id).id
            query = (
                select(_MC.id, _MC.count, _MC.steps, _MC.timestamps, _MC.vals)
                .where(_MC.run_id == pk, _MC.key == metric_key, _MC.id >= start_chunk)
                .order_by(_MC.id)
            )
            out: list[Metric] = []
            token = None
            with paused_gc():
                for chunk_id, count, steps, stamps, vals in conn.execute(query):
                    first = offset if chunk_id == start_chunk else 0
                    take = count - first
                    if limit is not None and len(out) + take > limit:
                        take = limit - len(out)
                    end = first + take
                    columns: tuple[Any, ...] = (
                        unpack_float64(vals),
                        unpack_int64(stamps),
                        unpack_int64(steps),
                    )
                    if first or end < count:
                        columns = tuple(c[first:end] for c in columns)
                    # tuple.__new__ straight from C: no Python frame per point.
                    out.extend(
                        map(
                            _new_tuple,
                            repeat(Metric, take),
                            zip(repeat(metric_key, take), *columns, *_NO_LINKS, strict=False),
                        )
                    )
                    if limit is not None and len(out) >= limit:
                        if end < count:
                            token = encode_token({"t": "history", "c": chunk_id, "o": end})
                        elif self._has_chunk_after(conn, pk, metric_key, chunk_id):
                            token = encode_token({"t": "history", "c": chunk_id + 1, "o": 0})
                        break
            return PagedList(out, token)

        return self._ctx.read(read)

    def get_metric_series(
        self,
        run_ids: Sequence[str],
        metric_keys: Sequence[str],
        max_buckets: int = 1000,
        start_step: int | None = None,
        end_step: int | None = None,
        *,
        timestamps: bool = True,
    ) -> list[MetricSeries]:
        """See :meth:`mltrail.store.MetricStore.get_metric_series`: one query over the stored
        chunks, skipping those outside the step range (and, without ``timestamps``, mostly
        not reading the stored timestamps)."""
        return read_metric_series(
            self._ctx, run_ids, metric_keys, max_buckets, start_step, end_step, timestamps
        )

    def sample_metric_history(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """See :meth:`mltrail.store.MetricStore.sample_metric_history`: one query over the
        stored chunks in the step range, sampled in arrays."""
        return sample_metric_series(
            self._ctx, run_ids, metric_key, max_results, start_step, end_step
        )

    @staticmethod
    def _has_chunk_after(conn: Connection, run_pk: int, key: str, chunk_id: int) -> bool:
        query = select(_MC.id).where(_MC.run_id == run_pk, _MC.key == key, _MC.id > chunk_id)
        return conn.execute(query.limit(1)).first() is not None
