"""Endpoints: schema -> store -> route, declared once and turned into routes and OpenAPI.

An :class:`Endpoint` names its method, its path below an API version (``/mlflow/runs/get``),
the object schema of its request (query string for GET, JSON body otherwise), the schema of
its response and a synchronous handler ``handler(ctx, args) -> dict``.  :func:`json_route`
builds the Starlette route: it reads and checks the request (JSON bodies are size-limited),
runs the handler in a worker thread (store calls block), and turns every error into MLflow's
error body.  Handlers that stream (artifact downloads and uploads) are plain Starlette routes
declared with ``raw=`` and still appear in the OpenAPI schema.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mltrail._exceptions import BadRequest, InvalidArgument, MltrailError
from mltrail.server._context import ServerContext
from mltrail.server._errors import error_response, json_response, unexpected_error_response
from mltrail.server._schema import obj, parse_body, parse_query

__all__ = [
    "EMPTY",
    "Endpoint",
    "Handler",
    "RawHandler",
    "json_route",
    "read_json_body",
    "routes_for",
]

Handler = Callable[[ServerContext, dict[str, Any]], dict[str, Any]]
RawHandler = Callable[[ServerContext, Request], Awaitable[Response]]
EMPTY: dict[str, Any] = obj({})


class PayloadTooLarge(BadRequest):
    http_status = 413


@dataclass(frozen=True)
class Endpoint:
    """One operation; ``path`` is relative to the API version prefix (``/api/2.0``)."""

    method: str
    path: str
    summary: str
    params: dict[str, Any] = field(default_factory=lambda: EMPTY)
    response: dict[str, Any] = field(default_factory=lambda: EMPTY)
    handler: Handler | None = None
    raw: RawHandler | None = None
    tag: str = "tracking"
    #: OpenAPI details for raw endpoints (path parameters, request/response bodies).
    openapi: dict[str, Any] = field(default_factory=dict)
    #: API versions this endpoint lives under.
    versions: tuple[str, ...] = ("2.0",)

    @property
    def operation_id(self) -> str:
        words = self.path.strip("/").replace("{", "").replace("}", "").replace(":path", "")
        parts = [p for p in words.replace("-", "/").replace("_", "/").split("/") if p]
        return self.method.lower() + "".join(p[:1].upper() + p[1:] for p in parts)


async def read_json_body(request: Request, limit: int) -> Any:
    """The decoded JSON body; at most *limit* bytes are read (413 beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body too large: the limit for JSON bodies is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"Request body too large: the limit for JSON bodies is {limit} bytes"
            )
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("Invalid request body: not valid JSON") from None


def json_route(endpoint: Endpoint, ctx: ServerContext) -> Route:
    """The Starlette route of a JSON endpoint (or of a raw one)."""
    method = endpoint.method
    limit = ctx.settings.max_json_body_bytes

    if endpoint.raw is not None:
        raw = endpoint.raw

        async def raw_call(request: Request) -> Response:
            try:
                return await raw(ctx, request)
            except MltrailError as exc:
                return error_response(exc)
            except Exception as exc:
                return unexpected_error_response(request, exc)

        return Route(endpoint.path, raw_call, methods=[method])

    handler = endpoint.handler
    assert handler is not None, endpoint.path
    schema = endpoint.params
    from_query = method == "GET"

    async def call(request: Request) -> Response:
        try:
            if from_query:
                args = parse_query(request.query_params, schema)
            else:
                args = parse_body(await read_json_body(request, limit), schema)
            result = await run_in_threadpool(handler, ctx, args)
            return json_response(result)
        except MltrailError as exc:
            return error_response(exc)
        except Exception as exc:
            return unexpected_error_response(request, exc)

    return Route(endpoint.path, call, methods=[method])


def routes_for(endpoints: Sequence[Endpoint], ctx: ServerContext, version: str) -> list[Route]:
    return [json_route(e, ctx) for e in endpoints if version in e.versions]
