"""Multipart uploads: the interface, the JSON shapes of the proxy's ``mpu`` endpoints, and limits.

A repository that stores into an object store can let a client upload one large file in parts,
straight to the store: ``create_multipart_upload`` returns an upload id and one presigned URL per
part; the client PUTs each part to its URL and keeps the ``ETag`` of the answer;
``complete_multipart_upload`` joins the parts into the artifact, ``abort_multipart_upload``
throws them away.  The tracking server's ``POST /api/2.0/mlflow-artifacts/mpu/{create,
complete,abort}/<artifact dir>`` endpoints are thin translators to these methods, with MLflow's
JSON shapes (``to_dict``/``from_dict`` below).

As in MLflow, ``local_file`` names the file being uploaded (often the client's full local path):
only its last component, which must be a valid artifact path segment, names the artifact.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts._paths import validate_artifact_path

__all__ = [
    "MAX_PARTS",
    "CreateMultipartUploadResponse",
    "MultipartUploadCredential",
    "MultipartUploadPart",
    "MultipartUploadRepository",
    "multipart_target",
    "ordered_parts",
    "validate_num_parts",
]

#: S3's limit on the number of parts of one upload (part numbers are 1..MAX_PARTS).
MAX_PARTS = 10_000


def multipart_target(local_file: str, artifact_path: str | None) -> str:
    """The artifact path a multipart upload of *local_file* into *artifact_path* writes.

    The file name is the last component of *local_file* split on ``/`` and ``\\`` (a Windows
    client sends ``C:\\Users\\me\\model.bin``); it must be a valid single path segment.
    """
    if not isinstance(local_file, str) or not local_file:
        raise InvalidArgument(f"Invalid 'path' {local_file!r}: expected the name of the file")
    name = local_file.replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        raise InvalidArgument(f"Invalid 'path' {local_file!r}: it does not end with a file name")
    validate_artifact_path(name)
    directory = validate_artifact_path(artifact_path)
    return validate_artifact_path(f"{directory}/{name}" if directory else name)


def validate_num_parts(num_parts: object) -> int:
    """``num_parts`` as an int in ``1..MAX_PARTS``, or ``InvalidArgument`` naming the rule."""
    if isinstance(num_parts, bool) or not isinstance(num_parts, int):
        raise InvalidArgument(f"Invalid 'num_parts' {num_parts!r}: expected an integer")
    if not 1 <= num_parts <= MAX_PARTS:
        raise InvalidArgument(f"Invalid 'num_parts' {num_parts}: must be between 1 and {MAX_PARTS}")
    return num_parts


def ordered_parts(parts: Sequence[MultipartUploadPart]) -> list[MultipartUploadPart]:
    """The parts of a ``complete`` request by part number; at least one, no number twice."""
    if not parts:
        raise InvalidArgument("Invalid 'parts': at least one part is needed")
    ordered = sorted(parts, key=lambda part: part.part_number)
    numbers = [part.part_number for part in ordered]
    if len(set(numbers)) != len(numbers):
        raise InvalidArgument("Invalid 'parts': a part number appears more than once")
    return ordered


@dataclass(frozen=True, slots=True)
class MultipartUploadCredential:
    """Where to PUT one part: a presigned ``url`` and the ``headers`` to send with it."""

    url: str
    part_number: int
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "part_number": self.part_number, "headers": dict(self.headers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MultipartUploadCredential:
        url = data.get("url")
        number = data.get("part_number")
        headers = data.get("headers") or {}
        if not isinstance(url, str) or not url:
            raise InvalidArgument(f"Invalid credential 'url' {url!r}: expected a URL")
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidArgument(f"Invalid credential 'part_number' {number!r}: expected an int")
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise InvalidArgument("Invalid credential 'headers': expected an object of strings")
        return cls(url, number, dict(headers))


@dataclass(frozen=True, slots=True)
class CreateMultipartUploadResponse:
    """The answer of ``mpu/create``: the upload id and one credential per part."""

    upload_id: str | None
    credentials: list[MultipartUploadCredential]

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"credentials": [c.to_dict() for c in self.credentials]}
        if self.upload_id:
            body["upload_id"] = self.upload_id
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreateMultipartUploadResponse:
        upload_id = data.get("upload_id")
        credentials = data.get("credentials")
        if upload_id is not None and not isinstance(upload_id, str):
            raise InvalidArgument(f"Invalid 'upload_id' {upload_id!r}: expected a string")
        if not isinstance(credentials, list):
            raise InvalidArgument("Invalid 'credentials': expected a list")
        return cls(upload_id, [MultipartUploadCredential.from_dict(c) for c in credentials])


@dataclass(frozen=True, slots=True)
class MultipartUploadPart:
    """One uploaded part, as ``mpu/complete`` receives it: its number and the store's ETag."""

    part_number: int
    etag: str | None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"part_number": self.part_number, "etag": self.etag, "url": self.url}

    @classmethod
    def from_dict(cls, data: object) -> MultipartUploadPart:
        """Parse one element of ``parts``; ``InvalidArgument`` naming the field otherwise."""
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"Invalid element of 'parts' {data!r}: expected an object")
        number = data.get("part_number")
        etag = data.get("etag")
        url = data.get("url")
        if isinstance(number, str) and number.isdigit():
            number = int(number)  # proto JSON may carry int64 values as strings
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidArgument(f"Invalid 'parts.part_number' {number!r}: expected an integer")
        if not 1 <= number <= MAX_PARTS:
            raise InvalidArgument(
                f"Invalid 'parts.part_number' {number}: must be between 1 and {MAX_PARTS}"
            )
        if etag is not None and not isinstance(etag, str):
            raise InvalidArgument(f"Invalid 'parts.etag' {etag!r}: expected a string")
        if url is not None and not isinstance(url, str):
            raise InvalidArgument(f"Invalid 'parts.url' {url!r}: expected a string")
        return cls(number, etag or None, url or None)


class MultipartUploadRepository(abc.ABC):
    """What a repository offers when clients may upload large files to it in parts."""

    @abc.abstractmethod
    def create_multipart_upload(
        self, local_file: str, num_parts: int = 1, artifact_path: str | None = None
    ) -> CreateMultipartUploadResponse:
        """Start an upload of ``artifact_path/<name of local_file>`` in ``num_parts`` parts."""

    @abc.abstractmethod
    def complete_multipart_upload(
        self,
        local_file: str,
        upload_id: str,
        parts: Sequence[MultipartUploadPart],
        artifact_path: str | None = None,
    ) -> None:
        """Join the uploaded *parts* (every part, by number) into the artifact."""

    @abc.abstractmethod
    def abort_multipart_upload(
        self, local_file: str, upload_id: str, artifact_path: str | None = None
    ) -> None:
        """Throw away an unfinished upload and the parts sent so far."""
