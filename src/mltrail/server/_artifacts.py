"""Artifact endpoints: a run's listing, the UI's file route, and the artifact proxy.

The proxy (``/api/2.0/mlflow-artifacts/artifacts/<path>``) streams both ways: an upload is
handed to the destination repository's ``write_stream`` in blocks of at most 1 MB as it
arrives, a download is read from ``open_read`` in 1 MB blocks; neither holds a whole file in
memory.  Every path goes through :func:`~mltrail.artifacts.validate_artifact_path` before
anything is touched (``..``, encoded and double-encoded forms, backslashes, ``;``, ``#``,
absolute and drive paths, control characters: 400).  Uploads and deletes are only accepted
inside the artifact root of an existing, active run.  A download's file (or S3 body) is closed
when its response ends, also when the client drops before the first block.  Multipart uploads
(``mpu/...``) are in :mod:`mltrail.server._multipart_routes`.
"""

from __future__ import annotations

import mimetypes
import posixpath
import string as _chars
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import quote

import anyio
import anyio.from_thread
import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from mltrail._exceptions import InvalidArgument, NotFound, PayloadTooLarge, PermissionDenied
from mltrail.artifacts import ArtifactRepository, FileInfo, validate_artifact_path
from mltrail.artifacts._model_uris import path_below
from mltrail.server._access import ARTIFACT_LIST_PATH, ARTIFACT_PATH, RUN_ID, edit, manage, read
from mltrail.server._context import PROXY_SCHEME, STAGING_DIR, ServerContext, proxy_path
from mltrail.server._errors import json_response
from mltrail.server._routing import Endpoint
from mltrail.server._runs import RUN_ID_FIELDS, run_id_of
from mltrail.server._schema import array, obj, string
from mltrail.server._shapes import FILE_INFO

__all__ = [
    "BLOCK_SIZE",
    "artifact_endpoints",
    "body_blocks",
    "get_artifact_route",
    "get_model_version_artifact_route",
    "stream_file",
]

#: The largest file ``upload-artifact`` (the web UI's upload) takes.
_UI_UPLOAD_LIMIT = 100 * 1024 * 1024
#: Bytes handed over per step when streaming.
BLOCK_SIZE = 1024 * 1024
# Served as text/plain: a browser must never run an artifact as a page or a script.
_ACTIVE_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/javascript",
    "application/javascript",
    "text/xml",
    "application/xml",
)
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}


def _rel(raw: str | None) -> str:
    return validate_artifact_path(raw or "")


def _check_not_staging(rel: str) -> None:
    if rel == STAGING_DIR or rel.startswith(STAGING_DIR + "/"):
        raise PermissionDenied(f"Artifact path {rel!r} is reserved for the server")


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while block := stream.read(BLOCK_SIZE):
            yield block
    finally:
        stream.close()


class _StreamResponse(StreamingResponse):
    """A streamed file that is closed when the response ends, however it ends.

    The generator's own ``finally`` only runs when it is resumed or collected: a client that
    drops before the first block (or in the middle) would leave the file or the S3 body open
    until the garbage collector finds the generator.  Closing happens in a worker thread (a
    read may be in progress there) and is shielded from the cancellation that ended the stream.
    """

    def __init__(self, stream: BinaryIO, **kwargs: Any) -> None:
        self._stream = stream
        super().__init__(_blocks(stream), **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._stream.close)


_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~" + _chars.ascii_letters + _chars.digits)
#: Files without an extension shown as text (MLflow's model and project files).
_TEXT_NAMES = frozenset({"MLmodel", "MLproject", "mlproject", "Dockerfile", "LICENSE"})


def _disposition(name: str) -> str:
    """An attachment ``Content-Disposition`` for *name* (RFC 6266; RFC 5987 for non-ASCII)."""
    if name and set(name) <= _TOKEN_CHARS:
        return f"attachment; filename={name}"
    fallback = name.encode("ascii", "ignore").decode() or "download"
    quoted = '"' + fallback.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if fallback == name:
        return f"attachment; filename={quoted}"
    return f"attachment; filename={quoted}; filename*=UTF-8''{quote(name, safe='')}"


def _media_type(name: str) -> str:
    """The file's type as guessed from its name; active types (HTML, SVG, scripts) as text."""
    if name in _TEXT_NAMES:
        return "text/plain; charset=utf-8"
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type in _ACTIVE_TYPES:
        media_type = "text/plain"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    return media_type


async def stream_file(repo: ArtifactRepository, rel: str, *, inline: bool) -> Response:
    """A streamed response with one artifact file (404 when missing, 400 for a directory).

    Always an attachment (as MLflow sends it: a browser opening the URL downloads it, never
    renders it on the server's origin); *inline* answers with the type guessed from the name
    (what the web UI reads), else as ``application/octet-stream``."""
    info: FileInfo | None = await run_in_threadpool(repo.file_info, rel)
    if info is None:
        raise NotFound(f"Artifact {rel!r} does not exist")
    if info.is_dir:
        raise InvalidArgument(f"Artifact {rel!r} is a directory, not a file")
    stream = await run_in_threadpool(repo.open_read, rel)
    name = posixpath.basename(rel)
    headers = dict(_SAFE_HEADERS)
    if info.file_size is not None:
        headers["Content-Length"] = str(info.file_size)
    headers["Content-Disposition"] = _disposition(name)
    media_type = _media_type(name) if inline else "application/octet-stream"
    return _StreamResponse(stream, headers=headers, media_type=media_type)


def body_blocks(request: Request) -> Iterator[bytes]:
    """The request body as blocks of up to 1 MB, for a worker thread to consume.

    Each block is read on the event loop (``anyio.from_thread.run``), so the body is pulled
    from the socket only as fast as the destination takes it.
    """
    chunks = request.stream().__aiter__()

    async def next_block() -> bytes:
        parts: list[bytes] = []
        size = 0
        while size < BLOCK_SIZE:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            if chunk:
                parts.append(chunk)
                size += len(chunk)
        return b"".join(parts)

    while block := anyio.from_thread.run(next_block):
        yield block


# -- the proxy ----------------------------------------------------------------------------------


async def _download(ctx: ServerContext, request: Request) -> Response:
    rel = _rel(request.path_params["artifact_path"])
    if not rel:
        raise InvalidArgument("Invalid artifact path '': a file path is required")
    _check_not_staging(rel)
    return await stream_file(ctx.proxy_repo, rel, inline=False)


async def _upload(ctx: ServerContext, request: Request) -> Response:
    rel = _rel(request.path_params["artifact_path"])
    await run_in_threadpool(ctx.run_for_upload, rel)

    def write() -> int:
        return ctx.proxy_repo.write_stream(rel, body_blocks(request))

    try:
        await run_in_threadpool(write)
    except ClientDisconnect:
        return Response(status_code=400)
    return json_response({})


async def _delete(ctx: ServerContext, request: Request) -> Response:
    rel = _rel(request.path_params["artifact_path"])
    await run_in_threadpool(ctx.run_for_upload, rel, True)
    await run_in_threadpool(ctx.proxy_repo.delete_artifacts, rel)
    return json_response({})


async def _list(ctx: ServerContext, request: Request) -> Response:
    rel = _rel(request.query_params.get("path"))
    _check_not_staging(rel)
    infos = await run_in_threadpool(ctx.proxy_repo.list_artifacts, rel or None)
    files = []
    for info in infos:
        base = posixpath.basename(info.path)
        if not rel and base == STAGING_DIR:
            continue
        files.append(FileInfo(base, info.is_dir, info.file_size).to_dict())
    return json_response({"files": files})


# -- a run's artifacts --------------------------------------------------------------------------


async def _upload_to_run(ctx: ServerContext, request: Request) -> Response:
    """``POST /mlflow/upload-artifact?run_uuid=&path=`` (MLflow's UI): the raw body becomes the
    file *path* of an active run's artifacts, in whatever store holds them."""
    run_id = request.query_params.get("run_uuid") or request.query_params.get("run_id")
    if not run_id:
        raise InvalidArgument("Request must specify run_uuid.")
    raw = request.query_params.get("path")
    if not raw:
        raise InvalidArgument("Request must specify path.")
    try:
        rel = validate_artifact_path(raw)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Invalid path {raw!r} for upload-artifact: {exc}") from None
    run = await run_in_threadpool(ctx.backend.runs.get_run, run_id)
    if run.info.lifecycle_stage != "active":
        raise PermissionDenied(f"Cannot write artifact {rel!r}: run {run_id} is deleted")
    # A UI upload is one small file, read whole (the proxy's PUT streams large ones).
    limit = _UI_UPLOAD_LIMIT
    body = bytearray()
    async for block in request.stream():
        body += block
        if len(body) > limit:
            raise PayloadTooLarge(
                f"Invalid upload-artifact body: larger than {limit} bytes; upload large files "
                "through the artifact proxy (PUT /api/2.0/mlflow-artifacts/artifacts/<path>)"
            )
    if not body:
        raise InvalidArgument("Request must specify data.")
    repo = ctx.repo_for_uri(run.info.artifact_uri)
    await run_in_threadpool(repo.write_stream, rel, iter([bytes(body)]))
    return json_response({})


def _list_run(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    run = ctx.backend.runs.get_run(run_id_of(args))
    rel = _rel(args.get("path"))
    repo = ctx.repo_for_uri(run.info.artifact_uri)
    files = [f.to_dict() for f in repo.list_artifacts(rel or None)]
    return {"root_uri": run.info.artifact_uri, "files": files}


async def get_artifact_route(ctx: ServerContext, request: Request) -> Response:
    """``GET /get-artifact?run_uuid=...&path=...``: one file of a run, for the UI to show."""
    run_id = request.query_params.get("run_uuid") or request.query_params.get("run_id")
    if not run_id:
        raise InvalidArgument("Missing value for required parameter 'run_uuid'")
    rel = _rel(request.query_params.get("path"))
    if not rel:
        raise InvalidArgument("Missing value for required parameter 'path'")
    run = await run_in_threadpool(ctx.backend.runs.get_run, run_id)
    repo = ctx.repo_for_uri(run.info.artifact_uri)
    return await stream_file(repo, rel, inline=True)


def _version_file_location(ctx: ServerContext, name: str, version: str) -> tuple[str, str]:
    """The (root, path below it) where the server may read a model version's files: inside the
    artifacts of the run it links, when that run is here, or in the proxy's destination.  A
    source kept as given (a remote URI of a registry apart from tracking) is never read by the
    server with its own credentials."""
    mv = ctx.backend.registry.get_model_version(name, version)
    location = ctx.backend.registry.get_model_version_download_uri(name, version)
    if mv.run_id:
        try:
            run = ctx.backend.runs.get_run(mv.run_id)
        except NotFound:
            run = None
        if run is not None:
            below = path_below(run.info.artifact_uri, location)
            if below is not None:
                return run.info.artifact_uri, below
    rel = proxy_path(location) if ctx.settings.serve_artifacts else None
    if rel is not None:
        return f"{PROXY_SCHEME}:/", rel
    raise PermissionDenied(
        f"The files of model version {name!r} {version} are at {location!r}, outside every run "
        "of this server and its artifact proxy; the server does not read them (download them "
        "from there with your own credentials)"
    )


async def get_model_version_artifact_route(ctx: ServerContext, request: Request) -> Response:
    """``GET /model-versions/get-artifact?name=&version=&path=``: one file of a registered
    version, for the web UI (as MLflow's)."""
    args = request.query_params
    name, version = args.get("name"), args.get("version")
    if not name or not version:
        raise InvalidArgument("Missing value for required parameter 'name' or 'version'")
    rel = _rel(args.get("path"))
    if not rel:
        raise InvalidArgument("Missing value for required parameter 'path'")
    root, below = await run_in_threadpool(_version_file_location, ctx, name, version)
    repo = ctx.repo_for_uri(root)
    return await stream_file(repo, posixpath.join(below, rel) if below else rel, inline=True)


_PATH_PARAM = [
    {"name": "artifact_path", "in": "path", "required": True, "schema": {"type": "string"}}
]
_JSON_OK = {"200": {"description": "Done", "content": {"application/json": {"schema": obj({})}}}}
_FILE_OK = {
    "200": {
        "description": "The file, streamed",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def artifact_endpoints() -> list[Endpoint]:
    proxy = "/mlflow-artifacts/artifacts"
    return [
        Endpoint(
            "GET",
            "/mlflow/artifacts/list",
            "List a run's artifacts (direct children of path)",
            obj({**RUN_ID_FIELDS, "path": string(), "page_token": string()}),
            obj({"root_uri": string(), "files": array(FILE_INFO), "next_page_token": string()}),
            _list_run,
            tag="artifacts",
            access=read(RUN_ID),
        ),
        Endpoint(
            "POST",
            "/mlflow/upload-artifact",
            "Write one file of a run's artifacts from the raw body (run_uuid and path in the "
            "query), as MLflow's UI uploads it",
            raw=_upload_to_run,
            tag="artifacts",
            openapi={
                "parameters": [
                    {"name": "run_uuid", "in": "query", "required": True, "schema": string()},
                    {"name": "run_id", "in": "query", "required": False, "schema": string()},
                    {"name": "path", "in": "query", "required": True, "schema": string()},
                ],
                "requestBody": {
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    }
                },
                "responses": _JSON_OK,
            },
            access=edit(RUN_ID),
        ),
        Endpoint(
            "GET",
            f"{proxy}/{{artifact_path:path}}",
            "Download an artifact file through the proxy (streamed)",
            raw=_download,
            tag="artifacts",
            openapi={"parameters": _PATH_PARAM, "responses": _FILE_OK},
            access=read(ARTIFACT_PATH),
        ),
        Endpoint(
            "PUT",
            f"{proxy}/{{artifact_path:path}}",
            "Upload an artifact file through the proxy (raw body, streamed); only inside an "
            "existing run's artifact root",
            raw=_upload,
            tag="artifacts",
            openapi={
                "parameters": _PATH_PARAM,
                "requestBody": {
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    }
                },
                "responses": _JSON_OK,
            },
            access=edit(ARTIFACT_PATH),
        ),
        Endpoint(
            "DELETE",
            f"{proxy}/{{artifact_path:path}}",
            "Delete an artifact file or folder inside an existing run's artifact root",
            raw=_delete,
            tag="artifacts",
            openapi={"parameters": _PATH_PARAM, "responses": _JSON_OK},
            access=manage(ARTIFACT_PATH),
        ),
        Endpoint(
            "GET",
            proxy,
            "List a folder of the artifacts destination (names relative to path)",
            raw=_list,
            tag="artifacts",
            openapi={
                "parameters": [
                    {"name": "path", "in": "query", "required": False, "schema": string()}
                ],
                "responses": {
                    "200": {
                        "description": "The entries",
                        "content": {
                            "application/json": {"schema": obj({"files": array(FILE_INFO)})}
                        },
                    }
                },
            },
            access=read(ARTIFACT_LIST_PATH),
        ),
    ]
