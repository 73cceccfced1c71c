"""Artifacts in an S3 bucket (AWS or any S3-compatible store: SeaweedFS, MinIO, Ceph, R2).

URIs are ``s3://bucket/prefix``.  The client is configured from the environment, as MLflow's:

* endpoint: ``MLTRAIL_S3_ENDPOINT_URL`` or ``MLFLOW_S3_ENDPOINT_URL`` (AWS when unset);
* credentials and region: boto3's usual chain (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, ``AWS_DEFAULT_REGION``...);
* ``MLTRAIL_S3_IGNORE_TLS`` / ``MLFLOW_S3_IGNORE_TLS``: ``true`` skips certificate checks;
* ``MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE``: ``path``, ``virtual`` or ``auto`` (the default;
  path style when an endpoint is set);
* ``AWS_MAX_ATTEMPTS``: attempts per call, with botocore's standard retries (default 5).

Keys are ``<prefix>/<artifact path>``.  Every artifact path goes through
:func:`~mltrail.artifacts.validate_artifact_path` first, so no operation reaches a key outside
the prefix; listings and recursive downloads skip keys that are not valid artifact paths (written
by some other tool), and a prefix is always matched with its trailing ``/`` (deleting ``a`` never
touches ``ab``).  Files are never held whole in memory: uploads are multipart with a bounded
number of parts in flight, downloads are streamed.  ``boto3`` is imported on first use.
"""

from __future__ import annotations

import contextlib
import functools
import io
import mimetypes
import os
import posixpath
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast
from urllib.parse import urlsplit

from mltrail._exceptions import (
    InvalidArgument,
    MltrailError,
    NotFound,
    PermissionDenied,
    TemporarilyUnavailable,
)
from mltrail._optional import require
from mltrail.artifacts._base import ArtifactRepository, FileInfo
from mltrail.artifacts._multipart import (
    CreateMultipartUploadResponse,
    MultipartUploadCredential,
    MultipartUploadPart,
    MultipartUploadRepository,
    multipart_target,
    ordered_parts,
    validate_num_parts,
)
from mltrail.artifacts._paths import (
    CHUNK_SIZE,
    atomic_write,
    is_valid_segment,
    iter_chunks,
    plan_upload,
    plan_upload_file,
    safe_makedirs,
    validate_artifact_path,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

__all__ = ["S3ArtifactRepository"]

_T = TypeVar("_T")

#: Size of one part of a multipart upload (S3's minimum is 5 MiB, except for the last part).
PART_SIZE = 8 * 1024 * 1024
#: Parts uploaded at the same time; memory use of an upload is about PART_SIZE times this.
MAX_PARTS_IN_FLIGHT = 4
#: Lifetime of the presigned part URLs handed out by ``create_multipart_upload``.
PRESIGNED_URL_SECONDS = 3600

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$")
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_DENIED_CODES = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
}
_INVALID_CODES = {
    "400",
    "InvalidArgument",
    "InvalidPart",
    "InvalidPartOrder",
    "EntityTooSmall",
    "EntityTooLarge",
    "MalformedXML",
    "InvalidRequest",
}
_BUSY_CODES = {"503", "SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError"}


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _client_settings() -> tuple[str | None, bool, str, tuple[str | None, ...]]:
    """Everything the environment says about the client, as a hashable cache key."""
    endpoint = _env("MLTRAIL_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
    ignore_tls = (_env("MLTRAIL_S3_IGNORE_TLS", "MLFLOW_S3_IGNORE_TLS") or "").lower() in {
        "1",
        "true",
        "yes",
    }
    style = (_env("MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE") or "auto").lower()
    if style not in {"auto", "path", "virtual"}:
        raise InvalidArgument(
            f"Invalid MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE {style!r}: expected auto, path or virtual"
        )
    if style == "auto" and endpoint:
        style = "path"  # S3-compatible servers rarely resolve bucket sub-domains
    credentials = tuple(
        os.environ.get(name)
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "AWS_MAX_ATTEMPTS",
        )
    )
    return endpoint, ignore_tls, style, credentials


@functools.lru_cache(maxsize=8)
def _make_client(
    endpoint: str | None, ignore_tls: bool, style: str, credentials: tuple[str | None, ...]
) -> S3Client:
    """One thread-safe client per configuration (creating one costs tens of milliseconds)."""
    require("boto3")
    import boto3
    from botocore.config import Config

    # The environment is part of the cache key only: boto3 reads credentials from it itself.
    attempts = credentials[-1]
    session = boto3.session.Session()
    config = Config(
        signature_version="s3v4",
        s3=cast(Any, {"addressing_style": style}),
        retries={
            "mode": "standard",
            "max_attempts": int(attempts) if attempts and attempts.isdigit() else 5,
        },
        max_pool_connections=2 * MAX_PARTS_IN_FLIGHT + 2,
        tcp_keepalive=True,
        # SigV4 already hashes every payload; a second checksum only costs CPU.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    kwargs: dict[str, Any] = {"config": config, "endpoint_url": endpoint}
    if ignore_tls:
        kwargs["verify"] = False
    if not session.region_name:
        kwargs["region_name"] = "us-east-1"
    return session.client("s3", **kwargs)


def _parse_uri(artifact_uri: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``; the prefix has no leading or trailing /."""
    if not isinstance(artifact_uri, str):
        raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: expected a string")
    parts = urlsplit(artifact_uri)
    if parts.scheme.lower() != "s3":
        raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: expected s3://bucket/path")
    if parts.query or parts.fragment:
        raise InvalidArgument(
            f"Invalid artifact URI {artifact_uri!r}: an s3 URI cannot carry a query or a fragment"
        )
    bucket = parts.netloc
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise InvalidArgument(
            f"Invalid artifact URI {artifact_uri!r}: bucket name {bucket!r} must be 3-63 "
            "lower-case letters, digits, '.', '-' or '_', starting and ending with a letter or "
            "digit"
        )
    prefix = parts.path.lstrip("/")
    try:
        prefix = validate_artifact_path(prefix)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: {exc.message}") from None
    return bucket, prefix


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code is not None:
            return str(code)
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status is not None:
            return str(status)
    return None


class _BodyReader(io.RawIOBase):
    """A raw binary stream over a botocore ``StreamingBody``."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3ArtifactRepository(ArtifactRepository, MultipartUploadRepository):
    """Artifacts below ``s3://bucket/prefix``.

    *client* replaces the boto3 client built from the environment (an ``S3Client``);
    *part_size* is the size of the parts of multipart uploads.
    """

    def __init__(
        self, artifact_uri: str, *, client: Any = None, part_size: int = PART_SIZE
    ) -> None:
        super().__init__(artifact_uri)
        self.bucket, self.prefix = _parse_uri(artifact_uri)
        if part_size < 5 * 1024 * 1024:
            raise InvalidArgument(f"Invalid part_size {part_size}: S3 needs at least 5 MiB")
        self.part_size = part_size
        self._client_override: S3Client | None = client

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def client(self) -> S3Client:
        if self._client_override is not None:
            return self._client_override
        return _make_client(*_client_settings())

    def _key(self, rel: str) -> str:
        if not rel:
            return self.prefix
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def _dir_prefix(self, rel: str) -> str:
        key = self._key(rel)
        return f"{key}/" if key else ""

    def _call(self, action: str, rel: str, call: Callable[[], _T]) -> _T:
        """Run one S3 call, turning boto errors into mltrail errors that name the artifact."""
        require("botocore.exceptions")
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        what = f"artifact {rel!r} in {self.artifact_uri!r}" if rel else repr(self.artifact_uri)
        try:
            return call()
        except ClientError as exc:
            code = _error_code(exc) or "?"
            message = exc.response.get("Error", {}).get("Message") or code
            if code == "NoSuchBucket":
                raise NotFound(
                    f"Cannot {action} {what}: bucket {self.bucket!r} does not exist"
                ) from None
            if code in _NOT_FOUND_CODES:
                raise NotFound(f"Cannot {action} {what}: it does not exist") from None
            if code in _DENIED_CODES:
                raise PermissionDenied(
                    f"Cannot {action} {what}: access denied by S3 ({code}: {message})"
                ) from None
            if code in _INVALID_CODES:
                raise InvalidArgument(f"Cannot {action} {what}: {code}: {message}") from None
            if code in _BUSY_CODES:
                raise TemporarilyUnavailable(
                    f"Cannot {action} {what}: S3 is busy ({code}: {message})"
                ) from None
            raise MltrailError(f"Cannot {action} {what}: S3 error {code}: {message}") from None
        except EndpointConnectionError as exc:
            raise TemporarilyUnavailable(
                f"Cannot {action} {what}: cannot reach the S3 endpoint ({exc})"
            ) from None
        except BotoCoreError as exc:
            raise MltrailError(f"Cannot {action} {what}: {exc}") from None

    def _head(self, rel: str) -> dict[str, Any] | None:
        """The object's metadata, or None when no object has exactly this key."""
        if not rel:
            return None  # the root is a directory, whatever object the prefix key may hold
        key = self._key(rel)
        try:
            return dict(
                self._call(
                    "stat", rel, lambda: self.client.head_object(Bucket=self.bucket, Key=key)
                )
            )
        except NotFound:
            return None

    def _has_children(self, rel: str) -> bool:
        prefix = self._dir_prefix(rel)
        page = self._call(
            "list",
            rel,
            lambda: self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1),
        )
        return bool(page.get("KeyCount", len(page.get("Contents", []))))

    def _iter_keys(self, rel: str, *, delimiter: bool) -> Iterator[dict[str, Any]]:
        """Pages of ``list_objects_v2`` below ``rel/`` (``Delimiter="/"`` when *delimiter*)."""
        prefix = self._dir_prefix(rel)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = "/"
        while True:
            page = self._call("list", rel, lambda: self.client.list_objects_v2(**kwargs))
            yield dict(page)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    def _check_writable(self, rel: str) -> str:
        """Refuse writing a file where a directory is, or below a file; return its key."""
        segments = rel.split("/")
        if not rel:
            raise InvalidArgument("Invalid artifact path '': cannot write a file at the root")
        if self._has_children(rel):
            raise InvalidArgument(f"Cannot write artifact {rel!r}: it is a directory")
        for depth in range(1, len(segments)):
            parent = "/".join(segments[:depth])
            if self._head(parent) is not None:
                raise InvalidArgument(f"Path {parent!r} exists and is not a directory")
        return self._key(rel)

    @staticmethod
    def _content_type(rel: str) -> str:
        return mimetypes.guess_type(posixpath.basename(rel))[0] or "application/octet-stream"

    # -- writes -------------------------------------------------------------------------------

    def write_stream(self, artifact_path: str, chunks: Iterable[bytes]) -> int:
        """Upload a stream as one object: a single PUT when it fits in one part, else multipart.

        At most ``MAX_PARTS_IN_FLIGHT`` parts are held in memory; on any failure (including
        one raised by *chunks*) the multipart upload is aborted and no object appears.
        """
        rel = validate_artifact_path(artifact_path)
        key = self._check_writable(rel)
        return _StreamUpload(self, rel, key).run(chunks)

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source, rel = plan_upload_file(local_file, artifact_path)
        key = self._check_writable(rel)
        with open(source, "rb") as stream:
            _StreamUpload(self, rel, key).run(iter_chunks(stream))

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source = os.fspath(local_dir)
        if not os.path.isdir(source):
            raise InvalidArgument(f"Cannot log {source!r}: it is not an existing local directory")
        prefix = validate_artifact_path(artifact_path)
        _, files = plan_upload(os.path.realpath(source), prefix)
        for real_source, rel in files:
            key = self._check_writable(rel)
            with open(real_source, "rb") as stream:
                _StreamUpload(self, rel, key).run(iter_chunks(stream))

    # -- reads --------------------------------------------------------------------------------

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = validate_artifact_path(path)
        prefix = self._dir_prefix(rel)
        infos: dict[str, FileInfo] = {}
        for page in self._iter_keys(rel, delimiter=True):
            for common in page.get("CommonPrefixes", []):
                name = str(common.get("Prefix", ""))[len(prefix) :].rstrip("/")
                if is_valid_segment(name):
                    child = posixpath.join(rel, name)
                    infos[child] = FileInfo(child, True, None)
            for obj in page.get("Contents", []):
                key = str(obj.get("Key", ""))
                if not key.startswith(prefix):
                    continue  # never trust a listing beyond the prefix asked for
                name = key[len(prefix) :]
                if not is_valid_segment(name):
                    continue  # the directory marker itself, or a key no artifact path names
                child = posixpath.join(rel, name)
                infos.setdefault(child, FileInfo(child, False, int(obj.get("Size", 0))))
        return [infos[name] for name in sorted(infos)]

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = validate_artifact_path(artifact_path)
        head = self._head(rel)
        if head is not None:
            return FileInfo(rel, False, int(head.get("ContentLength", 0)))
        if self._has_children(rel):
            return FileInfo(rel, True, None)
        return None

    def open_read(self, artifact_path: str) -> BinaryIO:
        rel = validate_artifact_path(artifact_path)
        if not rel:
            raise InvalidArgument("Cannot read artifact '': it is a directory")
        key = self._key(rel)
        try:
            response = self._call(
                "read", rel, lambda: self.client.get_object(Bucket=self.bucket, Key=key)
            )
        except NotFound:
            if self._has_children(rel):
                raise InvalidArgument(f"Cannot read artifact {rel!r}: it is a directory") from None
            raise
        return io.BufferedReader(_BodyReader(response["Body"]), buffer_size=CHUNK_SIZE)

    def _download_file(self, rel: str, directory: str, name: str) -> None:
        with self.open_read(rel) as stream:
            atomic_write(directory, name, iter_chunks(stream))

    def download_artifacts(
        self, artifact_path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        rel = validate_artifact_path(artifact_path)
        is_file = self._head(rel) is not None
        if not is_file and not self._has_children(rel):
            raise NotFound(f"Artifact {rel!r} does not exist in {self.artifact_uri!r}")
        if dst_path is None:
            dst = tempfile.mkdtemp(prefix="mltrail-artifacts-")  # mode 0o700
        else:
            dst = os.path.abspath(os.fspath(dst_path))
            os.makedirs(dst, exist_ok=True)
        dst_real = os.path.realpath(dst)
        segments = rel.split("/") if rel else []
        local = os.path.join(dst, *segments)
        if is_file:
            parent = safe_makedirs(dst_real, segments[:-1])
            self._download_file(rel, parent, segments[-1])
            return local
        target = safe_makedirs(dst_real, segments)
        prefix = self._dir_prefix(rel)
        for page in self._iter_keys(rel, delimiter=False):
            for obj in page.get("Contents", []):
                key = str(obj.get("Key", ""))
                if not key.startswith(prefix):
                    continue
                below = key[len(prefix) :]
                is_marker = below.endswith("/")
                below = below.rstrip("/")
                if not below or not all(is_valid_segment(s) for s in below.split("/")):
                    continue  # a key no artifact path names (written by another tool)
                parts = below.split("/")
                if is_marker:
                    safe_makedirs(target, parts)
                    continue
                parent = safe_makedirs(target, parts[:-1])
                self._download_file(posixpath.join(rel, below), parent, parts[-1])
        return local

    # -- deletes ------------------------------------------------------------------------------

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete the object at the path and every object below ``path/``.

        The directory keys (``a/``, ``a/b/``) of the deleted tree are deleted last, deepest
        first: a no-op on AWS, and it removes the emptied directories of stores that keep
        them (SeaweedFS would otherwise keep listing them).
        """
        rel = validate_artifact_path(artifact_path)
        prefix = self._dir_prefix(rel)
        keys: list[str] = []
        if rel and self._head(rel) is not None:
            keys.append(self._key(rel))
        directories = {prefix} if prefix else set()
        for page in self._iter_keys(rel, delimiter=False):
            for obj in page.get("Contents", []):
                key = str(obj.get("Key", ""))
                if not key.startswith(prefix):
                    continue
                keys.append(key)
                below = key[len(prefix) :].split("/")[:-1]
                directories.update(
                    prefix + "/".join(below[: depth + 1]) + "/" for depth in range(len(below))
                )
        markers = sorted(directories - set(keys), key=lambda key: (-key.count("/"), key))
        self._delete_keys(rel, keys)
        self._delete_keys(rel, markers)

    def _delete_keys(self, rel: str, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch: list[ObjectIdentifierTypeDef] = [
                {"Key": key} for key in keys[start : start + 1000]
            ]
            result = self._call(
                "delete",
                rel,
                lambda batch=batch: self.client.delete_objects(  # type: ignore[misc]
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                ),
            )
            errors = result.get("Errors", [])
            if errors:
                first = errors[0]
                raise MltrailError(
                    f"Cannot delete artifact {rel!r}: {len(errors)} object(s) were not deleted "
                    f"(first: {first.get('Key')!r}: {first.get('Code')})"
                )

    # -- multipart uploads by clients -----------------------------------------------------------

    def create_multipart_upload(
        self, local_file: str, num_parts: int = 1, artifact_path: str | None = None
    ) -> CreateMultipartUploadResponse:
        rel = multipart_target(local_file, artifact_path)
        count = validate_num_parts(num_parts)
        key = self._check_writable(rel)
        created = self._call(
            "upload",
            rel,
            lambda: self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=self._content_type(rel)
            ),
        )
        upload_id = created["UploadId"]
        credentials = [
            MultipartUploadCredential(
                self.client.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "UploadId": upload_id,
                        "PartNumber": number,
                    },
                    ExpiresIn=PRESIGNED_URL_SECONDS,
                ),
                number,
                {},
            )
            for number in range(1, count + 1)
        ]
        return CreateMultipartUploadResponse(upload_id, credentials)

    def complete_multipart_upload(
        self,
        local_file: str,
        upload_id: str,
        parts: Sequence[MultipartUploadPart],
        artifact_path: str | None = None,
    ) -> None:
        rel = multipart_target(local_file, artifact_path)
        if not isinstance(upload_id, str) or not upload_id:
            raise InvalidArgument(f"Invalid 'upload_id' {upload_id!r}: expected a string")
        ordered = ordered_parts(parts)
        if any(not part.etag for part in ordered):
            raise InvalidArgument("Invalid 'parts': every part needs its 'etag'")
        key = self._key(rel)
        completed: list[CompletedPartTypeDef] = [
            {"PartNumber": p.part_number, "ETag": str(p.etag)} for p in ordered
        ]
        self._call(
            "upload",
            rel,
            lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": completed},
            ),
        )

    def abort_multipart_upload(
        self, local_file: str, upload_id: str, artifact_path: str | None = None
    ) -> None:
        rel = multipart_target(local_file, artifact_path)
        if not isinstance(upload_id, str) or not upload_id:
            raise InvalidArgument(f"Invalid 'upload_id' {upload_id!r}: expected a string")
        key = self._key(rel)
        self._call(
            "abort the upload of",
            rel,
            lambda: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            ),
        )


class _StreamUpload:
    """One streamed upload: PUT when it fits in one part, else a bounded-memory multipart."""

    def __init__(self, repo: S3ArtifactRepository, rel: str, key: str) -> None:
        self.repo = repo
        self.rel = rel
        self.key = key
        self.upload_id: str | None = None
        self.parts: list[Future[CompletedPartTypeDef]] = []
        self.slots = threading.BoundedSemaphore(MAX_PARTS_IN_FLIGHT)
        self.pool: ThreadPoolExecutor | None = None

    def _start(self) -> str:
        created = self.repo._call(
            "upload",
            self.rel,
            lambda: self.repo.client.create_multipart_upload(
                Bucket=self.repo.bucket, Key=self.key, ContentType=self.repo._content_type(self.rel)
            ),
        )
        self.pool = ThreadPoolExecutor(MAX_PARTS_IN_FLIGHT, thread_name_prefix="mltrail-s3")
        return created["UploadId"]

    def _send_part(self, number: int, data: bytes) -> CompletedPartTypeDef:
        try:
            upload_id = self.upload_id
            assert upload_id is not None
            answer = self.repo._call(
                "upload",
                self.rel,
                lambda: self.repo.client.upload_part(
                    Bucket=self.repo.bucket,
                    Key=self.key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                ),
            )
            return {"PartNumber": number, "ETag": answer["ETag"]}
        finally:
            self.slots.release()

    def _submit(self, data: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self._start()
        assert self.pool is not None
        for done in [f for f in self.parts if f.done()]:
            done.result()  # surface a failed part early
        self.slots.acquire()
        self.parts.append(self.pool.submit(self._send_part, len(self.parts) + 1, data))

    def _part_size(self) -> int:
        # Parts grow every 1000 parts so that 10,000 parts hold far more than 80 GB.
        return self.repo.part_size * (1 + len(self.parts) // 1000)

    def run(self, chunks: Iterable[bytes]) -> int:
        buffer = bytearray()
        total = 0
        try:
            for chunk in chunks:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise InvalidArgument(
                        f"Cannot write {self.rel!r}: chunks must be bytes, not "
                        f"{type(chunk).__name__}"
                    )
                buffer += chunk
                total += len(chunk)
                while len(buffer) >= self._part_size():
                    size = self._part_size()
                    with memoryview(buffer) as view:
                        part = bytes(view[:size])
                    del buffer[:size]
                    self._submit(part)
                    del part
            if self.upload_id is None:
                body = bytes(buffer)
                self.repo._call(
                    "write",
                    self.rel,
                    lambda: self.repo.client.put_object(
                        Bucket=self.repo.bucket,
                        Key=self.key,
                        Body=body,
                        ContentType=self.repo._content_type(self.rel),
                    ),
                )
                return total
            if buffer:
                self._submit(bytes(buffer))
                buffer.clear()
            done = [future.result() for future in self.parts]
            upload_id = self.upload_id
            self.repo._call(
                "upload",
                self.rel,
                lambda: self.repo.client.complete_multipart_upload(
                    Bucket=self.repo.bucket,
                    Key=self.key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": done},
                ),
            )
            return total
        except BaseException:
            if self.upload_id is not None:
                for future in self.parts:
                    future.cancel()
                if self.pool is not None:
                    self.pool.shutdown(wait=True)
                upload_id = self.upload_id
                with contextlib.suppress(MltrailError):  # the first error matters more
                    self.repo._call(
                        "abort the upload of",
                        self.rel,
                        lambda: self.repo.client.abort_multipart_upload(
                            Bucket=self.repo.bucket, Key=self.key, UploadId=upload_id
                        ),
                    )
            raise
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
