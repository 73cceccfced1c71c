"""The Experiment entity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mltrail.entities._dictionary import Dictionary, mapping_of
from mltrail.entities._enums import LifecycleStage
from mltrail.entities._workspace import DEFAULT_WORKSPACE_NAME

__all__ = ["Experiment"]


@dataclass(frozen=True, slots=True)
class Experiment(Dictionary):
    """A named group of runs; ``tags`` maps tag keys to values.

    ``workspace`` names the workspace it belongs to. Its dictionary is MLflow's
    ``dict(experiment)`` without MLflow's GenAI trace settings; ``from_dictionary`` also takes
    the tags as a list of key/value pairs."""

    DEFAULT_EXPERIMENT_NAME: ClassVar[str] = "Default"
    _FROM_DICTIONARY: ClassVar = {"tags": mapping_of}

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None
    workspace: str = DEFAULT_WORKSPACE_NAME

    def to_dict(self) -> dict[str, Any]:
        """The REST (JSON) shape."""
        out: dict[str, Any] = {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_location": self.artifact_location,
            "lifecycle_stage": self.lifecycle_stage,
        }
        if self.creation_time is not None:
            out["creation_time"] = self.creation_time
        if self.last_update_time is not None:
            out["last_update_time"] = self.last_update_time
        if self.tags:
            out["tags"] = [{"key": k, "value": v} for k, v in self.tags.items()]
        out["workspace"] = self.workspace
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Experiment:
        return cls(
            experiment_id=str(d["experiment_id"]),
            name=d.get("name", ""),
            artifact_location=d.get("artifact_location", ""),
            lifecycle_stage=d.get("lifecycle_stage", LifecycleStage.ACTIVE),
            tags={t["key"]: t.get("value", "") for t in d.get("tags", [])},
            creation_time=_opt_int(d.get("creation_time")),
            last_update_time=_opt_int(d.get("last_update_time")),
            workspace=d.get("workspace") or DEFAULT_WORKSPACE_NAME,
        )


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
