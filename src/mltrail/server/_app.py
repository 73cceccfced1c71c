"""``create_app(settings)``: the tracking server as a Starlette application.

Routes, in matching order:

- ``/health`` ("OK"), ``/version`` (plain text: the MLflow API version with mltrail's as its
  local label, see :func:`~mltrail.server._meta.served_version`), ``/api/openapi.json`` (the
  OpenAPI document);
- ``/get-artifact?run_uuid=&path=``: one file of a run, for the web UI;
- ``/model-versions/get-artifact?name=&version=&path=``: one file of a registered version;
- ``/graphql``: MLflow's GraphQL queries, answered by the endpoints (:mod:`~.server._graphql`);
- ``/api/2.0/...`` and ``/ajax-api/2.0/...``: every endpoint of :func:`server_endpoints` (MLflow's
  tracking, metrics and artifact API, mltrail's extensions under ``/mltrail/``), plus the
  artifact proxy ``/mlflow-artifacts/...`` when artifacts are served; unknown paths and methods
  below these prefixes answer MLflow's JSON error (404/405);
- ``/api/3.0/mlflow/server-info`` (and under ``/ajax-api/3.0``);
- the web UI (``mltrail.server._ui``), last, for every other GET path.

The app owns its backend: ``create_app`` opens it (:func:`~mltrail.store.open_backend`), the
lifespan starts the webhook dispatcher that sends its outbox (with the server's destination
policy) and, at shutdown, stops it and closes the backend.  A caller adds endpoints with
``extra_endpoints`` and routes with ``extra_routes``.

Every route declares who may call it (:mod:`mltrail.server._access`): an endpoint in its
declaration, the plain routes and the UI here, an extra route with its :class:`PlainRoute`;
``app.state.access`` holds the rule of every (path pattern, method).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from mltrail._exceptions import MltrailError
from mltrail.registry.webhooks import WebhookDispatcher
from mltrail.server._access import AUTHENTICATED, PUBLIC, REGISTERED_MODEL_NAME, RUN_ID, read
from mltrail.server._artifacts import (
    artifact_endpoints,
    get_artifact_route,
    get_model_version_artifact_route,
)
from mltrail.server._context import ServerContext
from mltrail.server._errors import (
    error_response,
    http_exception_response,
    json_response,
    unexpected_error_response,
)
from mltrail.server._experiments import experiment_endpoints
from mltrail.server._graphql import graphql_route_handler
from mltrail.server._logged_models import logged_model_endpoints
from mltrail.server._meta import mltrail_version, served_version, server_info_endpoint
from mltrail.server._metrics import metric_endpoints
from mltrail.server._multipart_routes import multipart_endpoints
from mltrail.server._openapi import openapi_document
from mltrail.server._registry_routes import registry_endpoints
from mltrail.server._route_rules import PlainRoute, access_table, unruled
from mltrail.server._routing import Endpoint, FastLane, fast_lane_table, routes_for
from mltrail.server._runs import run_endpoints
from mltrail.server._security import SecurityMiddleware
from mltrail.server._settings import ServerSettings
from mltrail.server._ui import ui_routes
from mltrail.server._webhook_routes import webhook_endpoints
from mltrail.server._workspaces import WorkspaceMiddleware, workspace_endpoints
from mltrail.server.auth._asgi import GuardedApp
from mltrail.server.auth._bootstrap import open_auth
from mltrail.server.auth._endpoints import auth_endpoints
from mltrail.server.auth._runtime import AuthRuntime
from mltrail.server.auth._webhooks import delivery_filter
from mltrail.store import open_backend

__all__ = ["OPENAPI_PATH", "create_app", "server_endpoints"]

OPENAPI_PATH = "/api/openapi.json"
#: Functions returning the endpoints the server mounts under /api/<version> and /ajax-api/...
_ENDPOINT_GROUPS: tuple[Callable[[], list[Endpoint]], ...] = (
    experiment_endpoints,
    run_endpoints,
    metric_endpoints,
    logged_model_endpoints,
    registry_endpoints,
    webhook_endpoints,
    workspace_endpoints,
    lambda: [server_info_endpoint()],
)
_PROXY_PREFIX = "/mlflow-artifacts/"


def server_endpoints(
    settings: ServerSettings, extra_endpoints: Sequence[Endpoint] = ()
) -> list[Endpoint]:
    """Every endpoint the app built from *settings* serves."""
    endpoints = [e for group in _ENDPOINT_GROUPS for e in group()]
    for e in [*artifact_endpoints(), *multipart_endpoints()]:
        if settings.serve_artifacts or not e.path.startswith(_PROXY_PREFIX):
            endpoints.append(e)
    endpoints.extend(extra_endpoints)
    return endpoints


def create_app(
    settings: ServerSettings | None = None,
    *,
    extra_endpoints: Sequence[Endpoint] = (),
    extra_routes: Sequence[PlainRoute] = (),
) -> Starlette:
    """The tracking server for *settings*; uvicorn (or any ASGI server) runs it.

    Every route has an access rule: each endpoint declares its own, each extra route comes with
    one, and ``app.state.access`` maps (path pattern, method) to the rule of every route
    (:mod:`~mltrail.server._route_rules`); a route without one is a ValueError.

    The backend opens now (a missing SQLite database is created, an outdated schema refused),
    so configuration errors surface before the first request; the app's lifespan closes it.
    """
    settings = settings or ServerSettings()
    backend = open_backend(settings.resolved_store_uri(), settings.resolved_default_artifact_root())
    auth = None
    if settings.auth is not None:
        try:
            auth_store, admin = open_auth(settings.auth, settings.resolved_store_uri())
        except BaseException:
            backend.close()
            raise
        auth = AuthRuntime.build(settings.auth, auth_store, backend, ready=admin.ensure)
        backend.webhooks.set_delivery_filter(delivery_filter(auth.permissions))
        admin.start()
        extra_endpoints = [*auth_endpoints(), *extra_endpoints]
    if settings.enable_workspaces:
        try:
            backend.workspaces.enable()
        except BaseException:
            backend.close()
            raise
    ctx = ServerContext(settings, backend, settings.resolved_artifacts_destination(), auth)
    dispatcher = WebhookDispatcher(backend.webhooks, ctx.webhook_settings)
    endpoints = server_endpoints(settings, extra_endpoints)

    @functools.cache
    def document() -> dict[str, Any]:
        # Built at the first request for it, not at start-up (tens of milliseconds).
        return openapi_document(endpoints, mltrail_version())

    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")

    async def version(request: Request) -> Response:
        return PlainTextResponse(served_version())

    async def openapi(request: Request) -> Response:
        return json_response(document())

    async def get_artifact(request: Request) -> Response:
        try:
            return await get_artifact_route(ctx, request)
        except MltrailError as exc:
            return error_response(exc)
        except Exception as exc:
            return unexpected_error_response(request, exc)

    async def get_version_artifact(request: Request) -> Response:
        try:
            return await get_model_version_artifact_route(ctx, request)
        except MltrailError as exc:
            return error_response(exc)
        except Exception as exc:
            return unexpected_error_response(request, exc)

    v2 = routes_for(endpoints, ctx, "2.0")
    v3 = routes_for(endpoints, ctx, "3.0")
    static = Path(settings.static_dir) if settings.static_dir else None
    # The routes beside the endpoints, with their rules; MLflow keeps only /health open (and
    # server-info, an endpoint), and lets any signed-in user see the server's version.
    head = [
        PlainRoute(Route("/health", health, methods=["GET", "HEAD"]), PUBLIC),
        PlainRoute(Route("/version", version, methods=["GET", "HEAD"]), AUTHENTICATED),
        PlainRoute(Route(OPENAPI_PATH, openapi, methods=["GET"]), AUTHENTICATED),
        PlainRoute(Route("/get-artifact", get_artifact, methods=["GET"]), read(RUN_ID)),
        PlainRoute(
            Route("/model-versions/get-artifact", get_version_artifact, methods=["GET"]),
            read(REGISTERED_MODEL_NAME),
        ),
        # Each root field is checked by the rule of the endpoint that answers it.
        PlainRoute(
            Route("/graphql", graphql_route_handler(ctx, endpoints), methods=["GET", "POST"]),
            AUTHENTICATED,
        ),
    ]
    # The UI's shell and assets hold no data: public, so that a browser can show a sign-in page.
    tail = [
        *extra_routes,
        *(PlainRoute(r, PUBLIC) for r in ui_routes(static, settings.x_frame_options)),
    ]
    api_mounts = [
        ("/api/2.0", "2.0", v2),
        ("/ajax-api/2.0", "2.0", v2),
        ("/api/3.0", "3.0", v3),
        ("/ajax-api/3.0", "3.0", v3),
    ]
    routes: list[BaseRoute] = [
        *(p.route for p in head),
        *(Mount(prefix, routes=mounted) for prefix, _, mounted in api_mounts),
        *(p.route for p in tail),
    ]
    access = access_table(
        [(prefix, api, endpoints) for prefix, api, _ in api_mounts], [*head, *tail]
    )
    missing = unruled(routes, access)
    if missing:
        raise ValueError(f"Routes without an access rule: {', '.join(missing)}")
    if auth is not None:  # the endpoints check their callers themselves; the plain routes:
        for plain in (*head, *tail):
            if isinstance(plain.route, Route) and plain.access is not PUBLIC:
                plain.route.app = GuardedApp(plain.route.app, plain.access, ctx)
    middleware = [
        Middleware(
            SecurityMiddleware,
            allowed_hosts=settings.allowed_hosts,
            cors_origins=settings.cors_allowed_origins,
        )
    ]
    if settings.cors_allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_allowed_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["*"],
                max_age=600,
            )
        )
    middleware.append(Middleware(WorkspaceMiddleware, ctx=ctx, enabled=settings.enable_workspaces))
    lanes = [(prefix, mounted) for prefix, _, mounted in api_mounts]
    middleware.append(Middleware(FastLane, endpoints=fast_lane_table(lanes)))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        dispatcher.start()
        try:
            yield
        finally:
            dispatcher.stop()
            ctx.close()
            if auth is not None:
                auth.ready()  # the admin of a first start, if the server stops at once
                auth.store.close()
            backend.close()

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return http_exception_response(request, exc)

    async def on_error(request: Request, exc: Exception) -> Response:
        return unexpected_error_response(request, exc)

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: on_http_exception, Exception: on_error},
        lifespan=lifespan,
    )
    app.state.context = ctx
    app.state.endpoints = endpoints
    app.state.access = access
    return app
