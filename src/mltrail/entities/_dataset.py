"""Dataset entities: Dataset, InputTag, DatasetInput."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mltrail.entities._dictionary import FromDictionary

__all__ = ["Dataset", "DatasetInput", "InputTag"]


@dataclass(frozen=True, slots=True)
class Dataset(FromDictionary):
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
class InputTag(FromDictionary):
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A dataset used by a run, with input tags such as ``mlflow.data.context``."""

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
