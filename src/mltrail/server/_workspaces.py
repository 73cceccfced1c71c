"""Workspaces on the server (MLflow 3.17): the ``/api/3.0/mlflow/workspaces`` endpoints and the
per-request workspace of the ``X-MLflow-Workspace`` header.

With ``--enable-workspaces`` every request (but server-info) acts in the workspace its header
names (``default`` without one); a header naming a missing workspace is RESOURCE_DOES_NOT_EXIST,
an invalid name INVALID_PARAMETER_VALUE.  Without it, a request carrying the header is refused
with FEATURE_DISABLED and the workspace endpoints answer 503, as MLflow's server does.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail.entities._workspace import (
    DEFAULT_WORKSPACE_NAME,
    Workspace,
    WorkspaceDeletionMode,
    check_trace_archival_location,
    check_trace_archival_retention,
    validate_workspace_name,
)
from mltrail.server._access import ADMIN, AUTHENTICATED
from mltrail.server._bodies import read_json_body
from mltrail.server._context import ServerContext
from mltrail.server._errors import error_response, json_response
from mltrail.server._routing import Endpoint
from mltrail.server._schema import obj, string
from mltrail.store._workspace_base import WORKSPACE_HEADER, feature_disabled, workspace_scope

__all__ = ["WorkspaceMiddleware", "workspace_endpoints"]

_HEADER_KEY = WORKSPACE_HEADER.lower().encode("latin-1")
_NOT_ENABLED = "Workspace APIs are not available: workspaces are not enabled on this server"
_SCHEME = ("://", ":/")


def _checked_name(name: str) -> str:
    if name != DEFAULT_WORKSPACE_NAME:
        validate_workspace_name(name)
    return name


class WorkspaceMiddleware:
    """Binds the request's workspace (see the module docstring) around the app."""

    def __init__(self, app: ASGIApp, ctx: ServerContext, enabled: bool) -> None:
        self.app = app
        self.ctx = ctx
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/").endswith("/mlflow/server-info"):
            await self.app(scope, receive, send)
            return
        raw = b""
        for key, value in scope["headers"]:
            if key == _HEADER_KEY:
                raw = value
        name = raw.decode("latin-1").strip()
        try:
            if not self.enabled:
                if name:
                    raise feature_disabled(_NOT_ENABLED)
                await self.app(scope, receive, send)
                return
            if name and name != DEFAULT_WORKSPACE_NAME:
                validate_workspace_name(name)
                await self.ctx.run_blocking(self.ctx.backend.workspaces.get_workspace, name)
        except MltrailError as exc:
            await error_response(exc)(scope, receive, send)
            return
        with workspace_scope(name or DEFAULT_WORKSPACE_NAME):
            await self.app(scope, receive, send)


def _disabled(request: Request) -> Response:
    return PlainTextResponse(
        f"Endpoint: {request.url.path} disabled because the server is running without "
        "workspaces support. To enable workspace, run `mlflow server` with "
        "`--enable-workspaces`",
        503,
    )


def _optional_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidArgument(
            f"Invalid value {value!r} for parameter '{key}' supplied: must be a string"
        )
    return value


async def _json_object(ctx: ServerContext, request: Request) -> dict[str, Any]:
    body = await read_json_body(request, ctx.settings.max_json_body_bytes)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidArgument("The request body must be a JSON object")
    return body


def _artifact_root(ctx: ServerContext, value: str | None) -> str | None:
    """A workspace's default artifact root: a URI or an absolute path (MLflow's rule; a
    relative path would be resolved on each client), within the server's location rules;
    "" clears it."""
    if value is None:
        return None
    trimmed = value.strip()
    if not trimmed:
        return ""
    if not any(s in trimmed for s in _SCHEME) and not os.path.isabs(trimmed):
        raise InvalidArgument(
            "Invalid value for 'default_artifact_root'. Expected a URI (for example "
            "'s3://bucket/prefix' or 'mlflow-artifacts:/prefix') or an absolute path, got "
            f"'{trimmed}'."
        )
    ctx.check_artifact_location(trimmed)
    return trimmed


def _fields(ctx: ServerContext, body: dict[str, Any], name: str) -> Workspace:
    archival = body.get("trace_archival_config")
    if archival is not None and not isinstance(archival, dict):
        raise InvalidArgument(
            f"Invalid value {archival!r} for parameter 'trace_archival_config' supplied: "
            "must be an object"
        )
    archival = archival or {}
    location = _optional_string(archival, "location")
    retention = _optional_string(archival, "retention")
    if location is not None:
        location = check_trace_archival_location(location, "trace_archival_config.location") or ""
    if retention is not None:
        retention = (
            check_trace_archival_retention(retention, "trace_archival_config.retention") or ""
        )
    return Workspace(
        name=name,
        description=_optional_string(body, "description"),
        default_artifact_root=_artifact_root(ctx, _optional_string(body, "default_artifact_root")),
        trace_archival_location=location,
        trace_archival_retention=retention,
    )


def _one(workspace: Workspace, status: int = 200) -> Response:
    return json_response({"workspace": workspace.to_json()}, status)


async def _list(ctx: ServerContext, request: Request) -> Response:
    if not ctx.settings.enable_workspaces:
        return _disabled(request)
    found = await ctx.run_blocking(ctx.backend.workspaces.list_workspaces)
    return json_response({"workspaces": [w.to_json() for w in found]})


async def _create(ctx: ServerContext, request: Request) -> Response:
    if not ctx.settings.enable_workspaces:
        return _disabled(request)
    body = await _json_object(ctx, request)
    name = body.get("name")
    if name is None or name == "":
        raise InvalidArgument("Missing value for required parameter 'name'.")
    if not isinstance(name, str):
        raise InvalidArgument(
            f"Invalid value {name!r} for parameter 'name' supplied: must be a string"
        )
    if name == DEFAULT_WORKSPACE_NAME:
        raise InvalidArgument(
            f"The '{DEFAULT_WORKSPACE_NAME}' workspace is reserved and cannot be created"
        )
    validate_workspace_name(name)
    fields = _fields(ctx, body, name)
    created = await ctx.run_blocking(ctx.backend.workspaces.create_workspace, fields)
    return _one(created, 201)


async def _get(ctx: ServerContext, request: Request) -> Response:
    if not ctx.settings.enable_workspaces:
        return _disabled(request)
    name = _checked_name(request.path_params["workspace_name"])
    return _one(await ctx.run_blocking(ctx.backend.workspaces.get_workspace, name))


async def _update(ctx: ServerContext, request: Request) -> Response:
    if not ctx.settings.enable_workspaces:
        return _disabled(request)
    name = _checked_name(request.path_params["workspace_name"])
    body = await _json_object(ctx, request)
    fields = _fields(ctx, body, name)  # checks the types first, as MLflow does
    archival = body.get("trace_archival_config") or {}
    keys = {"description", "default_artifact_root"} & set(body)
    if not keys and not ({"location", "retention"} & set(archival)):
        raise InvalidArgument("Workspace update must have at least one key")
    return _one(await ctx.run_blocking(ctx.backend.workspaces.update_workspace, fields))


async def _delete(ctx: ServerContext, request: Request) -> Response:
    if not ctx.settings.enable_workspaces:
        return _disabled(request)
    name = request.path_params["workspace_name"]
    if name == DEFAULT_WORKSPACE_NAME:
        raise InvalidArgument(
            f"The '{DEFAULT_WORKSPACE_NAME}' workspace is reserved and cannot be deleted"
        )
    validate_workspace_name(name)
    mode = WorkspaceDeletionMode.coerce(
        request.query_params.get("mode", WorkspaceDeletionMode.RESTRICT.value)
    )
    await ctx.run_blocking(ctx.backend.workspaces.delete_workspace, name, mode)
    return Response(status_code=204)


_NAME_PARAM = [{"name": "workspace_name", "in": "path", "required": True, "schema": string()}]
_WORKSPACE = obj(
    {
        "name": string(),
        "description": string(),
        "default_artifact_root": string(),
        "trace_archival_config": obj({"location": string(), "retention": string()}),
    }
)
_BODY = {"content": {"application/json": {"schema": _WORKSPACE}}}


def _ok(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def workspace_endpoints() -> list[Endpoint]:
    one = obj({"workspace": _WORKSPACE})
    path = "/mlflow/workspaces/{workspace_name}"
    return [
        Endpoint(
            "GET",
            "/mlflow/workspaces",
            "List the workspaces",
            raw=_list,
            tag="workspaces",
            openapi={"responses": _ok(obj({"workspaces": {"type": "array", "items": _WORKSPACE}}))},
            versions=("3.0",),
            access=AUTHENTICATED,
        ),
        Endpoint(
            "POST",
            "/mlflow/workspaces",
            "Create a workspace",
            raw=_create,
            tag="workspaces",
            openapi={"requestBody": _BODY, "responses": _ok(one, "201")},
            versions=("3.0",),
            access=ADMIN,
        ),
        Endpoint(
            "GET",
            path,
            "Get a workspace",
            raw=_get,
            tag="workspaces",
            openapi={"parameters": _NAME_PARAM, "responses": _ok(one)},
            versions=("3.0",),
            access=AUTHENTICATED,
        ),
        Endpoint(
            "PATCH",
            path,
            "Update a workspace's description, artifact root or trace archival settings",
            raw=_update,
            tag="workspaces",
            openapi={"parameters": _NAME_PARAM, "requestBody": _BODY, "responses": _ok(one)},
            versions=("3.0",),
            access=ADMIN,
        ),
        Endpoint(
            "DELETE",
            path,
            "Delete a workspace (mode: RESTRICT, CASCADE or SET_DEFAULT)",
            raw=_delete,
            tag="workspaces",
            openapi={
                "parameters": [
                    *_NAME_PARAM,
                    {"name": "mode", "in": "query", "required": False, "schema": string()},
                ],
                "responses": {"204": {"description": "Deleted"}},
            },
            versions=("3.0",),
            access=ADMIN,
        ),
    ]
