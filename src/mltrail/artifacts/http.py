"""Artifacts through a tracking server's artifact proxy (``/api/2.0/mlflow-artifacts``).

Two URI forms reach the proxy:

* ``http(s)://host[:port][/prefix]/api/2.0/mlflow-artifacts/artifacts[/root]`` (served by
  :class:`HttpArtifactRepository`);
* ``mlflow-artifacts:/root`` or ``mlflow-artifacts://host:port/root``, the form a server gives
  new runs, resolved against the tracking URI as MLflow does (:class:`MlflowArtifactsRepository`):
  with tracking ``http://h:p``, ``mlflow-artifacts:/1/abc/artifacts`` becomes
  ``http://h:p/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts``.

Endpoints used (the server's side is ``mltrail.server``): ``GET artifacts/<path>`` (download,
streamed), ``PUT artifacts/<path>`` (upload: the raw body, streamed from the file with its
``Content-Length``), ``GET artifacts?path=<dir>`` (list: names relative to ``dir``), ``DELETE
artifacts/<path>``, and ``POST mpu/{create,complete,abort}/<dir>`` for multipart uploads.

Credentials are those of the REST tracking client: ``MLTRAIL_TRACKING_TOKEN`` (Bearer) or
``MLTRAIL_TRACKING_USERNAME`` and ``MLTRAIL_TRACKING_PASSWORD`` (Basic), or the ``MLFLOW_``
names; ``MLTRAIL_TRACKING_INSECURE_TLS`` / ``MLFLOW_TRACKING_INSECURE_TLS`` skips certificate
checks.  Reads, lists, deletes and uploads from a file are retried with exponential backoff on
connection errors, 429 and 503 (honouring ``Retry-After``).  Multipart uploads (parts PUT
straight to the presigned URLs the server hands out) are used for files of at least
``MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE`` bytes (500 MB) when
``MLTRAIL_ENABLE_PROXY_MULTIPART_UPLOAD`` / ``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD`` is true,
in parts of ``MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE`` (10 MB).  ``httpx`` is imported on first use.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import io
import mimetypes
import os
import posixpath
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, urlsplit

from mltrail._exceptions import (
    EndpointNotFound,
    InvalidArgument,
    MltrailError,
    NotFound,
    NotImplementedYet,
    TemporarilyUnavailable,
    error_class_for_code,
)
from mltrail.artifacts._base import ArtifactRepository, FileInfo
from mltrail.artifacts._destinations import Destination
from mltrail.artifacts._multipart import (
    CreateMultipartUploadResponse,
    MultipartUploadPart,
    MultipartUploadRepository,
    multipart_target,
    validate_num_parts,
)
from mltrail.artifacts._paths import (
    CHUNK_SIZE,
    atomic_write,
    is_valid_segment,
    plan_upload,
    plan_upload_file,
    safe_makedirs,
    validate_artifact_path,
)
from mltrail.store._workspace_base import WORKSPACE_HEADER, bound_workspace

if TYPE_CHECKING:
    import httpx

__all__ = ["ARTIFACTS_ROOT", "HttpArtifactRepository", "MlflowArtifactsRepository"]

#: The path of the proxy's artifact endpoints below a server's base URL.
ARTIFACTS_ROOT = "/api/2.0/mlflow-artifacts/artifacts"
_MPU_ROOT = "/api/2.0/mlflow-artifacts/mpu"
_RETRY_STATUSES = {429, 503}
_STATUS_ERRORS = {400: "INVALID_PARAMETER_VALUE", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
_STATUS_ERRORS.update({404: "RESOURCE_DOES_NOT_EXIST", 409: "RESOURCE_CONFLICT"})
_STATUS_ERRORS.update({429: "REQUEST_LIMIT_EXCEEDED", 501: "NOT_IMPLEMENTED"})
_STATUS_ERRORS.update({503: "TEMPORARILY_UNAVAILABLE"})


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _env_flag(*names: str) -> bool:
    return (_env(*names) or "").lower() in {"1", "true", "yes"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    if not value.isdigit() or int(value) <= 0:
        raise InvalidArgument(f"Invalid {name} {value!r}: expected a positive integer")
    return int(value)


def _auth_headers() -> dict[str, str]:
    token = _env("MLTRAIL_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = _env("MLTRAIL_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME")
    password = _env("MLTRAIL_TRACKING_PASSWORD", "MLFLOW_TRACKING_PASSWORD")
    if user and password:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {pair}"}
    return {}


@functools.lru_cache(maxsize=8)
def _client(verify: bool) -> httpx.Client:
    """One pooled, keep-alive client per TLS setting, shared by every repository."""
    import httpx

    client = httpx.Client(
        verify=verify,
        timeout=httpx.Timeout(120.0, connect=10.0),
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        follow_redirects=False,
    )
    # Its kept-alive connections are closed at exit, not left to the garbage collector (which
    # reports each as an unclosed socket).
    atexit.register(client.close)
    return client


def resolve_mlflow_artifacts_uri(artifact_uri: str, tracking_uri: str) -> str:
    """``mlflow-artifacts:[//host:port]/path`` as the proxy URL on the tracking server."""
    parts = urlsplit(artifact_uri)
    if parts.scheme.lower() != "mlflow-artifacts":
        raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: expected mlflow-artifacts:")
    if parts.query or parts.fragment:
        raise InvalidArgument(
            f"Invalid artifact URI {artifact_uri!r}: it cannot carry a query or a fragment"
        )
    if parts.netloc and not parts.hostname:
        raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: a port needs a host name")
    tracking = urlsplit(tracking_uri)
    if tracking.scheme.lower() not in {"http", "https"} or not tracking.netloc:
        raise InvalidArgument(
            f"Cannot resolve artifact URI {artifact_uri!r}: the tracking URI must be an http(s) "
            f"URL of the tracking server (set MLTRAIL_TRACKING_URI or call set_tracking_uri), "
            f"not {tracking.scheme or 'a local path'!r}"
        )
    base = tracking.path.rstrip("/")
    path = re.sub(r"/+", "/", "/" + parts.path.lstrip("/")).rstrip("/")
    if path == ARTIFACTS_ROOT or path.startswith(ARTIFACTS_ROOT + "/"):
        path = path[len(ARTIFACTS_ROOT) :]
    return (
        f"{tracking.scheme.lower()}://{parts.netloc or tracking.netloc}{base}{ARTIFACTS_ROOT}{path}"
    )


def _error_from_response(response: httpx.Response, action: str) -> MltrailError:
    """The mltrail error an error response stands for (MLflow's JSON body when there is one)."""
    code = _STATUS_ERRORS.get(response.status_code, "INTERNAL_ERROR")
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error_code") or code)
        message = str(body.get("message") or "")
    if not message:
        message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    cls = error_class_for_code(code)
    if cls is MltrailError:  # an unknown code: the status says more
        cls = error_class_for_code(_STATUS_ERRORS.get(response.status_code, "INTERNAL_ERROR"))
    return cls(f"Cannot {action}: {message}", error_code=code)


class _ResponseReader(io.RawIOBase):
    """A raw binary stream over a streamed httpx response; closing it closes the response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = response.iter_raw(CHUNK_SIZE)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


class HttpArtifactRepository(ArtifactRepository, MultipartUploadRepository):
    """Artifacts below ``http(s)://server/api/2.0/mlflow-artifacts/artifacts/<root>``.

    *max_retries* and *backoff* (seconds, doubled each attempt) govern the retries.  A
    *destination* (a server reading a location that a user gave, checked by
    :func:`~mltrail.artifacts._destinations.check_url_destination`) pins every request to the
    address that was checked, and sends none of this process's tracking credentials: they
    belong to the tracking server the process talks to, not to whatever host a location names.
    """

    def __init__(
        self,
        artifact_uri: str,
        tracking_uri: str | None = None,
        *,
        max_retries: int = 5,
        backoff: float = 0.5,
        destination: Destination | None = None,
    ) -> None:
        super().__init__(artifact_uri)
        del tracking_uri  # an http(s) URI names its server itself
        self.base_url, self.root = self._split(artifact_uri)
        self.max_retries = max_retries
        self.backoff = backoff
        self.destination = destination
        self.verify = not _env_flag("MLTRAIL_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_INSECURE_TLS")

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        parts = urlsplit(uri)
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            raise InvalidArgument(f"Invalid artifact URI {uri!r}: expected an http(s) URL")
        if parts.query or parts.fragment:
            raise InvalidArgument(
                f"Invalid artifact URI {uri!r}: it cannot carry a query or a fragment"
            )
        head, marker, tail = parts.path.partition(ARTIFACTS_ROOT)
        if not marker or (tail and not tail.startswith("/")):
            raise InvalidArgument(
                f"Invalid artifact URI {uri!r}: expected the artifact proxy's path "
                f"'{ARTIFACTS_ROOT}' in it"
            )
        try:
            root = validate_artifact_path(tail.lstrip("/"))
        except InvalidArgument as exc:
            raise InvalidArgument(f"Invalid artifact URI {uri!r}: {exc.message}") from None
        return f"{parts.scheme.lower()}://{parts.netloc}{head.rstrip('/')}", root

    # -- plumbing -----------------------------------------------------------------------------

    def _full(self, rel: str) -> str:
        if self.root and rel:
            return f"{self.root}/{rel}"
        return self.root or rel

    def _url(self, endpoint: str, rel: str) -> str:
        full = self._full(rel)
        return (
            f"{self.base_url}{endpoint}/{quote(full, safe='/')}"
            if full
            else (f"{self.base_url}{endpoint}/")
        )

    def _what(self, rel: str) -> str:
        return f"artifact {rel!r} of {self.artifact_uri!r}" if rel else repr(self.artifact_uri)

    def _send(
        self,
        method: str,
        url: str,
        action: str,
        *,
        retry: bool,
        stream: bool = False,
        content: Callable[[], Iterable[bytes]] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; retry (when *retry*) on connection errors, 429 and 503.

        *content* is a factory so that each attempt sends the body again from its start.
        Returns a successful response (streamed, still open, when *stream*); raises the
        mltrail error of a failed one.
        """
        import httpx

        client = _client(self.verify)
        pinned = self.destination is not None
        all_headers = {**(_auth_headers() if auth and not pinned else {}), **(headers or {})}
        workspace = None if pinned else bound_workspace()
        if workspace:  # the tracking server scopes the run look-ups of its proxy by it
            all_headers[WORKSPACE_HEADER] = workspace
        if self.destination is not None:
            target = self.destination.pinned(url)
            url = target.url
            all_headers["Host"] = target.host_header
            kwargs["extensions"] = {"sni_hostname": target.sni_hostname}
        attempt = 0
        while True:
            body = content() if content is not None else None
            request = client.build_request(method, url, headers=all_headers, content=body, **kwargs)
            try:
                response = client.send(request, stream=True)
            except httpx.TransportError as exc:
                if retry and attempt < self.max_retries:
                    time.sleep(self.backoff * 2**attempt)
                    attempt += 1
                    continue
                raise TemporarilyUnavailable(
                    f"Cannot {action}: cannot reach {self.base_url} ({type(exc).__name__}: {exc})"
                ) from None
            if response.is_success:
                if not stream:
                    response.read()
                    response.close()
                return response
            response.read()
            response.close()
            if retry and response.status_code in _RETRY_STATUSES and attempt < self.max_retries:
                time.sleep(self._delay(response, attempt))
                attempt += 1
                continue
            raise _error_from_response(response, action)

    def _delay(self, response: httpx.Response, attempt: int) -> float:
        delay = float(self.backoff * 2**attempt)
        after = str(response.headers.get("Retry-After", ""))
        if after.isdigit():
            delay = min(max(delay, float(after)), 60.0)
        return delay

    def _get_json(self, url: str, action: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send("GET", url, action, retry=True, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise MltrailError(f"Cannot {action}: the server did not answer with a JSON object")
        return body

    # -- writes -------------------------------------------------------------------------------

    def _put_file(self, source: str, rel: str) -> None:
        size = os.path.getsize(source)

        def body() -> Iterator[bytes]:
            with open(source, "rb") as stream:
                while chunk := stream.read(CHUNK_SIZE):
                    yield chunk

        content_type = mimetypes.guess_type(posixpath.basename(rel))[0]
        headers = {
            "Content-Length": str(size),
            "Content-Type": content_type or "application/octet-stream",
        }
        self._send(
            "PUT",
            self._url(ARTIFACTS_ROOT, rel),
            f"upload {self._what(rel)}",
            retry=True,
            content=body,
            headers=headers,
        )

    def _upload(self, source: str, rel: str) -> None:
        threshold = _env_int("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", 500 * 1024**2)
        if (
            _env_flag(
                "MLTRAIL_ENABLE_PROXY_MULTIPART_UPLOAD", "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"
            )
            and os.path.getsize(source) >= threshold
        ):
            try:
                self._upload_multipart(source, rel)
                return
            except (NotImplementedYet, EndpointNotFound):
                pass  # the server (or its store) takes no multipart uploads: one PUT instead
        self._put_file(source, rel)

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source, rel = plan_upload_file(local_file, artifact_path)
        self._upload(source, rel)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source = os.fspath(local_dir)
        if not os.path.isdir(source):
            raise InvalidArgument(f"Cannot log {source!r}: it is not an existing local directory")
        prefix = validate_artifact_path(artifact_path)
        _, files = plan_upload(os.path.realpath(source), prefix)
        for real_source, rel in files:
            self._upload(real_source, rel)

    def write_stream(self, artifact_path: str, chunks: Iterable[bytes]) -> int:
        """Upload a stream with chunked transfer encoding (sent once: it cannot be rewound)."""
        rel = validate_artifact_path(artifact_path)
        if not rel:
            raise InvalidArgument("Invalid artifact path '': cannot write a file at the root")
        count = 0

        def counted() -> Iterator[bytes]:
            nonlocal count
            for chunk in chunks:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise InvalidArgument(
                        f"Cannot write {rel!r}: chunks must be bytes, not {type(chunk).__name__}"
                    )
                count += len(chunk)
                yield bytes(chunk)

        self._send(
            "PUT",
            self._url(ARTIFACTS_ROOT, rel),
            f"upload {self._what(rel)}",
            retry=False,
            content=counted,
            headers={"Content-Type": "application/octet-stream"},
        )
        return count

    # -- reads --------------------------------------------------------------------------------

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = validate_artifact_path(path)
        body = self._get_json(
            f"{self.base_url}{ARTIFACTS_ROOT}",
            f"list {self._what(rel)}",
            params={"path": self._full(rel)},
        )
        files = body.get("files", [])
        if not isinstance(files, list):
            raise MltrailError(f"Cannot list {self._what(rel)}: 'files' is not a list")
        infos = []
        for entry in files:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise MltrailError(f"Cannot list {self._what(rel)}: malformed entry {entry!r}")
            name = entry["path"]
            if not all(is_valid_segment(segment) for segment in name.split("/")):
                raise InvalidArgument(
                    f"Cannot list {self._what(rel)}: the server returned the unsafe path {name!r}"
                )
            is_dir = bool(entry.get("is_dir", False))
            size = None if is_dir else int(entry.get("file_size") or 0)
            infos.append(FileInfo(posixpath.join(rel, name) if rel else name, is_dir, size))
        if (
            len(infos) == 1
            and not infos[0].is_dir
            and rel
            and infos[0].path == posixpath.join(rel, posixpath.basename(rel))
        ):
            return []  # some servers list a file as itself: a file has no children
        return sorted(infos, key=lambda info: info.path)

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = validate_artifact_path(artifact_path)
        if not rel:
            return FileInfo("", True, None) if self.list_artifacts() else None
        parent = posixpath.dirname(rel)
        for info in self.list_artifacts(parent or None):
            if info.path == rel:
                return info
        return None

    def open_read(self, artifact_path: str) -> BinaryIO:
        rel = validate_artifact_path(artifact_path)
        if not rel:
            raise InvalidArgument("Cannot read artifact '': it is a directory")
        response = self._send(
            "GET",
            self._url(ARTIFACTS_ROOT, rel),
            f"download {self._what(rel)}",
            retry=True,
            stream=True,
        )
        return io.BufferedReader(_ResponseReader(response), buffer_size=CHUNK_SIZE)

    def _download_file(self, rel: str, directory: str, name: str) -> None:
        """Stream one file to ``directory/name`` atomically; a broken stream starts over."""
        import httpx

        attempt = 0
        while True:
            try:
                with self.open_read(rel) as stream:
                    atomic_write(directory, name, iter(lambda: stream.read(CHUNK_SIZE), b""))
                return
            except httpx.TransportError:
                if attempt >= self.max_retries:
                    raise TemporarilyUnavailable(
                        f"Cannot download {self._what(rel)}: the connection broke"
                    ) from None
                time.sleep(self.backoff * 2**attempt)
                attempt += 1

    def download_artifacts(
        self, artifact_path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        rel = validate_artifact_path(artifact_path)
        children = self.list_artifacts(rel or None)
        if dst_path is None:
            dst = tempfile.mkdtemp(prefix="mltrail-artifacts-")  # mode 0o700
        else:
            dst = os.path.abspath(os.fspath(dst_path))
            os.makedirs(dst, exist_ok=True)
        dst_real = os.path.realpath(dst)
        segments = rel.split("/") if rel else []
        local = os.path.join(dst, *segments)
        if not children and rel:  # a file (or nothing: the GET says NotFound)
            parent = safe_makedirs(dst_real, segments[:-1])
            self._download_file(rel, parent, segments[-1])
            return local
        if not children and self.file_info(rel) is None:
            raise NotFound(f"Artifact {rel!r} does not exist in {self.artifact_uri!r}")
        target = safe_makedirs(dst_real, segments)
        self._download_tree(children, rel, target)
        return local

    def _download_tree(self, children: list[FileInfo], rel: str, target: str) -> None:
        for info in children:
            name = info.path[len(rel) + 1 :] if rel else info.path
            if info.is_dir:
                sub = safe_makedirs(target, name.split("/"))
                self._download_tree(self.list_artifacts(info.path), info.path, sub)
            else:
                parts = name.split("/")
                parent = safe_makedirs(target, parts[:-1])
                self._download_file(info.path, parent, parts[-1])

    # -- deletes ------------------------------------------------------------------------------

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = validate_artifact_path(artifact_path)
        self._send(
            "DELETE", self._url(ARTIFACTS_ROOT, rel), f"delete {self._what(rel)}", retry=True
        )

    # -- multipart uploads --------------------------------------------------------------------

    def _mpu(self, verb: str, artifact_path: str | None, body: dict[str, Any]) -> httpx.Response:
        directory = validate_artifact_path(artifact_path)
        return self._send(
            "POST",
            self._url(f"{_MPU_ROOT}/{verb}", directory),
            f"{verb} a multipart upload to {self._what(directory)}",
            retry=False,
            json=body,
        )

    def create_multipart_upload(
        self, local_file: str, num_parts: int = 1, artifact_path: str | None = None
    ) -> CreateMultipartUploadResponse:
        multipart_target(local_file, artifact_path)
        count = validate_num_parts(num_parts)
        response = self._mpu("create", artifact_path, {"path": local_file, "num_parts": count})
        created = CreateMultipartUploadResponse.from_dict(response.json())
        if len(created.credentials) != count:
            raise MltrailError(
                f"The server returned {len(created.credentials)} part URLs for {count} parts"
            )
        return created

    def complete_multipart_upload(
        self,
        local_file: str,
        upload_id: str,
        parts: Sequence[MultipartUploadPart],
        artifact_path: str | None = None,
    ) -> None:
        multipart_target(local_file, artifact_path)
        body = {
            "path": local_file,
            "upload_id": upload_id,
            "parts": [part.to_dict() for part in parts],
        }
        self._mpu("complete", artifact_path, body)

    def abort_multipart_upload(
        self, local_file: str, upload_id: str, artifact_path: str | None = None
    ) -> None:
        multipart_target(local_file, artifact_path)
        self._mpu("abort", artifact_path, {"path": local_file, "upload_id": upload_id})

    def _upload_multipart(self, source: str, rel: str) -> None:
        """Upload *source* in parts PUT straight to the store; abort on any failure."""
        size = os.path.getsize(source)
        part_size = _env_int("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", 10 * 1024**2)
        count = max(1, -(-size // part_size))
        directory, name = posixpath.split(rel)
        created = self.create_multipart_upload(name, count, directory or None)
        upload_id = created.upload_id or ""
        try:
            parts = []
            for credential in created.credentials:
                start = (credential.part_number - 1) * part_size
                length = max(0, min(part_size, size - start))
                parts.append(
                    self._put_part(
                        source,
                        credential.url,
                        credential.headers,
                        credential.part_number,
                        start,
                        length,
                    )
                )
            self.complete_multipart_upload(name, upload_id, parts, directory or None)
        except BaseException:
            with contextlib.suppress(MltrailError):  # the first error is the one to report
                self.abort_multipart_upload(name, upload_id, directory or None)
            raise

    def _put_part(
        self, source: str, url: str, headers: dict[str, str], number: int, start: int, length: int
    ) -> MultipartUploadPart:
        def body() -> Iterator[bytes]:
            with open(source, "rb") as stream:
                stream.seek(start)
                left = length
                while left > 0:
                    chunk = stream.read(min(CHUNK_SIZE, left))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk

        # The presigned URL carries its own authorisation: the tracking credentials stay home.
        response = self._send(
            "PUT",
            url,
            f"upload part {number} of {source!r}",
            retry=True,
            content=body,
            headers={**headers, "Content-Length": str(length)},
            auth=False,
        )
        return MultipartUploadPart(number, response.headers.get("ETag"), url)


class MlflowArtifactsRepository(HttpArtifactRepository):
    """``mlflow-artifacts:`` URIs, resolved against the tracking URI to the proxy's URL.

    Without *tracking_uri* the URI comes from ``MLTRAIL_TRACKING_URI`` or
    ``MLFLOW_TRACKING_URI``.
    """

    uses_tracking_uri = True

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None, **kwargs: Any) -> None:
        tracking = tracking_uri or _env("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI") or ""
        super().__init__(resolve_mlflow_artifacts_uri(artifact_uri, tracking), **kwargs)
        self.artifact_uri = artifact_uri
