"""Dataset entities: Dataset, InputTag, DatasetInput, DatasetSummary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mltrail.entities._dictionary import Dictionary, as_entity, mapping_of, to_dictionary

__all__ = ["Dataset", "DatasetInput", "DatasetSummary", "InputTag"]


@dataclass(frozen=True, slots=True)
class Dataset(Dictionary):
    """A dataset as recorded on a run: ``schema`` and ``profile`` are JSON strings."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self.source,
        }
        if self.schema is not None:
            out["schema"] = self.schema
        if self.profile is not None:
            out["profile"] = self.profile
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dataset:
        return cls(
            name=d["name"],
            digest=d["digest"],
            source_type=d.get("source_type", ""),
            source=d.get("source", ""),
            schema=d.get("schema"),
            profile=d.get("profile"),
        )


@dataclass(frozen=True, slots=True)
class InputTag(Dictionary):
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}


def _input_tags(value: Any) -> list[InputTag]:
    return [InputTag(k, v) for k, v in mapping_of(value).items()]


@dataclass(frozen=True, slots=True)
class DatasetInput(Dictionary):
    """A dataset used by a run, with input tags such as ``mlflow.data.context``.

    Its dictionary holds the dataset's dictionary and the tags as ``{key: value}``."""

    _TO_DICTIONARY: ClassVar = {
        "dataset": to_dictionary,
        "tags": lambda tags: {t.key: t.value for t in tags},
    }
    _FROM_DICTIONARY: ClassVar = {
        "dataset": lambda value: as_entity(Dataset, value),
        "tags": _input_tags,
    }

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset.to_dict(), "tags": [t.to_dict() for t in self.tags]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetInput:
        return cls(
            dataset=Dataset.from_dict(d["dataset"]),
            tags=[InputTag(t["key"], t.get("value", "")) for t in d.get("tags", [])],
        )


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """One dataset an experiment's runs used, with the context it was used in (``training``,
    ``eval``, ...; None without an ``mlflow.data.context`` input tag)."""

    experiment_id: str
    name: str
    digest: str
    context: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"experiment_id": self.experiment_id, "name": self.name, "digest": self.digest}
        if self.context is not None:
            out["context"] = self.context
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetSummary:
        return cls(str(d["experiment_id"]), d["name"], d["digest"], d.get("context"))
