"""MLflow 3's logged models: a model logged once, with its own id, params, tags and metrics.

A logged model (``models:/<model_id>``) lives in an experiment, usually comes from a run
(``source_run_id``), keeps its files below its own ``artifact_location`` and moves from
``PENDING`` to ``READY`` (or ``FAILED``) when its upload is finalized.  Runs point at the models
they produced (outputs, with the step) and used (inputs).  The JSON shapes are MLflow's
(``LoggedModel`` = ``info`` + ``data``; statuses travel as ``LOGGED_MODEL_READY`` and so on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mltrail._exceptions import InvalidArgument
from mltrail.entities._dictionary import Dictionary, as_entity, mapping_of
from mltrail.entities._metric import Metric, metric_value_to_json

__all__ = [
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelMetric",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "validate_model_id",
]

_MAX_MODEL_ID_LENGTH = 64


def validate_model_id(model_id: Any) -> str:
    if (
        not isinstance(model_id, str)
        or not model_id
        or len(model_id) > _MAX_MODEL_ID_LENGTH
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in model_id)
    ):
        raise InvalidArgument(
            f"Invalid model_id {model_id!r}: must be 1-{_MAX_MODEL_ID_LENGTH} letters, digits, "
            "'-' or '_' (ids look like 'm-' followed by 32 hex digits)"
        )
    return model_id


class LoggedModelStatus:
    """``PENDING`` while files are uploaded, then ``READY`` or ``FAILED``."""

    UNSPECIFIED = "UNSPECIFIED"  # MLflow's proto default; no stored model has it
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    ALL = (PENDING, READY, FAILED)
    #: MLflow's wire names (proto enum ``LoggedModelStatus``), in proto order 1, 2, 3.
    WIRE = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")

    @classmethod
    def to_wire(cls, status: str) -> str:
        return cls.WIRE[cls.ALL.index(status)]

    @classmethod
    def parse(cls, value: Any) -> str:
        """``READY``, ``LOGGED_MODEL_READY`` (any case), or the proto number 1-3."""
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3:
            return cls.ALL[value - 1]
        if isinstance(value, str):
            upper = value.strip().upper()
            if upper in cls.ALL:
                return upper
            if upper in cls.WIRE:
                return cls.ALL[cls.WIRE.index(upper)]
            if upper == "UPLOAD_FAILED":
                return cls.FAILED
        raise InvalidArgument(
            f"Invalid logged model status {value!r}: must be one of "
            f"{', '.join(cls.ALL)} (or {', '.join(cls.WIRE)})"
        )


@dataclass(frozen=True, slots=True)
class LoggedModelParameter(Dictionary):
    """One parameter of a logged model (``LoggedModel.params`` maps keys to values)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModelTag(Dictionary):
    """One tag of a logged model (``LoggedModel.tags`` maps keys to values)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModelMetric:
    """A metric point linked to a logged model (and to the run and dataset it came from)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str = ""
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "value": metric_value_to_json(self.value),
            "timestamp": self.timestamp,
            "step": self.step,
            "model_id": self.model_id,
        }
        for name in ("run_id", "dataset_name", "dataset_digest"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out

    def to_metric(self) -> Metric:
        """As a :class:`Metric` (what MLflow's ``LoggedModel.metrics`` holds)."""
        return Metric(
            self.key,
            self.value,
            self.timestamp,
            self.step,
            self.model_id or None,
            self.dataset_name,
            self.dataset_digest,
            self.run_id,
        )

    @classmethod
    def from_metric(cls, value: Any) -> LoggedModelMetric:
        """From a :class:`Metric` in any form ``Metric.from_dictionary`` reads, or MLflow's."""
        m = as_entity(Metric, value)
        return cls(
            m.key,
            m.value,
            m.timestamp,
            m.step,
            m.model_id or "",
            m.run_id,
            m.dataset_name,
            m.dataset_digest,
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoggedModelMetric:
        return cls(
            key=d["key"],
            value=float(d["value"]),
            timestamp=int(d.get("timestamp") or 0),
            step=int(d.get("step") or 0),
            model_id=d.get("model_id") or "",
            run_id=d.get("run_id") or None,
            dataset_name=d.get("dataset_name") or None,
            dataset_digest=d.get("dataset_digest") or None,
        )


@dataclass(frozen=True, slots=True)
class LoggedModelOutput(Dictionary):
    """A run produced the model (at ``step``)."""

    model_id: str
    step: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "step": self.step}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoggedModelOutput:
        return cls(d["model_id"], int(d.get("step") or 0))


@dataclass(frozen=True, slots=True)
class LoggedModelInput(Dictionary):
    """A run used the model."""

    model_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"model_id": self.model_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoggedModelInput:
        return cls(d["model_id"])


def _pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def _status_number(status: str) -> int:
    return LoggedModelStatus.ALL.index(status) + 1


@dataclass(frozen=True, slots=True)
class LoggedModel(Dictionary):
    """A logged model; times are milliseconds since the epoch.

    Its dictionary is MLflow's: each attribute, the status as its number (1 pending, 2 ready,
    3 failed), the metrics as :class:`Metric` entities."""

    _TO_DICTIONARY: ClassVar = {
        "status": _status_number,
        "metrics": lambda metrics: [m.to_metric() for m in metrics],
    }
    _NAME_ORDER: ClassVar = True
    _FROM_DICTIONARY: ClassVar = {
        "status": LoggedModelStatus.parse,
        "tags": mapping_of,
        "params": mapping_of,
        "metrics": lambda metrics: [LoggedModelMetric.from_metric(m) for m in metrics or ()],
    }

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = LoggedModelStatus.PENDING
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[LoggedModelMetric] = field(default_factory=list)

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_id}"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON shape: ``{"info": {...}, "data": {"params": [...], "metrics": [...]}}``."""
        info: dict[str, Any] = {
            "model_id": self.model_id,
            "experiment_id": self.experiment_id,
            "name": self.name,
            "creation_timestamp_ms": self.creation_timestamp,
            "last_updated_timestamp_ms": self.last_updated_timestamp,
            "artifact_uri": self.artifact_location,
            "status": LoggedModelStatus.to_wire(self.status),
            "tags": _pairs(self.tags),
        }
        for name in ("model_type", "source_run_id", "status_message"):
            value = getattr(self, name)
            if value:
                info[name] = value
        return {
            "info": info,
            "data": {
                "params": _pairs(self.params),
                "metrics": [m.to_dict() for m in self.metrics],
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoggedModel:
        info = d.get("info", {})
        data = d.get("data", {})
        return cls(
            model_id=info["model_id"],
            experiment_id=str(info.get("experiment_id", "")),
            name=info.get("name", ""),
            artifact_location=info.get("artifact_uri", ""),
            creation_timestamp=int(info.get("creation_timestamp_ms") or 0),
            last_updated_timestamp=int(info.get("last_updated_timestamp_ms") or 0),
            status=LoggedModelStatus.parse(info.get("status", LoggedModelStatus.PENDING)),
            model_type=info.get("model_type") or None,
            source_run_id=info.get("source_run_id") or None,
            status_message=info.get("status_message") or None,
            tags={t["key"]: t.get("value", "") for t in info.get("tags", [])},
            params={p["key"]: p.get("value", "") for p in data.get("params", [])},
            metrics=[LoggedModelMetric.from_dict(m) for m in data.get("metrics", [])],
        )
