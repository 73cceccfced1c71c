"""Workspaces in the SQL store (MLflow 3.17's ``workspaces`` table and deletion modes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltrail._exceptions import AlreadyExists, MltrailError, NotFound
from mltrail.entities._workspace import (
    DEFAULT_WORKSPACE_NAME,
    Workspace,
    WorkspaceDeletionMode,
    check_trace_archival_location,
    check_trace_archival_retention,
    validate_workspace_name,
)
from mltrail.store._workspace_base import WorkspaceStore
from mltrail.store.sql._core import SqlContext
from mltrail.store.sql._registry_schema import registered_models_table, webhooks_table
from mltrail.store.sql._schema import experiments_table, workspaces_table

__all__ = ["SqlWorkspaces", "default_workspace_row"]

_WS = workspaces_table.c
DEFAULT_DESCRIPTION = "Default workspace for legacy resources"
# The tables whose rows belong to a workspace, in MLflow's order, with the column a name
# conflict is checked on when SET_DEFAULT moves them (registered model names compare by key).
_OWNED: tuple[tuple[Any, str], ...] = (
    (registered_models_table, "name_key"),
    (experiments_table, "name"),
    (webhooks_table, "name"),
)


def default_workspace_row(conn: Connection) -> None:
    """The ``default`` workspace of a fresh database (the migration writes the same row)."""
    row = {"name": DEFAULT_WORKSPACE_NAME, "description": DEFAULT_DESCRIPTION}
    conn.execute(insert(workspaces_table).values(**row))


def _invalid_state(message: str) -> MltrailError:
    return MltrailError(message, error_code="INVALID_STATE")


def _entity(row: Any) -> Workspace:
    return Workspace(
        name=row.name,
        description=row.description,
        default_artifact_root=row.default_artifact_root,
        trace_archival_location=row.trace_archival_location,
        trace_archival_retention=row.trace_archival_retention,
    )


class SqlWorkspaces(WorkspaceStore):
    """The workspaces of one database; :meth:`enable` scopes the other parts by them."""

    def __init__(self, ctx: SqlContext) -> None:
        self._ctx = ctx

    @property
    def enabled(self) -> bool:
        return self._ctx.workspaces_enabled

    def enable(self) -> None:
        self._ctx.workspaces_enabled = True

    def _row(self, conn: Connection, name: str) -> Any:
        row = conn.execute(select(workspaces_table).where(_WS.name == name)).first()
        if row is None:
            raise NotFound(f"Workspace '{name}' not found")
        return row

    def list_workspaces(self) -> list[Workspace]:
        query = select(workspaces_table).order_by(_WS.name)
        return self._ctx.read(lambda c: [_entity(r) for r in c.execute(query).all()])

    def get_workspace(self, name: str) -> Workspace:
        return self._ctx.read(lambda c: _entity(self._row(c, name)))

    def create_workspace(self, workspace: Workspace) -> Workspace:
        name = validate_workspace_name(workspace.name)
        values = {
            "name": name,
            "description": workspace.description,
            "default_artifact_root": workspace.default_artifact_root or None,
            "trace_archival_location": check_trace_archival_location(
                workspace.trace_archival_location, "trace_archival_location"
            ),
            "trace_archival_retention": check_trace_archival_retention(
                workspace.trace_archival_retention, "trace_archival_retention"
            ),
        }

        def create(conn: Connection) -> Workspace:
            if conn.execute(select(_WS.name).where(_WS.name == name)).first() is not None:
                raise AlreadyExists(f"Workspace '{name}' already exists.")
            conn.execute(insert(workspaces_table).values(**values))
            return _entity(self._row(conn, name))

        try:
            return self._ctx.write(create)
        except IntegrityError:
            raise AlreadyExists(f"Workspace '{name}' already exists.") from None

    def update_workspace(self, workspace: Workspace) -> Workspace:
        values: dict[str, Any] = {}
        if workspace.description is not None:
            values["description"] = workspace.description
        if workspace.default_artifact_root is not None:
            values["default_artifact_root"] = workspace.default_artifact_root or None
        if workspace.trace_archival_location is not None:
            values["trace_archival_location"] = check_trace_archival_location(
                workspace.trace_archival_location, "trace_archival_location"
            )
        if workspace.trace_archival_retention is not None:
            values["trace_archival_retention"] = check_trace_archival_retention(
                workspace.trace_archival_retention, "trace_archival_retention"
            )

        def apply(conn: Connection) -> Workspace:
            self._row(conn, workspace.name)
            if values:
                conn.execute(
                    update(workspaces_table).where(_WS.name == workspace.name).values(**values)
                )
            return _entity(self._row(conn, workspace.name))

        return self._ctx.write(apply)

    def delete_workspace(
        self, name: str, mode: WorkspaceDeletionMode = WorkspaceDeletionMode.RESTRICT
    ) -> None:
        mode = WorkspaceDeletionMode.coerce(mode)
        if name == DEFAULT_WORKSPACE_NAME:
            raise _invalid_state(f"Cannot delete the reserved '{DEFAULT_WORKSPACE_NAME}' workspace")

        def apply(conn: Connection) -> None:
            self._row(conn, name)
            if mode is WorkspaceDeletionMode.RESTRICT:
                _refuse_if_owning(conn, name)
            elif mode is WorkspaceDeletionMode.CASCADE:
                for table, _ in _OWNED:
                    conn.execute(delete(table).where(table.c.workspace == name))
            else:
                _refuse_name_conflicts(conn, name)
                for table, _ in _OWNED:
                    conn.execute(
                        update(table)
                        .where(table.c.workspace == name)
                        .values(workspace=DEFAULT_WORKSPACE_NAME)
                    )
            conn.execute(delete(workspaces_table).where(_WS.name == name))

        try:
            self._ctx.write(apply)
        except IntegrityError:
            raise _invalid_state(
                f"Cannot delete workspace '{name}': deletion failed due to database integrity "
                f"constraints while operating in '{mode.value}' mode."
            ) from None


def _refuse_if_owning(conn: Connection, name: str) -> None:
    for table, _ in _OWNED:
        count = conn.execute(
            select(func.count()).select_from(table).where(table.c.workspace == name)
        ).scalar_one()
        if count:
            raise _invalid_state(
                f"Cannot delete workspace '{name}': table '{table.name}' still contains "
                f"{count} resource(s). Remove or reassign them before deleting the workspace."
            )


def _refuse_name_conflicts(conn: Connection, name: str) -> None:
    conflicts: list[str] = []
    for table, key in _OWNED:
        column = table.c[key]
        taken = select(column).where(table.c.workspace == DEFAULT_WORKSPACE_NAME)
        rows = conn.execute(
            select(table.c.name)
            .where(table.c.workspace == name, column.in_(taken))
            .order_by(table.c.name)
        ).all()
        conflicts.extend(f"  - {table.name}: {row.name!r}" for row in rows)
    if conflicts:
        details = "\n".join(conflicts)
        raise _invalid_state(
            f"Cannot reassign resources from workspace '{name}' to '{DEFAULT_WORKSPACE_NAME}': "
            "the following names already exist in the default workspace and would cause "
            f"conflicts:\n{details}\nRename or remove the conflicting resources before retrying."
        )
