"""Where a dataset came from: a local file, a URL, an object store URI, or the running code.

A source is recorded on a run as its type (``"local"``, ``"http"``, ``"s3"``, ``"code"``,
``"hugging_face"``, ...) and a JSON document (``{"uri": ...}``, ``{"url": ...}``,
``{"tags": {...}}``, ``{"path": ..., "split": ...}``), the shapes MLflow uses.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail._run_context import resolve_run_context_tags, strip_url_credentials

__all__ = [
    "ARTIFACT_SCHEMES",
    "ArtifactDatasetSource",
    "CodeDatasetSource",
    "DatasetSource",
    "HTTPDatasetSource",
    "HuggingFaceDatasetSource",
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


class HuggingFaceDatasetSource(DatasetSource):
    """A Hugging Face dataset as ``datasets.load_dataset`` reloads it: MLflow's source type
    ``"hugging_face"``.  *config_name* is ``load_dataset``'s ``name``; the other arguments are
    ``load_dataset``'s own.  Recorded without ``trust_remote_code`` and with the split as a
    string (``"None"`` when there is none), as MLflow records it."""

    def __init__(
        self,
        path: str,
        config_name: str | None = None,
        data_dir: str | None = None,
        data_files: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
        split: Any = None,
        revision: Any = None,
        trust_remote_code: bool | None = None,
    ) -> None:
        if not isinstance(path, str) or not path:
            raise InvalidArgument(
                f"Invalid path {path!r}: expected the non-empty path of a Hugging Face dataset"
            )
        self.path = path
        self.config_name = config_name
        self.data_dir = data_dir
        self.data_files = data_files
        self.split = split
        self.revision = revision
        self.trust_remote_code = trust_remote_code

    def _get_source_type(self) -> str:
        return "hugging_face"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "config_name": self.config_name,
            "data_dir": self.data_dir,
            "data_files": self.data_files,
            "split": str(self.split),
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> HuggingFaceDatasetSource:
        return cls(
            path=source_dict.get("path"),  # type: ignore[arg-type]  # checked in __init__
            config_name=source_dict.get("config_name"),
            data_dir=source_dict.get("data_dir"),
            data_files=source_dict.get("data_files"),
            split=source_dict.get("split"),
            revision=source_dict.get("revision"),
        )

    def load(self, **kwargs: Any) -> Any:
        """The dataset, loaded again with ``datasets.load_dataset`` (*kwargs* are its other
        arguments; naming one the source holds is an error)."""
        datasets = require("datasets")
        arguments = {
            "path": self.path,
            "name": self.config_name,
            "data_dir": self.data_dir,
            "data_files": self.data_files,
            "split": self.split,
            "revision": self.revision,
            "trust_remote_code": self.trust_remote_code,
        }
        takes_trust = "trust_remote_code" in inspect.signature(datasets.load_dataset).parameters
        # datasets 4 and later read no dataset scripts: only None means the same there
        if not takes_trust and arguments.pop("trust_remote_code") is not None:
            raise InvalidArgument(
                "Invalid trust_remote_code: this datasets version runs no dataset scripts"
            )
        duplicated = sorted(set(arguments) & set(kwargs))
        if duplicated:
            raise InvalidArgument(
                f"Invalid arguments {duplicated}: the HuggingFaceDatasetSource holds them"
            )
        return datasets.load_dataset(**arguments, **kwargs)


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
    if source_type == "hugging_face" and isinstance(data.get("path"), str) and data["path"]:
        return HuggingFaceDatasetSource.from_dict(data)
    if source_type in ARTIFACT_SCHEMES and isinstance(uri, str):
        return ArtifactDatasetSource(uri)
    return _OpaqueDatasetSource(source_type, data)
