"""The Run entity: ``run.info``, ``run.data`` and ``run.inputs`` as in MLflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mltrail.entities._dataset import DatasetInput
from mltrail.entities._dictionary import (
    Dictionary,
    as_entity,
    dictionaries,
    entities_of,
    mapping_of,
    to_dictionary,
)
from mltrail.entities._enums import LifecycleStage
from mltrail.entities._logged_model import LoggedModelInput, LoggedModelOutput
from mltrail.entities._metric import Metric, Param, RunTag

__all__ = ["Run", "RunData", "RunInfo", "RunInputs", "RunOutputs"]


#: The run attributes a search filter may use, and those it may order by: mltrail.search's
#: run fields (which import nothing of mltrail's; tests/search/test_run_attributes.py keeps
#: the two the same).
SEARCHABLE_RUN_ATTRIBUTES = (
    "run_id",
    "run_name",
    "status",
    "user_id",
    "artifact_uri",
    "lifecycle_stage",
    "start_time",
    "end_time",
    "experiment_id",
)
ORDERABLE_RUN_ATTRIBUTES = (
    "run_id",
    "run_name",
    "status",
    "user_id",
    "artifact_uri",
    "start_time",
    "end_time",
    "experiment_id",
)


@dataclass(frozen=True, slots=True)
class RunInfo(Dictionary):
    """A run's metadata; times are milliseconds since the epoch."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE

    @staticmethod
    def get_searchable_attributes() -> list[str]:
        """The run attributes a search filter may use (``attributes.<name>``)."""
        return sorted(SEARCHABLE_RUN_ATTRIBUTES)

    @staticmethod
    def get_orderable_attributes() -> list[str]:
        """The run attributes a search may order by."""
        return sorted(ORDERABLE_RUN_ATTRIBUTES)

    @property
    def run_uuid(self) -> str:
        """MLflow's legacy name for ``run_id``."""
        return self.run_id

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "run_name": self.run_name,
            "experiment_id": self.experiment_id,
            "user_id": self.user_id,
            "status": self.status,
            "start_time": self.start_time,
            "artifact_uri": self.artifact_uri,
            "lifecycle_stage": self.lifecycle_stage,
        }
        if self.end_time is not None:
            out["end_time"] = self.end_time
        if out["start_time"] is None:
            del out["start_time"]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunInfo:
        return cls(
            run_id=d.get("run_id") or d["run_uuid"],
            experiment_id=str(d["experiment_id"]),
            run_name=d.get("run_name", ""),
            user_id=d.get("user_id", ""),
            status=d.get("status", "RUNNING"),
            start_time=None if d.get("start_time") is None else int(d["start_time"]),
            end_time=None if d.get("end_time") is None else int(d["end_time"]),
            artifact_uri=d.get("artifact_uri", ""),
            lifecycle_stage=d.get("lifecycle_stage", LifecycleStage.ACTIVE),
        )


class RunData:
    """A run's latest metric values, params and tags, each as a ``dict`` (MLflow's shape)."""

    __slots__ = ("_metric_objs", "metrics", "params", "tags")

    def __init__(
        self,
        metrics: list[Metric] | None = None,
        params: list[Param] | None = None,
        tags: list[RunTag] | None = None,
    ) -> None:
        self._metric_objs: list[Metric] = list(metrics or [])
        self.metrics: dict[str, float] = {m.key: m.value for m in self._metric_objs}
        self.params: dict[str, str] = {p.key: p.value for p in params or []}
        self.tags: dict[str, str] = {t.key: t.value for t in tags or []}

    def __repr__(self) -> str:
        return f"RunData(metrics={self.metrics!r}, params={self.params!r}, tags={self.tags!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunData):
            return NotImplemented
        return (self.metrics, self.params, self.tags) == (other.metrics, other.params, other.tags)

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": [m.to_dict() for m in self._metric_objs],
            "params": [{"key": k, "value": v} for k, v in self.params.items()],
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
        }

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's dictionary: metrics (latest values), params and tags as mappings."""
        return {"metrics": dict(self.metrics), "params": dict(self.params), "tags": dict(self.tags)}

    @classmethod
    def from_dictionary(cls, the_dict: dict[str, Any]) -> RunData:
        """From :meth:`to_dictionary`'s shape; metrics may also be a list of :class:`Metric`
        (in any form ``Metric.from_dictionary`` reads), params and tags lists of pairs.  A
        metric given as ``{key: value}`` gets timestamp and step 0."""
        metrics = the_dict.get("metrics")
        if isinstance(metrics, Mapping):
            metric_list = [Metric(k, float(v), 0, 0) for k, v in metrics.items()]
        else:
            metric_list = [as_entity(Metric, m) for m in metrics or ()]
        return cls(
            metric_list,
            [Param(k, v) for k, v in mapping_of(the_dict.get("params")).items()],
            [RunTag(k, v) for k, v in mapping_of(the_dict.get("tags")).items()],
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunData:
        return cls(
            metrics=[Metric.from_dict(m) for m in d.get("metrics", [])],
            params=[Param.from_dict(p) for p in d.get("params", [])],
            tags=[RunTag.from_dict(t) for t in d.get("tags", [])],
        )


@dataclass(frozen=True, slots=True)
class RunInputs(Dictionary):
    """What a run used: datasets and (MLflow 3) logged models.

    Its dictionary, as MLflow's, holds the dataset inputs' dictionaries and the model inputs
    themselves (:class:`LoggedModelInput` entities)."""

    _TO_DICTIONARY: ClassVar = {"dataset_inputs": dictionaries, "model_inputs": list}
    _FROM_DICTIONARY: ClassVar = {
        "dataset_inputs": entities_of(DatasetInput),
        "model_inputs": entities_of(LoggedModelInput),
    }

    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[LoggedModelInput] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dataset_inputs": [d.to_dict() for d in self.dataset_inputs]}
        if self.model_inputs:
            out["model_inputs"] = [m.to_dict() for m in self.model_inputs]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunInputs:
        return cls(
            [DatasetInput.from_dict(x) for x in d.get("dataset_inputs", [])],
            [LoggedModelInput.from_dict(x) for x in d.get("model_inputs", [])],
        )


@dataclass(frozen=True, slots=True)
class RunOutputs(Dictionary):
    """What a run produced: (MLflow 3) logged models, each at a step."""

    _TO_DICTIONARY: ClassVar = {"model_outputs": dictionaries}
    _FROM_DICTIONARY: ClassVar = {"model_outputs": entities_of(LoggedModelOutput)}

    model_outputs: list[LoggedModelOutput] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"model_outputs": [m.to_dict() for m in self.model_outputs]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunOutputs:
        return cls([LoggedModelOutput.from_dict(x) for x in d.get("model_outputs", [])])


@dataclass(frozen=True, slots=True)
class Run(Dictionary):
    """A run: its info, data, inputs and outputs.  Its dictionary, as MLflow's, holds each
    part's dictionary (``info`` as MLflow's ``dict(run.info)``)."""

    _TO_DICTIONARY: ClassVar = dict.fromkeys(("info", "data", "inputs", "outputs"), to_dictionary)
    _FROM_DICTIONARY: ClassVar = {
        "info": lambda value: as_entity(RunInfo, value),
        "data": lambda value: as_entity(RunData, value),
        "inputs": lambda value: as_entity(RunInputs, value),
        "outputs": lambda value: as_entity(RunOutputs, value),
    }

    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)

    # MLflow's Run keeps its parts in _info, _data, ...; scripts (MLflow's own examples among
    # them) read run._info.run_id.
    @property
    def _info(self) -> RunInfo:
        return self.info

    @property
    def _data(self) -> RunData:
        return self.data

    @property
    def _inputs(self) -> RunInputs:
        return self.inputs

    @property
    def _outputs(self) -> RunOutputs:
        return self.outputs

    def to_dict(self) -> dict[str, Any]:
        """The REST (JSON) shape of ``runs/get``."""
        return {
            "info": self.info.to_dict(),
            "data": self.data.to_dict(),
            "inputs": self.inputs.to_dict(),
            "outputs": self.outputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Run:
        return cls(
            info=RunInfo.from_dict(d["info"]),
            data=RunData.from_dict(d.get("data", {})),
            inputs=RunInputs.from_dict(d.get("inputs", {})),
            outputs=RunOutputs.from_dict(d.get("outputs") or {}),
        )
