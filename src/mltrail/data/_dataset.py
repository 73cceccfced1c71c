"""The base of ``mltrail.data`` datasets: name, digest, source, schema and profile."""

from __future__ import annotations

import json
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.data._sources import DatasetSource
from mltrail.entities import Dataset as DatasetEntity

__all__ = ["DEFAULT_DATASET_NAME", "Dataset"]

DEFAULT_DATASET_NAME = "dataset"


class Dataset:
    """A dataset that a run can record with ``log_input``.

    Subclasses hold the data and compute the digest, schema and profile; ``schema`` and
    ``profile`` are JSON-ready dictionaries (or None), serialised into the recorded entity.
    """

    def __init__(self, source: DatasetSource, name: str | None, digest: str | None) -> None:
        if not isinstance(source, DatasetSource):
            raise InvalidArgument(
                f"Invalid source of type {type(source).__name__}: expected a DatasetSource "
                "(from_pandas and from_numpy also take a path or URI)"
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidArgument(f"Invalid name {name!r}: expected a non-empty string")
        if digest is not None and (not isinstance(digest, str) or not digest):
            raise InvalidArgument(f"Invalid digest {digest!r}: expected a non-empty string")
        self._source = source
        self._name = name or DEFAULT_DATASET_NAME
        self._digest = digest or self._compute_digest()
        self._schema_cache: tuple[dict[str, Any] | None] | None = None

    def _compute_digest(self) -> str:
        raise NotImplementedError

    def _compute_schema(self) -> dict[str, Any] | None:
        return None

    @property
    def name(self) -> str:
        return self._name

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def schema(self) -> dict[str, Any] | None:
        """The dataset's schema as recorded (computed once, on first use), or None."""
        if self._schema_cache is None:
            self._schema_cache = (self._compute_schema(),)
        return self._schema_cache[0]

    @property
    def profile(self) -> dict[str, Any] | None:
        """Summary sizes of the dataset as recorded, or None."""
        return None

    def to_dict(self) -> dict[str, str | None]:
        """Name, digest, source (JSON), source type, schema (JSON) and profile (JSON)."""
        schema = self.schema
        profile = self.profile
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self.source.to_json(),
            "source_type": self.source._get_source_type(),
            "schema": None if schema is None else json.dumps(schema),
            "profile": None if profile is None else json.dumps(profile),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _to_mlflow_entity(self) -> DatasetEntity:
        """The entity recorded on a run by ``log_input``."""
        d = self.to_dict()
        return DatasetEntity(
            name=self.name,
            digest=self.digest,
            source_type=str(d["source_type"]),
            source=str(d["source"]),
            schema=d["schema"],
            profile=d["profile"],
        )

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} name={self.name!r} digest={self.digest!r} "
            f"source_type={self.source._get_source_type()!r}>"
        )
