"""Metric series reduced for charts: at most N buckets of (last, min, max) per series.

A chart never needs more points than it has pixels.  :func:`reduce_series` takes the points of
one series, keeps those inside an optional step range, and when more than ``max_buckets``
remain splits the range into ``max_buckets`` buckets of equal step width; each non-empty bucket
gives the step, timestamp and value of its last point (greatest step, then timestamp, then the
later logged) and the minimum and maximum value in it (NaN is ignored unless a bucket holds only
NaN).  When no more than ``max_buckets`` points remain they are returned exactly, one bucket per
point.  The tracking server answers both its own series endpoint and MLflow's
``get-history-bulk-interval`` from this one function.

numpy is imported when a series is reduced, never at import time.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.entities._metric import metric_value_to_json
from mltrail.validation import validate_int

__all__ = [
    "MAX_BUCKETS_LIMIT",
    "SERIES_FIELDS",
    "MetricSeries",
    "reduce_series",
    "validate_series_request",
]

#: The most buckets one series may be reduced to.
MAX_BUCKETS_LIMIT = 10_000
#: The optional per-bucket lists of a series' JSON shape (``steps`` is always there).
SERIES_FIELDS = ("timestamps", "last", "min", "max")


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One (run, metric key) series, reduced; the lists are parallel, one entry per bucket.

    ``exact`` is True when nothing was reduced (every point in the range is there and
    ``last == min == max``); ``count`` is the number of points in the step range.
    """

    run_id: str
    key: str
    exact: bool
    count: int
    steps: list[int]
    timestamps: list[int]
    last: list[float]
    min: list[float]
    max: list[float]

    def to_dict(self, fields: Collection[str] = SERIES_FIELDS) -> dict[str, Any]:
        """The JSON shape: NaN and infinities as the strings MLflow uses for metric values.

        *fields* picks which of the optional lists (``SERIES_FIELDS``) are included; ``steps``
        always is.  A chart of many overlaid runs, for one, needs neither timestamps on a step
        axis nor the per-bucket min and max.
        """
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "key": self.key,
            "exact": self.exact,
            "count": self.count,
            "steps": self.steps,
        }
        if "timestamps" in fields:
            out["timestamps"] = self.timestamps
        for name in ("last", "min", "max"):
            if name in fields:
                out[name] = _values_to_json(getattr(self, name))
        return out


def _values_to_json(values: list[float]) -> list[float | str]:
    # A finite sum means no NaN or infinity in the list (those make any sum non-finite): then
    # the list is already its JSON form, without a Python call per value.
    if math.isfinite(sum(values)):
        return values  # type: ignore[return-value]
    return [metric_value_to_json(v) for v in values]


def validate_series_request(
    max_buckets: Any, start_step: Any, end_step: Any
) -> tuple[int, int | None, int | None]:
    """Check the reduction arguments; errors name the field and the rule."""
    buckets = validate_int("max_buckets", max_buckets)
    if not 1 <= buckets <= MAX_BUCKETS_LIMIT:
        raise InvalidArgument(
            f"Invalid max_buckets {max_buckets!r}: must be between 1 and {MAX_BUCKETS_LIMIT}"
        )
    start = None if start_step is None else validate_int("start_step", start_step)
    end = None if end_step is None else validate_int("end_step", end_step)
    if start is not None and end is not None and start > end:
        raise InvalidArgument(
            f"Invalid step range: start_step ({start}) must not be greater than end_step ({end})"
        )
    return buckets, start, end


def _in_order(np: Any, steps: Any, stamps: Any) -> bool:
    """True when (step, timestamp) never decreases, so a stable sort would keep the order."""
    step_diff = np.diff(steps)
    if bool((step_diff > 0).all()):
        return True
    if bool((step_diff < 0).any()):
        return False
    ties = np.flatnonzero(step_diff == 0)
    return bool((stamps[ties + 1] >= stamps[ties]).all())


def reduce_series(
    run_id: str,
    key: str,
    steps: Sequence[int] | Any,
    timestamps: Sequence[int] | Any,
    values: Sequence[float] | Any,
    max_buckets: int,
    start_step: int | None = None,
    end_step: int | None = None,
) -> MetricSeries:
    """Reduce one series given as parallel sequences in logging order (see the module doc)."""
    import numpy as np

    step_arr = np.asarray(steps, dtype=np.int64)
    stamp_arr = np.asarray(timestamps, dtype=np.int64)
    value_arr = np.asarray(values, dtype=np.float64)
    if start_step is not None or end_step is not None:
        mask = np.ones(step_arr.shape, dtype=bool)
        if start_step is not None:
            mask &= step_arr >= start_step
        if end_step is not None:
            mask &= step_arr <= end_step
        step_arr, stamp_arr, value_arr = step_arr[mask], stamp_arr[mask], value_arr[mask]
    count = int(step_arr.size)
    # By step, then timestamp, then logging order (lexsort is stable).  Most series are logged
    # in step order already: then sorting would change nothing, and checking is much cheaper.
    if count > 1 and not _in_order(np, step_arr, stamp_arr):
        order = np.lexsort((stamp_arr, step_arr))
        step_arr, stamp_arr, value_arr = step_arr[order], stamp_arr[order], value_arr[order]
    if count <= max_buckets:
        values_list = value_arr.tolist()
        return MetricSeries(
            run_id,
            key,
            True,
            count,
            step_arr.tolist(),
            stamp_arr.tolist(),
            values_list,
            list(values_list),
            list(values_list),
        )
    low = int(step_arr[0])
    width = float(int(step_arr[-1]) - low + 1)
    offsets = (step_arr - low).astype(np.float64)
    bucket = np.minimum((offsets * max_buckets / width).astype(np.int64), max_buckets - 1)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    ends = np.concatenate((starts[1:] - 1, [count - 1]))
    return MetricSeries(
        run_id,
        key,
        False,
        count,
        step_arr[ends].tolist(),
        stamp_arr[ends].tolist(),
        value_arr[ends].tolist(),
        np.fmin.reduceat(value_arr, starts).tolist(),
        np.fmax.reduceat(value_arr, starts).tolist(),
    )
