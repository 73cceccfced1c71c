"""Metric values that MLflow 3's autologging links to the logged model it trained (and to the
dataset they were measured on): training scores, iterations' evaluation results, a search's
best score, metrics computed on the model's predictions after training.

Linked values are still the run's metrics (its history gains them as any other point); the
logged model lists them too, so the model's page shows what it scored.  Without a model they
are plain run metrics: mltrail's store keeps a metric's dataset only for a model's metrics.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from mltrail.entities._logged_model import LoggedModelMetric
from mltrail.tracking import _fluent
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent_logged_models import initialize_logged_model

__all__ = ["linked_points", "log_linked_metrics", "start_logged_model", "write_linked_points"]


def linked_points(
    run_id: str, metrics: Mapping[str, Any], step: int, model_id: str, dataset: Any = None
) -> list[LoggedModelMetric]:
    """The points of *metrics* at *step*, linked to *model_id* (and to *dataset*)."""
    now = time.time_ns() // 1_000_000
    return [
        LoggedModelMetric(
            key=key,
            value=float(value),
            timestamp=now,
            step=step,
            model_id=model_id,
            run_id=run_id,
            dataset_name=None if dataset is None else dataset.name,
            dataset_digest=None if dataset is None else dataset.digest,
        )
        for key, value in metrics.items()
    ]


def write_linked_points(run_id: str, points: list[LoggedModelMetric]) -> None:
    if points:
        MlflowClient().log_model_metrics(run_id, points)


def log_linked_metrics(
    run_id: str,
    metrics: Mapping[str, Any],
    *,
    step: int = 0,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log *metrics* to the run, linked to *model_id* (on *dataset*) when there is one."""
    if model_id is None:
        _fluent.log_metrics(metrics, step=step, run_id=run_id)
    else:
        write_linked_points(run_id, linked_points(run_id, metrics, step, model_id, dataset))


def start_logged_model(run_id: str) -> str:
    """The logged model autologging stores the trained model in, made before training so
    that the training's metrics link to it (MLflow 3's boosting and Lightning autologging)."""
    return str(initialize_logged_model("model", source_run_id=run_id).model_id)
