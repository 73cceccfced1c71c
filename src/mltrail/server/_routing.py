"""Endpoints: schema -> store -> route, declared once and turned into routes and OpenAPI.

An :class:`Endpoint` names its method, its path below an API version (``/mlflow/runs/get``),
the object schema of its request (query string for GET, JSON body otherwise), the schema of
its response, a synchronous handler ``handler(ctx, args) -> dict`` and who may call it (its
access rule, :mod:`mltrail.server._access`).  :func:`json_route` builds the Starlette route: it
reads and checks the request (JSON bodies are size-limited), runs the handler in a worker
thread (store calls block), and turns every error into MLflow's error body.  Handlers that
stream (artifact downloads and uploads) are plain Starlette routes declared with ``raw=`` and
still appear in the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mltrail._exceptions import MltrailError
from mltrail.server._access import Access, Effect
from mltrail.server._bodies import MAX_JSON_DEPTH, read_body, read_json_body
from mltrail.server._context import ServerContext
from mltrail.server._errors import error_response, json_response, unexpected_error_response
from mltrail.server._schema import obj, parse_body, parse_query
from mltrail.server.auth._asgi import GuardedApp, auth_error_response, request_info
from mltrail.server.auth._guard import run_guarded

__all__ = [
    "EMPTY",
    "MAX_JSON_DEPTH",
    "Endpoint",
    "FastLane",
    "Handler",
    "JsonEndpointApp",
    "RawHandler",
    "fast_lane_table",
    "json_route",
    "read_json_body",
    "routes_for",
]

Handler = Callable[[ServerContext, dict[str, Any]], dict[str, Any]]
RawHandler = Callable[[ServerContext, Request], Awaitable[Response]]
EMPTY: dict[str, Any] = obj({})


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
    #: Who may call it (:mod:`mltrail.server._access`); required, so no endpoint goes without.
    access: Access = field(kw_only=True)
    #: What a successful call changes in the auth state and the audit trail (creator grants,
    #: renames, deletions); None for calls that change none of it.
    effect: Effect | None = field(default=None, kw_only=True)

    @property
    def operation_id(self) -> str:
        words = self.path.strip("/").replace("{", "").replace("}", "").replace(":path", "")
        parts = [p for p in words.replace("-", "/").replace("_", "/").split("/") if p]
        return self.method.lower() + "".join(p[:1].upper() + p[1:] for p in parts)


class JsonEndpointApp:
    """The ASGI app of one JSON endpoint: check the request, run the handler in the server's
    thread pool (store calls block), answer with its JSON or MLflow's error body."""

    __slots__ = ("_ctx", "_endpoint", "_from_query", "_handler", "_limit", "_schema")

    def __init__(self, endpoint: Endpoint, ctx: ServerContext) -> None:
        assert endpoint.handler is not None, endpoint.path
        self._endpoint = endpoint
        self._handler = endpoint.handler
        self._ctx = ctx
        self._schema = endpoint.params
        self._from_query = endpoint.method == "GET"
        self._limit = ctx.settings.max_json_body_bytes

    async def _args(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        if self._from_query:
            return parse_query(QueryParams(scope["query_string"]), self._schema)
        return parse_body(await read_body(scope, receive, self._limit), self._schema)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self._ctx.auth is None:
                args = await self._args(scope, receive)
                result = await self._ctx.run_blocking(self._handler, self._ctx, args)
            else:
                result = await self._guarded(scope, receive)
            response = json_response(result)
        except ClientDisconnect:
            return
        except MltrailError as exc:
            response = auth_error_response(exc, scope)
        except Exception as exc:
            response = unexpected_error_response(Request(scope), exc)
        await response(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        """Authenticate, authorize and handle in one handler thread (a malformed request's
        error is answered after authentication)."""
        assert self._ctx.auth is not None
        args: dict[str, Any] | None = None
        bad: MltrailError | None = None
        try:
            args = await self._args(scope, receive)
        except MltrailError as exc:
            bad = exc
        endpoint = self._endpoint
        return await self._ctx.run_blocking(
            run_guarded,
            self._ctx.auth,
            self._ctx,
            endpoint.access,
            endpoint.effect,
            self._handler,
            request_info(scope),
            args,
            bad,
        )


class FastLane:
    """ASGI middleware (innermost, after the security checks): a request for a JSON endpoint
    goes straight to it by an exact (path, method) lookup instead of through the router's
    list of patterns; everything else passes on unchanged."""

    def __init__(self, app: ASGIApp, endpoints: dict[tuple[str, str], ASGIApp]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = self.endpoints.get((scope["path"], scope["method"]))
            if target is not None:
                await target(scope, receive, send)
                return
        await self.app(scope, receive, send)


def json_route(endpoint: Endpoint, ctx: ServerContext) -> Route:
    """The Starlette route of a JSON endpoint (or of a raw one)."""
    method = endpoint.method
    if endpoint.raw is not None:
        raw = endpoint.raw

        async def raw_call(request: Request) -> Response:
            try:
                return await raw(ctx, request)
            except MltrailError as exc:
                return error_response(exc)
            except Exception as exc:
                return unexpected_error_response(request, exc)

        route = Route(endpoint.path, raw_call, methods=[method])
        if ctx.auth is not None:  # a JSON endpoint checks its caller itself
            route.app = GuardedApp(route.app, endpoint.access, ctx, endpoint.effect)
        return route
    return Route(endpoint.path, JsonEndpointApp(endpoint, ctx), methods=[method])


def routes_for(endpoints: Sequence[Endpoint], ctx: ServerContext, version: str) -> list[Route]:
    return [json_route(e, ctx) for e in endpoints if version in e.versions]


def fast_lane_table(
    mounts: Sequence[tuple[str, Sequence[Route]]],
) -> dict[tuple[str, str], ASGIApp]:
    """(full path, method) -> app of every JSON endpoint route under the given prefixes."""
    table: dict[tuple[str, str], ASGIApp] = {}
    for prefix, routes in mounts:
        for route in routes:
            if isinstance(route.app, JsonEndpointApp) and "{" not in route.path:
                for method in route.methods or ():
                    if method != "HEAD":
                        table[(prefix + route.path, method)] = route.app
    return table
