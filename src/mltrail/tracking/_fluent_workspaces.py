"""``mlflow.set_workspace`` and the fluent workspace functions (MLflow 3.17)."""

from __future__ import annotations

import threading

from mltrail._exceptions import MltrailError
from mltrail.entities._workspace import (
    DEFAULT_WORKSPACE_NAME,
    TraceArchivalConfig,
    Workspace,
    WorkspaceDeletionMode,
    validate_workspace_name,
)
from mltrail.store._workspace_base import feature_disabled, set_active_workspace
from mltrail.tracking._client import MlflowClient

__all__ = [
    "create_workspace",
    "delete_workspace",
    "get_workspace",
    "list_workspaces",
    "set_workspace",
    "update_workspace",
]

_lock = threading.Lock()
_NO_WORKSPACES = (
    "The configured tracking server does not expose workspace APIs. Ensure workspace is enabled."
)


def _checked(name: str) -> str:
    if name != DEFAULT_WORKSPACE_NAME:
        validate_workspace_name(name)
    return name


def _disabled_as_feature(exc: MltrailError) -> MltrailError:
    if exc.error_code == "ENDPOINT_NOT_FOUND":
        return feature_disabled(_NO_WORKSPACES)
    return exc


def set_workspace(workspace: str | None) -> None:
    """Act in *workspace* from now on (None: the server's default): calls to a tracking server
    carry it in the ``X-MLflow-Workspace`` header, and ``MLFLOW_WORKSPACE`` is set so that
    threads and child processes inherit it."""
    with _lock:
        set_active_workspace(None if workspace is None else _checked(workspace))


def list_workspaces() -> list[Workspace]:
    """The workspaces available to the caller."""
    try:
        return MlflowClient().list_workspaces()
    except MltrailError as exc:
        raise _disabled_as_feature(exc) from None


def get_workspace(name: str) -> Workspace:
    try:
        return MlflowClient().get_workspace(name)
    except MltrailError as exc:
        raise _disabled_as_feature(exc) from None


def create_workspace(
    name: str,
    description: str | None = None,
    default_artifact_root: str | None = None,
    trace_archival_config: TraceArchivalConfig | None = None,
) -> Workspace:
    """Create a workspace (a lowercase DNS-label name: letters, digits, inner hyphens)."""
    validate_workspace_name(name)
    try:
        return MlflowClient().create_workspace(
            name, description, default_artifact_root, trace_archival_config
        )
    except MltrailError as exc:
        raise _disabled_as_feature(exc) from None


def update_workspace(
    name: str,
    description: str | None = None,
    default_artifact_root: str | None = None,
    trace_archival_config: TraceArchivalConfig | None = None,
) -> Workspace:
    """Change a workspace's given fields (None keeps one; "" clears the artifact root)."""
    _checked(name)
    try:
        return MlflowClient().update_workspace(
            name, description, default_artifact_root, trace_archival_config
        )
    except MltrailError as exc:
        raise _disabled_as_feature(exc) from None


def delete_workspace(
    name: str, *, mode: str | WorkspaceDeletionMode = WorkspaceDeletionMode.RESTRICT
) -> None:
    """Delete a workspace; *mode* is RESTRICT (refuse while it holds anything), CASCADE
    (delete what it holds) or SET_DEFAULT (move it to the default workspace)."""
    deletion_mode = WorkspaceDeletionMode.coerce(mode)
    _checked(name)
    try:
        MlflowClient().delete_workspace(name, deletion_mode)
    except MltrailError as exc:
        raise _disabled_as_feature(exc) from None
