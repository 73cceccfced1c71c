"""The artifact proxy's multipart uploads: ``POST mpu/{create,complete,abort}/<directory>``.

MLflow's shapes: ``create`` takes ``{"path": <file name or the client's local path>,
"num_parts": n}`` and answers ``{"upload_id", "credentials": [{"url", "part_number",
"headers"}]}``; the client PUTs part *i* to ``credentials[i].url`` and keeps the ``ETag`` of
each answer; ``complete`` takes ``{"path", "upload_id", "parts": [{"part_number", "etag",
"url"}]}``, ``abort`` takes ``{"path", "upload_id"}``.  The artifact written is
``<directory>/<last component of path>``.

How the parts travel depends on the destination:

- an object store that takes multipart uploads itself (S3: a
  :class:`~mltrail.artifacts.MultipartUploadRepository`): the server starts the store's upload
  and hands out presigned part URLs, so the parts go straight to the store;
- any other destination (a folder): the part URLs point back at this server (``PUT
  mpu/part/<upload_id>/<part_number>``), which streams each part into a staging folder
  ``.mltrail-mpu/<upload_id>/`` inside the destination (so every server process of a
  scale-out sees it); ``complete`` joins the parts into the artifact, streamed, and removes the
  staging folder.  The upload id (the creation time and 128 random bits) is what lets a client
  send parts; the ``ETag`` of a part names the stored copy, so a retried part never mixes with
  an older one.  Uploads left unfinished for a week are removed when the next one starts.

Every request is checked like the proxy's other writes: the path goes through
:func:`~mltrail.artifacts.validate_artifact_path` (every traversal form: 400, nothing touched),
and the target must lie inside the artifact root of an existing, active run, at ``create``, at
every part and again at ``complete``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts import (
    ArtifactRepository,
    CreateMultipartUploadResponse,
    MultipartUploadCredential,
    MultipartUploadPart,
    MultipartUploadRepository,
    validate_artifact_path,
)
from mltrail.artifacts._multipart import MAX_PARTS, multipart_target, ordered_parts
from mltrail.server._access import ARTIFACT_PATH, UPLOAD_CAPABILITY, edit
from mltrail.server._artifacts import body_blocks
from mltrail.server._context import STAGING_DIR, ServerContext
from mltrail.server._errors import json_response
from mltrail.server._routing import Endpoint, read_json_body
from mltrail.server._schema import array, int32, int64, obj, parse_body, string

__all__ = ["STALE_UPLOAD_SECONDS", "StagedUploads", "multipart_endpoints"]

#: Unfinished staged uploads older than this are removed when a new one is created.
STALE_UPLOAD_SECONDS = 7 * 24 * 3600
_UPLOAD_ID = re.compile(r"^[0-9a-f]{40}$")
_ETAG = re.compile(r'^"?([0-9a-f]{32})"?$')
_MANIFEST = "upload.json"
_MPU = "/mlflow-artifacts/mpu/"
_BLOCK = 1024 * 1024

_CREATE = obj(
    {
        "path": string("The file name (or the client's path to the file; its last component)"),
        "num_parts": int32("Number of parts", minimum=1, maximum=MAX_PARTS),
    },
    required=["path"],
)
_PART = obj(
    {"part_number": int64(minimum=1, maximum=MAX_PARTS), "etag": string(), "url": string()},
    required=["part_number"],
)
_COMPLETE = obj(
    {"path": string(), "upload_id": string(), "parts": array(_PART, max_items=MAX_PARTS)},
    required=["path", "parts"],
)
_ABORT = obj({"path": string(), "upload_id": string()}, required=["path"])


def _check_upload_id(upload_id: object) -> str:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise InvalidArgument(
            f"Invalid 'upload_id' {upload_id!r}: expected the id returned by mpu/create"
        )
    return upload_id


def _part_name(number: int, token: str) -> str:
    return f"{number:05d}-{token}"


class StagedUploads:
    """Multipart uploads staged in ``.mltrail-mpu/<upload_id>/`` of a destination repository."""

    def __init__(self, repo: ArtifactRepository) -> None:
        self.repo = repo

    @staticmethod
    def _dir(upload_id: str) -> str:
        return f"{STAGING_DIR}/{upload_id}"

    def _sweep(self, now: float) -> None:
        for info in self.repo.list_artifacts(STAGING_DIR):
            name = info.path.rsplit("/", 1)[-1]
            if _UPLOAD_ID.match(name) and now - int(name[:8], 16) > STALE_UPLOAD_SECONDS:
                self.repo.delete_artifacts(info.path)

    def create(self, target: str, num_parts: int, part_url: str) -> CreateMultipartUploadResponse:
        """A new upload of *target*; part *n* goes to ``<part_url>/<upload_id>/<n>``."""
        now = time.time()
        self._sweep(now)
        upload_id = f"{int(now):08x}{secrets.token_hex(16)}"
        manifest = json.dumps({"target": target, "num_parts": num_parts}).encode()
        self.repo.write_stream(f"{self._dir(upload_id)}/{_MANIFEST}", [manifest])
        credentials = [
            MultipartUploadCredential(f"{part_url}/{upload_id}/{number}", number, {})
            for number in range(1, num_parts + 1)
        ]
        return CreateMultipartUploadResponse(upload_id, credentials)

    def manifest(self, upload_id: str) -> tuple[str, int]:
        """``(target, num_parts)`` of an unfinished upload; ``NotFound`` otherwise."""
        path = f"{self._dir(_check_upload_id(upload_id))}/{_MANIFEST}"
        try:
            with self.repo.open_read(path) as stream:
                data = json.loads(stream.read(64 * 1024))
        except NotFound:
            raise NotFound(
                f"No multipart upload {upload_id!r}: it was never created, or it was already "
                "completed or aborted"
            ) from None
        return str(data["target"]), int(data["num_parts"])

    def _check_target(self, upload_id: str, target: str) -> int:
        expected, num_parts = self.manifest(upload_id)
        if expected != target:
            raise InvalidArgument(
                f"Invalid 'path': multipart upload {upload_id!r} writes {expected!r}, "
                f"not {target!r}"
            )
        return num_parts

    def put_part(self, upload_id: str, number: int, chunks: Iterator[bytes]) -> str:
        """Store one part; return its ETag (quoted, as HTTP writes it)."""
        _, num_parts = self.manifest(upload_id)
        if not 1 <= number <= num_parts:
            raise InvalidArgument(
                f"Invalid part number {number}: upload {upload_id!r} has parts 1 to {num_parts}"
            )
        token = secrets.token_hex(16)
        self.repo.write_stream(f"{self._dir(upload_id)}/{_part_name(number, token)}", chunks)
        return f'"{token}"'

    def complete(self, upload_id: str, target: str, parts: Sequence[MultipartUploadPart]) -> None:
        """Join *parts* (by number; each named by its ETag) into *target*, then clean up."""
        self._check_target(upload_id, target)
        ordered = ordered_parts(parts)
        listing = self.repo.list_artifacts(self._dir(upload_id))
        stored = {info.path.rsplit("/", 1)[-1] for info in listing}
        names = []
        for part in ordered:
            match = _ETAG.match(part.etag or "")
            if match is None:
                raise InvalidArgument(
                    f"Invalid 'parts.etag' {part.etag!r} of part {part.part_number}: expected "
                    "the ETag the part upload answered with"
                )
            name = _part_name(part.part_number, match.group(1))
            if name not in stored:
                raise InvalidArgument(
                    f"Invalid 'parts': part {part.part_number} with ETag {part.etag!r} was not "
                    f"uploaded to {upload_id!r}"
                )
            names.append(f"{self._dir(upload_id)}/{name}")

        def joined() -> Iterator[bytes]:
            for name in names:
                with self.repo.open_read(name) as stream:
                    while block := stream.read(_BLOCK):
                        yield block

        self.repo.write_stream(target, joined())
        self.repo.delete_artifacts(self._dir(upload_id))

    def abort(self, upload_id: str, target: str) -> None:
        self._check_target(upload_id, target)
        self.repo.delete_artifacts(self._dir(upload_id))


# -- routes -------------------------------------------------------------------------------------


def _target(ctx: ServerContext, request: Request, local_file: Any) -> str:
    directory = validate_artifact_path(request.path_params["artifact_path"])
    target = multipart_target(local_file, directory or None)
    ctx.run_for_upload(target)
    return target


def _native(ctx: ServerContext) -> MultipartUploadRepository | None:
    repo = ctx.proxy_repo
    return repo if isinstance(repo, MultipartUploadRepository) else None


def _part_url(request: Request) -> str:
    """``<scheme>://<host>[/prefix]/api/<version>/mlflow-artifacts/mpu/part`` of this request."""
    url = request.url
    head = url.path[: url.path.index(_MPU)]
    return f"{url.scheme}://{url.netloc}{quote(head)}{_MPU}part"


async def _body(ctx: ServerContext, request: Request, schema: dict[str, Any]) -> dict[str, Any]:
    return parse_body(await read_json_body(request, ctx.settings.max_json_body_bytes), schema)


async def _create(ctx: ServerContext, request: Request) -> Response:
    # The path is checked before the body is read: a traversal is refused whatever follows.
    validate_artifact_path(request.path_params["artifact_path"])
    args = await _body(ctx, request, _CREATE)
    num_parts = args.get("num_parts", 1)

    def create() -> CreateMultipartUploadResponse:
        target = _target(ctx, request, args["path"])
        native = _native(ctx)
        if native is not None:
            directory, _, name = target.rpartition("/")
            return native.create_multipart_upload(name, num_parts, directory or None)
        return StagedUploads(ctx.proxy_repo).create(target, num_parts, _part_url(request))

    return json_response((await run_in_threadpool(create)).to_dict())


def _upload_id(args: dict[str, Any]) -> str:
    upload_id = args.get("upload_id")
    if not isinstance(upload_id, str) or not upload_id:
        raise InvalidArgument("Missing value for required parameter 'upload_id'")
    return upload_id


async def _complete(ctx: ServerContext, request: Request) -> Response:
    validate_artifact_path(request.path_params["artifact_path"])
    args = await _body(ctx, request, _COMPLETE)
    upload_id = _upload_id(args)
    parts = [MultipartUploadPart.from_dict(part) for part in args["parts"]]

    def complete() -> None:
        target = _target(ctx, request, args["path"])
        native = _native(ctx)
        if native is not None:
            directory, _, name = target.rpartition("/")
            native.complete_multipart_upload(name, upload_id, parts, directory or None)
        else:
            StagedUploads(ctx.proxy_repo).complete(upload_id, target, parts)

    await run_in_threadpool(complete)
    return json_response({})


async def _abort(ctx: ServerContext, request: Request) -> Response:
    validate_artifact_path(request.path_params["artifact_path"])
    args = await _body(ctx, request, _ABORT)
    upload_id = _upload_id(args)

    def abort() -> None:
        target = _target(ctx, request, args["path"])
        native = _native(ctx)
        if native is not None:
            directory, _, name = target.rpartition("/")
            native.abort_multipart_upload(name, upload_id, directory or None)
        else:
            StagedUploads(ctx.proxy_repo).abort(upload_id, target)

    await run_in_threadpool(abort)
    return json_response({})


async def _put_part(ctx: ServerContext, request: Request) -> Response:
    upload_id = _check_upload_id(request.path_params["upload_id"])
    raw_number = request.path_params["part_number"]
    if not raw_number.isdigit() or not 1 <= int(raw_number) <= MAX_PARTS:
        raise InvalidArgument(
            f"Invalid part number {raw_number!r}: expected an integer from 1 to {MAX_PARTS}"
        )
    staged = StagedUploads(ctx.proxy_repo)

    def put() -> str:
        target, _ = staged.manifest(upload_id)
        ctx.run_for_upload(target)
        return staged.put_part(upload_id, int(raw_number), body_blocks(request))

    try:
        etag = await run_in_threadpool(put)
    except ClientDisconnect:
        return Response(status_code=400)
    return json_response({}, headers={"ETag": etag})


# -- endpoint declarations ----------------------------------------------------------------------

_DIR_PARAM = [
    {
        "name": "artifact_path",
        "in": "path",
        "required": True,
        "description": "The artifact's directory below the artifacts destination",
        "schema": {"type": "string"},
    }
]


def _json_openapi(request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {
        "parameters": _DIR_PARAM,
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {
            "200": {"description": "Done", "content": {"application/json": {"schema": response}}}
        },
    }


def multipart_endpoints() -> list[Endpoint]:
    credential = obj({"url": string(), "part_number": int64(), "headers": obj({})})
    created = obj({"upload_id": string(), "credentials": array(credential)})
    mpu = "/mlflow-artifacts/mpu"
    verbs = [
        (
            "create",
            "Start a multipart upload of <artifact_path>/<file name>; one part URL per part",
            _create,
            _CREATE,
            created,
        ),
        ("complete", "Join the uploaded parts into the artifact", _complete, _COMPLETE, obj({})),
        (
            "abort",
            "Throw away an unfinished multipart upload and its parts",
            _abort,
            _ABORT,
            obj({}),
        ),
    ]
    return [
        *(
            Endpoint(
                "POST",
                f"{mpu}/{verb}/{{artifact_path:path}}",
                summary,
                raw=handler,
                tag="artifacts",
                openapi=_json_openapi(request, response),
                access=edit(ARTIFACT_PATH),
            )
            for verb, summary, handler, request, response in verbs
        ),
        Endpoint(
            "PUT",
            f"{mpu}/part/{{upload_id}}/{{part_number}}",
            "Upload one part of a multipart upload staged by this server (raw body, streamed); "
            "the answer's ETag header names the part for mpu/complete",
            raw=_put_part,
            tag="artifacts",
            openapi={
                "parameters": [
                    {"name": "upload_id", "in": "path", "required": True, "schema": string()},
                    {"name": "part_number", "in": "path", "required": True, "schema": string()},
                ],
                "requestBody": {
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    }
                },
                "responses": {
                    "200": {
                        "description": "Stored; the ETag header names the part",
                        "content": {"application/json": {"schema": obj({})}},
                    }
                },
            },
            access=UPLOAD_CAPABILITY,
        ),
    ]
