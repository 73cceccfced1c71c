"""``MlflowClient``'s workspace methods (MLflow 3.17)."""

from __future__ import annotations

import os

from mltrail.entities._workspace import (
    TraceArchivalConfig,
    Workspace,
    WorkspaceDeletionMode,
)
from mltrail.store import Backend
from mltrail.store._workspace_base import WorkspaceStore
from mltrail.tracking._backends import backend_for
from mltrail.tracking._uri import resolve_tracking_uri

__all__ = ["WORKSPACE_STORE_URI_ENV", "ClientWorkspaces", "resolve_workspace_store_uri"]

#: MLflow's variable naming a workspace store other than the tracking store.
WORKSPACE_STORE_URI_ENV = "MLFLOW_WORKSPACE_STORE_URI"


def resolve_workspace_store_uri(explicit: str | None, tracking_uri: str) -> str:
    """The workspace store: the explicit URI, else ``MLFLOW_WORKSPACE_STORE_URI``, else the
    tracking URI (MLflow's order)."""
    if explicit:
        return resolve_tracking_uri(explicit)
    configured = os.environ.get(WORKSPACE_STORE_URI_ENV, "").strip()
    return resolve_tracking_uri(configured) if configured else tracking_uri


def _archival(config: TraceArchivalConfig | None) -> tuple[str | None, str | None]:
    return (None, None) if config is None else (config.location, config.retention)


class ClientWorkspaces:
    """Workspace operations, on the workspace store (the tracking store unless configured)."""

    _tracking_uri: str
    _workspace_store_uri: str | None

    @property
    def _backend(self) -> Backend:  # pragma: no cover - the client defines it
        raise NotImplementedError

    def get_workspace_store_uri(self) -> str:
        """The URI of the workspace store (the tracking URI unless one was given)."""
        return resolve_workspace_store_uri(self._workspace_store_uri, self._tracking_uri)

    @property
    def _workspaces(self) -> WorkspaceStore:
        uri = self.get_workspace_store_uri()
        if uri == self._tracking_uri:
            return self._backend.workspaces
        return backend_for(uri).workspaces

    def list_workspaces(self) -> list[Workspace]:
        """The workspaces visible to the caller."""
        return list(self._workspaces.list_workspaces())

    def create_workspace(
        self,
        name: str,
        description: str | None = None,
        default_artifact_root: str | None = None,
        trace_archival_config: TraceArchivalConfig | None = None,
    ) -> Workspace:
        """Create a workspace (a lowercase DNS-label name: letters, digits, inner hyphens)."""
        location, retention = _archival(trace_archival_config)
        return self._workspaces.create_workspace(
            Workspace(name, description, default_artifact_root, location, retention)
        )

    def get_workspace(self, name: str) -> Workspace:
        return self._workspaces.get_workspace(name)

    def update_workspace(
        self,
        name: str,
        description: str | None = None,
        default_artifact_root: str | None = None,
        trace_archival_config: TraceArchivalConfig | None = None,
    ) -> Workspace:
        """Change the given fields (None leaves one as it is; "" clears the artifact root)."""
        location, retention = _archival(trace_archival_config)
        return self._workspaces.update_workspace(
            Workspace(name, description, default_artifact_root, location, retention)
        )

    def delete_workspace(
        self, name: str, mode: str | WorkspaceDeletionMode = WorkspaceDeletionMode.RESTRICT
    ) -> None:
        """Delete a workspace; *mode* says what happens to what it holds (RESTRICT refuses
        while it holds anything, CASCADE deletes it, SET_DEFAULT moves it to ``default``)."""
        self._workspaces.delete_workspace(name, WorkspaceDeletionMode.coerce(mode))
