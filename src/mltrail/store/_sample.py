"""MLflow's sample of a metric series, as its ``get-history-bulk-interval`` endpoint picks it.

MLflow 3.17's SQL store (the store of ``mlflow server``) picks the points of one run's series
this way, whatever its length:

1. keep the points whose step lies in ``[start_step, end_step]`` (both given) or all of them;
2. order them by (step, timestamp, value, is NaN), a NaN value ranking as 0 (MLflow stores a
   NaN as the value 0 with a flag), so a NaN comes right after a 0 of the same step and time;
3. cut that order into ``max_results`` groups as SQL's ``NTILE`` does (the first
   ``total % max_results`` groups hold one point more; with fewer points than groups, one
   point each) and keep the first point of each group;
4. keep the last point of the order as well: appended, or in place of the last pick when
   there are already ``max_results`` picks (not when the last pick is that point already).

:func:`sample_indices` does steps 2-4 on parallel arrays without a Python object per point
(numpy, imported when called).  The SQL store feeds it the stored chunks of each run; any
other store its histories (:meth:`mltrail.store.MetricStore.sample_metric_history`).
"""

from __future__ import annotations

from typing import Any

from mltrail.entities import Metric

__all__ = ["ntile_firsts", "sample_indices", "sampled_metrics"]


def ntile_firsts(total: int, groups: int) -> list[int]:
    """The position of the first of each of ``NTILE(groups)``'s groups of *total* ordered
    items (the first ``total % groups`` groups hold one item more)."""
    if total <= groups:
        return list(range(total))
    size, extra = divmod(total, groups)
    return [g * size + min(g, extra) for g in range(groups)]


def sample_indices(
    steps: Any,
    timestamps: Any,
    values: Any,
    max_results: int,
    start_step: int | None = None,
    end_step: int | None = None,
) -> Any:
    """Indices into the parallel arrays of the points MLflow's sample keeps, in MLflow's
    order (see the module doc)."""
    import numpy as np

    step_arr = np.asarray(steps, dtype=np.int64)
    stamp_arr = np.asarray(timestamps, dtype=np.int64)
    value_arr = np.asarray(values, dtype=np.float64)
    index = np.arange(step_arr.size)
    if start_step is not None and end_step is not None:
        inside = (step_arr >= start_step) & (step_arr <= end_step)
        if not inside.all():
            index = index[inside]
    if index.size == 0:
        return index
    nan = np.isnan(value_arr[index])
    ranked_value = np.where(nan, 0.0, value_arr[index])
    # lexsort: the last key is the primary one
    order = index[np.lexsort((nan, ranked_value, stamp_arr[index], step_arr[index]))]
    limit = max(1, max_results)
    picks = order[ntile_firsts(int(order.size), limit)]
    last = order[-1]

    def rank_key(i: Any) -> tuple[int, int, float, bool]:
        is_nan = bool(np.isnan(value_arr[i]))
        return int(step_arr[i]), int(stamp_arr[i]), 0.0 if is_nan else float(value_arr[i]), is_nan

    if rank_key(picks[-1]) != rank_key(last):
        if picks.size >= limit:
            picks = picks.copy()
            picks[-1] = last
        else:
            picks = np.append(picks, last)
    return picks


def sampled_metrics(
    run_id: str,
    key: str,
    steps: Any,
    timestamps: Any,
    values: Any,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[Metric]:
    """The sampled points of one run's series (parallel arrays in any order) as metrics."""
    import numpy as np

    picks = sample_indices(steps, timestamps, values, max_results, start_step, end_step)
    step_arr = np.asarray(steps, dtype=np.int64)[picks].tolist()
    stamp_arr = np.asarray(timestamps, dtype=np.int64)[picks].tolist()
    value_arr = np.asarray(values, dtype=np.float64)[picks].tolist()
    return [
        Metric(key, value, stamp, step, run_id=run_id)
        for step, stamp, value in zip(step_arr, stamp_arr, value_arr, strict=True)
    ]
