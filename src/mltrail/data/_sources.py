"""Where a dataset came from: a local file, a URL, an object store URI, or the running code.

A source is recorded on a run as its type (``"local"``, ``"http"``, ``"s3"``, ``"code"``, ...) and
a JSON document (``{"uri": ...}``, ``{"url": ...}``, ``{"tags": {...}}``), the shapes MLflow uses.
"""

from __future__ import annotations

import json
import os
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._run_context import resolve_run_context_tags, strip_url_credentials

__all__ = [
    "ARTIFACT_SCHEMES",
    "ArtifactDatasetSource",
    "CodeDatasetSource",
    "DatasetSource",
    "HTTPDatasetSource",
    "LocalArtifactDatasetSource",
    "resolve_source",
    "source_from_json",
]

# Object-store and remote file system schemes recorded with their scheme as the source type.
ARTIFACT_SCHEMES = frozenset(
    {"abfss", "b2", "ftp", "gs", "hdfs", "r2", "s3", "sftp", "viewfs", "wasbs"}
)


class DatasetSource:
    """Base of dataset sources: a type name and a JSON-serialisable description."""

    def _get_source_type(self) -> str:
        raise NotImplementedError

    @property
    def source_type(self) -> str:
        return self._get_source_type()

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetSource):
            return NotImplemented
        return (self._get_source_type(), self.to_dict()) == (
            other._get_source_type(),
            other.to_dict(),
        )

    def __hash__(self) -> int:
        return hash((self._get_source_type(), self.to_json()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()})"


class ArtifactDatasetSource(DatasetSource):
    """A URI in an object store or remote file system: ``s3://bucket/key``, ``gs://...``, ..."""

    def __init__(self, uri: str) -> None:
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    def _get_source_type(self) -> str:
        return self._uri.partition(":")[0].lower()

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self._uri}


class LocalArtifactDatasetSource(ArtifactDatasetSource):
    """A local path or ``file:`` URI, recorded as given."""

    def _get_source_type(self) -> str:
        return "local"


class HTTPDatasetSource(DatasetSource):
    """An ``http(s)://`` URL (recorded without any ``user:password@``)."""

    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def url(self) -> str:
        return self._url

    def _get_source_type(self) -> str:
        return "http"

    def to_dict(self) -> dict[str, Any]:
        return {"url": self._url}


class CodeDatasetSource(DatasetSource):
    """Data built in code: described by the run context tags of the code (script, git commit)."""

    def __init__(self, tags: dict[str, str]) -> None:
        self._tags = dict(tags)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)

    def _get_source_type(self) -> str:
        return "code"

    def to_dict(self) -> dict[str, Any]:
        return {"tags": dict(self._tags)}

    @classmethod
    def from_current_code(cls) -> CodeDatasetSource:
        return cls(resolve_run_context_tags(check_dirty=False))


class _OpaqueDatasetSource(DatasetSource):
    """A source of a type this version does not know (e.g. logged by another client)."""

    def __init__(self, source_type: str, data: dict[str, Any]) -> None:
        self._source_type = source_type
        self._data = data

    def _get_source_type(self) -> str:
        return self._source_type

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)


def resolve_source(source: Any, argument: str = "source") -> DatasetSource:
    """The source object for what a user passed as ``source=`` (None means the running code)."""
    if source is None:
        return CodeDatasetSource.from_current_code()
    if isinstance(source, DatasetSource):
        return source
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
        if isinstance(source, bytes):
            source = os.fsdecode(source)
    if not isinstance(source, str):
        raise InvalidArgument(
            f"Invalid {argument} of type {type(source).__name__}: expected a path, a URI "
            "or a mltrail.data DatasetSource"
        )
    if not source.strip():
        raise InvalidArgument(f"Invalid {argument} '': it must not be empty")

    scheme = _scheme(source)
    if scheme in ("", "file"):
        return LocalArtifactDatasetSource(source)
    if scheme in ("http", "https"):
        return HTTPDatasetSource(strip_url_credentials(source))
    if scheme in ("ftp", "sftp"):
        return ArtifactDatasetSource(strip_url_credentials(source))
    if scheme in ARTIFACT_SCHEMES:  # wasbs://container@account...: "user" is no secret here
        return ArtifactDatasetSource(source)
    supported = ", ".join(f"{s}://" for s in sorted({"file", "http", "https", *ARTIFACT_SCHEMES}))
    raise InvalidArgument(
        f"Invalid {argument} '{strip_url_credentials(source)}': unsupported URI scheme "
        f"'{scheme}'; expected a local path or a URI starting with one of {supported}"
    )


def _scheme(uri: str) -> str:
    """The lowercased URI scheme, "" for plain paths (including Windows ``C:\\`` paths)."""
    head, sep, _ = uri.partition(":")
    if not sep or len(head) < 2:
        return ""
    if not (head[0].isascii() and head[0].isalpha()):
        return ""
    if not all(c.isascii() and (c.isalnum() or c in "+-.") for c in head):
        return ""
    return head.lower()


def source_from_json(source_type: str, source_json: str) -> DatasetSource:
    """Rebuild a source from what a run recorded (its type and JSON)."""
    try:
        data = json.loads(source_json)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid dataset source JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument("Invalid dataset source JSON: expected an object")
    uri = data.get("uri")
    if source_type == "local" and isinstance(uri, str):
        return LocalArtifactDatasetSource(uri)
    if source_type == "http" and isinstance(data.get("url"), str):
        return HTTPDatasetSource(data["url"])
    if source_type == "code" and isinstance(data.get("tags"), dict):
        return CodeDatasetSource({str(k): str(v) for k, v in data["tags"].items()})
    if source_type in ARTIFACT_SCHEMES and isinstance(uri, str):
        return ArtifactDatasetSource(uri)
    return _OpaqueDatasetSource(source_type, data)
