"""Cutting a log_batch into requests within a backend's limits.

A tracking server takes at most 1000 metrics, 100 params and 100 tags, 1000 values in all,
per ``log-batch`` request (MLflow's limits); a backend that has such limits declares them as
its ``batch_limits`` and the background logger cuts its batches with :func:`split_batch`, so that
each request is stored whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from mltrail.validation import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_PER_BATCH,
    MAX_TAGS_PER_BATCH,
)

__all__ = ["MLFLOW_BATCH_LIMITS", "BatchLimits", "split_batch"]

#: (metrics, params, tags, values in all) per request.
BatchLimits = tuple[int, int, int, int]
M = TypeVar("M")
P = TypeVar("P")
T = TypeVar("T")
MLFLOW_BATCH_LIMITS: BatchLimits = (
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_PER_BATCH,
    MAX_TAGS_PER_BATCH,
    MAX_ENTITIES_PER_BATCH,
)


def split_batch(
    metrics: Sequence[M],
    params: Sequence[P],
    tags: Sequence[T],
    limits: BatchLimits = MLFLOW_BATCH_LIMITS,
) -> Iterator[tuple[Sequence[M], Sequence[P], Sequence[T]]]:
    """The parts of a batch (metrics, params, tags: entities or their JSON), each within
    *limits*, keeping the order within each kind.

    Params and tags go first, metrics fill the room left in each part; a batch within the
    limits comes back whole (one part), an empty batch as one empty part.
    """
    max_m, max_p, max_t, max_all = limits
    if min(limits) < 1:
        raise ValueError(f"batch limits must be positive, got {limits}")
    mi = pi = ti = 0
    first = True
    while first or mi < len(metrics) or pi < len(params) or ti < len(tags):
        first = False
        p = params[pi : pi + min(max_p, max_all)]
        t = tags[ti : ti + min(max_t, max_all - len(p))]
        m = metrics[mi : mi + min(max_m, max_all - len(p) - len(t))]
        pi, ti, mi = pi + len(p), ti + len(t), mi + len(m)
        yield m, p, t
