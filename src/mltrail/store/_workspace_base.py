"""Workspaces in the store layer: the interface of a backend's workspace part and the workspace
the current call acts in.

The active workspace is a context variable: the tracking server binds it per request from the
``X-MLflow-Workspace`` header, ``mltrail.set_workspace`` binds it in a client (and the REST
store sends it as that header).  A backend scopes experiments, registered models and webhooks
by it only once its workspace part is enabled (``mltrail server --enable-workspaces``, or
``MLFLOW_ENABLE_WORKSPACES`` for a database opened directly), as MLflow does.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from mltrail._exceptions import MltrailError, NotImplementedYet
from mltrail.entities._workspace import DEFAULT_WORKSPACE_NAME, Workspace, WorkspaceDeletionMode

__all__ = [
    "ENABLE_WORKSPACES_ENV",
    "WORKSPACE_ENV",
    "WORKSPACE_HEADER",
    "UnsupportedWorkspaces",
    "WorkspaceStore",
    "active_workspace",
    "bound_workspace",
    "feature_disabled",
    "set_active_workspace",
    "workspace_scope",
    "workspaces_enabled_by_env",
]

#: MLflow's request header naming the workspace of a call.
WORKSPACE_HEADER = "X-MLflow-Workspace"
#: MLflow's environment variables: turn workspaces on, and the client's workspace.
ENABLE_WORKSPACES_ENV = "MLFLOW_ENABLE_WORKSPACES"
WORKSPACE_ENV = "MLFLOW_WORKSPACE"

_ACTIVE: ContextVar[str | None] = ContextVar("mltrail_active_workspace", default=None)


def workspaces_enabled_by_env() -> bool:
    return os.environ.get(ENABLE_WORKSPACES_ENV, "").strip().lower() in ("true", "1")


def bound_workspace() -> str | None:
    """The workspace bound by the caller (context, else ``MLFLOW_WORKSPACE``), or None."""
    value = (_ACTIVE.get() or "").strip()
    if value:
        return value
    return (os.environ.get(WORKSPACE_ENV) or "").strip() or None


def active_workspace() -> str:
    """The workspace the current call acts in: the bound one, else ``default``."""
    return bound_workspace() or DEFAULT_WORKSPACE_NAME


def set_active_workspace(name: str | None) -> None:
    """Bind *name* for this context and (as MLflow does) in ``MLFLOW_WORKSPACE``, so that
    threads started later inherit it; None unbinds both."""
    _ACTIVE.set(name)
    if name is None:
        os.environ.pop(WORKSPACE_ENV, None)
    else:
        os.environ[WORKSPACE_ENV] = name


@contextmanager
def workspace_scope(name: str | None) -> Iterator[None]:
    """Bind *name* for the block only (the server's per-request binding; the environment is
    left alone)."""
    token = _ACTIVE.set(name)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def feature_disabled(message: str) -> MltrailError:
    return MltrailError(message, error_code="FEATURE_DISABLED")


class WorkspaceStore(ABC):
    """A backend's workspaces."""

    @property
    @abstractmethod
    def enabled(self) -> bool:
        """Whether the backend scopes its resources by the active workspace."""

    @abstractmethod
    def enable(self) -> None:
        """Scope experiments, registered models and webhooks by the active workspace."""

    @abstractmethod
    def list_workspaces(self) -> list[Workspace]: ...

    @abstractmethod
    def get_workspace(self, name: str) -> Workspace: ...

    @abstractmethod
    def create_workspace(self, workspace: Workspace) -> Workspace: ...

    @abstractmethod
    def update_workspace(self, workspace: Workspace) -> Workspace:
        """Change the fields of *workspace* that are not None (an empty string clears one)."""

    @abstractmethod
    def delete_workspace(
        self, name: str, mode: WorkspaceDeletionMode = WorkspaceDeletionMode.RESTRICT
    ) -> None: ...


class UnsupportedWorkspaces(WorkspaceStore):
    """The part of a backend without workspaces: every operation is refused."""

    def __init__(self, backend_name: str) -> None:
        self._message = f"The {backend_name} backend has no workspaces"

    @property
    def enabled(self) -> bool:
        return False

    def enable(self) -> None:
        raise NotImplementedYet(self._message)

    def list_workspaces(self) -> list[Workspace]:
        raise NotImplementedYet(self._message)

    def get_workspace(self, name: str) -> Workspace:
        raise NotImplementedYet(self._message)

    def create_workspace(self, workspace: Workspace) -> Workspace:
        raise NotImplementedYet(self._message)

    def update_workspace(self, workspace: Workspace) -> Workspace:
        raise NotImplementedYet(self._message)

    def delete_workspace(
        self, name: str, mode: WorkspaceDeletionMode = WorkspaceDeletionMode.RESTRICT
    ) -> None:
        raise NotImplementedYet(self._message)
