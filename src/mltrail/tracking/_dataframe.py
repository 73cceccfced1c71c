"""search_runs' pandas view: one row per run, MLflow's column names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail.entities import Run

__all__ = ["runs_to_dataframe"]

_INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def runs_to_dataframe(runs: Sequence[Run]) -> Any:
    """Columns run_id, experiment_id, status, artifact_uri, start_time, end_time (UTC
    datetimes), then ``metrics.*``, ``params.*`` and ``tags.*`` (sorted by name)."""
    import numpy as np
    import pandas as pd

    n = len(runs)
    info: dict[str, list[Any]] = {
        c: [r.info.__getattribute__(c) for r in runs] for c in _INFO_COLUMNS
    }
    metrics: dict[str, Any] = {}
    params: dict[str, list[Any]] = {}
    tags: dict[str, list[Any]] = {}
    for i, run in enumerate(runs):
        for key, value in run.data.metrics.items():
            column = metrics.get(key)
            if column is None:
                column = metrics[key] = np.full(n, np.nan)
            column[i] = value
        for source, target in ((run.data.params, params), (run.data.tags, tags)):
            for key, text in source.items():
                values = target.get(key)
                if values is None:
                    values = target[key] = [None] * n
                values[i] = text
    frame: dict[str, Any] = {
        "run_id": info["run_id"],
        "experiment_id": info["experiment_id"],
        "status": info["status"],
        "artifact_uri": info["artifact_uri"],
        "start_time": pd.to_datetime(
            pd.Series(info["start_time"], dtype="float64"), unit="ms", utc=True
        ),
        "end_time": pd.to_datetime(
            pd.Series(info["end_time"], dtype="float64"), unit="ms", utc=True
        ),
    }
    frame.update({f"metrics.{k}": metrics[k] for k in sorted(metrics)})
    frame.update({f"params.{k}": params[k] for k in sorted(params)})
    frame.update({f"tags.{k}": tags[k] for k in sorted(tags)})
    return pd.DataFrame(frame, index=pd.RangeIndex(n))
