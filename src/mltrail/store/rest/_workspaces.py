"""Workspaces through a tracking server (``/api/3.0/mlflow/workspaces``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mltrail.entities._workspace import (
    DEFAULT_WORKSPACE_NAME,
    Workspace,
    WorkspaceDeletionMode,
    validate_workspace_name,
)
from mltrail.store._workspace_base import WorkspaceStore
from mltrail.store.rest._context import RestContext

__all__ = ["RestWorkspaces"]

_PATH = "/api/3.0/mlflow/workspaces"


def _named(name: str) -> str:
    if name != DEFAULT_WORKSPACE_NAME:
        validate_workspace_name(name)
    return f"{_PATH}/{quote(name, safe='')}"


def _body(workspace: Workspace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key in ("description", "default_artifact_root"):
        value = getattr(workspace, key)
        if value is not None:
            body[key] = value
    archival = {}
    if workspace.trace_archival_location is not None:
        archival["location"] = workspace.trace_archival_location
    if workspace.trace_archival_retention is not None:
        archival["retention"] = workspace.trace_archival_retention
    if archival:
        body["trace_archival_config"] = archival
    return body


class RestWorkspaces(WorkspaceStore):
    """The server's workspaces.  Whether they are on is the server's setting: the calls are
    made, and a server without them answers each with its refusal.  A refusal is not retried
    (a server without workspaces answers 503)."""

    def __init__(self, ctx: RestContext) -> None:
        self._ctx = ctx

    @property
    def enabled(self) -> bool:
        return True

    def enable(self) -> None:
        """Nothing to do here: the server scopes its resources by the header it is sent."""

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._ctx.client.call(method, path, idempotent=False, **kwargs)

    def list_workspaces(self) -> list[Workspace]:
        data = self._call("GET", _PATH)
        return [Workspace.from_dict(w) for w in data.get("workspaces", [])]

    def get_workspace(self, name: str) -> Workspace:
        return Workspace.from_dict(self._call("GET", _named(name))["workspace"])

    def create_workspace(self, workspace: Workspace) -> Workspace:
        validate_workspace_name(workspace.name)
        body = {"name": workspace.name, **_body(workspace)}
        return Workspace.from_dict(self._call("POST", _PATH, body=body)["workspace"])

    def update_workspace(self, workspace: Workspace) -> Workspace:
        data = self._call("PATCH", _named(workspace.name), body=_body(workspace))
        return Workspace.from_dict(data["workspace"])

    def delete_workspace(
        self, name: str, mode: WorkspaceDeletionMode = WorkspaceDeletionMode.RESTRICT
    ) -> None:
        mode = WorkspaceDeletionMode.coerce(mode)
        params = None if mode is WorkspaceDeletionMode.RESTRICT else {"mode": mode.value}
        self._call("DELETE", _named(name), params=params)
