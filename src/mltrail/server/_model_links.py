"""What the run endpoints need of logged models: linked metrics and model inputs.

Kept apart from ``_logged_models`` (the logged-model endpoints) so that ``_runs`` can use it
without importing the artifact routes.
"""

from __future__ import annotations

from typing import Any

from mltrail.entities._logged_model import LoggedModelInput, LoggedModelMetric
from mltrail.server._schema import array, obj, string

__all__ = [
    "MODEL_INPUTS",
    "MODEL_METRIC_FIELDS",
    "model_inputs_of",
    "model_metrics_of",
]

#: Fields a metric in ``log-metric`` / ``log-batch`` may carry to link it to a logged model.
MODEL_METRIC_FIELDS: dict[str, Any] = {
    "model_id": string(max_length=64),
    "dataset_name": string(max_length=500),
    "dataset_digest": string(max_length=64),
}


def model_metrics_of(run_id: str, metrics: list[dict[str, Any]]) -> list[LoggedModelMetric]:
    """The checked metrics of a request that carry a ``model_id``, as entities."""
    return [
        LoggedModelMetric(
            key=m["key"],
            value=m["value"],
            timestamp=m["timestamp"],
            step=m.get("step", 0),
            model_id=m["model_id"],
            run_id=run_id,
            dataset_name=m.get("dataset_name") or None,
            dataset_digest=m.get("dataset_digest") or None,
        )
        for m in metrics
        if m.get("model_id")
    ]


#: The ``models`` field of ``runs/log-inputs``.
MODEL_INPUTS = array(obj({"model_id": string(max_length=64)}, ["model_id"]), max_items=1000)


def model_inputs_of(datasets_request: dict[str, Any]) -> list[LoggedModelInput]:
    """The ``models`` of a ``runs/log-inputs`` request as entities."""
    return [LoggedModelInput(m["model_id"]) for m in datasets_request.get("models", [])]
