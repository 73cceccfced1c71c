"""Metric, Param and tag entities."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from mltrail.entities._dictionary import Dictionary

__all__ = ["ExperimentTag", "Metric", "Param", "RunTag", "metric_value_to_json"]


def metric_value_to_json(value: float) -> float | str:
    """MLflow's JSON form of a metric value: NaN and infinities travel as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class Metric(NamedTuple):
    """One point of a metric series; ``timestamp`` in ms since the epoch.

    ``model_id``, ``dataset_name`` and ``dataset_digest`` say which logged model and dataset a
    point was measured for (``log_metric(..., model_id=, dataset=)``); ``run_id`` the run it
    belongs to, where known.
    """

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "timestamp": self.timestamp,
            "step": self.step,
            "model_id": self.model_id,
            "dataset_name": self.dataset_name,
            "dataset_digest": self.dataset_digest,
            "run_id": self.run_id,
        }

    @classmethod
    def from_dictionary(cls, metric_dict: dict[str, Any]) -> Metric:
        get = metric_dict.get
        return cls(
            metric_dict["key"],
            float(metric_dict["value"]),
            int(get("timestamp") or 0),
            int(get("step") or 0),
            get("model_id"),
            get("dataset_name"),
            get("dataset_digest"),
            get("run_id"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The REST (JSON) shape."""
        return {
            "key": self.key,
            "value": metric_value_to_json(self.value),
            "timestamp": self.timestamp,
            "step": self.step,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Metric:
        return cls(
            d["key"], float(d["value"]), int(d.get("timestamp") or 0), int(d.get("step") or 0)
        )


@dataclass(frozen=True, slots=True)
class Param(Dictionary):
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Param:
        return cls(d["key"], str(d["value"]))


@dataclass(frozen=True, slots=True)
class RunTag(Dictionary):
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunTag:
        return cls(d["key"], str(d.get("value", "")))


@dataclass(frozen=True, slots=True)
class ExperimentTag(Dictionary):
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentTag:
        return cls(d["key"], str(d.get("value", "")))
