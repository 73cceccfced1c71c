"""The SQL backend: SQLite, PostgreSQL and MariaDB/MySQL through SQLAlchemy Core.

One part per aggregate, each over the same :class:`~mltrail.store.sql._core.SqlContext`;
where a part needs another (runs write metric points, logged models log to runs, the registry
emits webhook events) it is given it in its constructor.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection

from mltrail.store._backend import Backend
from mltrail.store._workspace_base import workspaces_enabled_by_env
from mltrail.store.sql._core import SqlContext
from mltrail.store.sql._engine import ensure_schema, open_checked_engine, sqlite_path
from mltrail.store.sql._experiments import SqlExperiments, default_experiment_rows, location_uri
from mltrail.store.sql._imports import SqlImports
from mltrail.store.sql._logged_models import SqlLoggedModels
from mltrail.store.sql._metrics import SqlMetrics
from mltrail.store.sql._registry import SqlRegistry
from mltrail.store.sql._runs import SqlRuns
from mltrail.store.sql._webhooks import SqlWebhooks
from mltrail.store.sql._workspaces import SqlWorkspaces, default_workspace_row

__all__ = ["SqlBackend", "artifact_root_for"]

ARTIFACTS_DIR_NAME = "mltrail-artifacts"


def artifact_root_for(db_uri: str) -> str:
    """Artifacts live beside an SQLite file; for servers, in ./mltrail-artifacts."""
    path = sqlite_path(db_uri)
    base = Path(path).parent if path else Path(os.getcwd())
    return (base / ARTIFACTS_DIR_NAME).resolve().as_uri()


def _fresh_rows(conn: Connection, artifact_root: str) -> None:
    default_experiment_rows(conn, artifact_root)
    default_workspace_row(conn)


class SqlBackend(Backend):
    """Experiments, runs, metrics, the registry, webhooks and logged models in one database.

    The database is created on first use; an older schema must be upgraded with
    ``mltrail db upgrade URI`` first (the backend refuses to open it, never upgrades silently).
    """

    experiments: SqlExperiments
    runs: SqlRuns
    metrics: SqlMetrics
    registry: SqlRegistry
    webhooks: SqlWebhooks
    logged_models: SqlLoggedModels
    imports: SqlImports
    workspaces: SqlWorkspaces

    def __init__(self, db_uri: str, default_artifact_root: str | None = None) -> None:
        artifact_root = (
            location_uri(default_artifact_root)
            if default_artifact_root
            else artifact_root_for(db_uri)
        )
        engine = open_checked_engine(db_uri)  # an MLflow SQLite file is refused unwritten
        try:
            ensure_schema(engine, db_uri, lambda conn: _fresh_rows(conn, artifact_root))
        except BaseException:
            engine.dispose()
            raise
        self._ctx = ctx = SqlContext(engine, artifact_root)
        metrics = SqlMetrics(ctx)
        runs = SqlRuns(ctx, metrics)
        webhooks = SqlWebhooks(ctx)
        super().__init__(
            uri=db_uri,
            artifact_root=artifact_root,
            experiments=SqlExperiments(ctx),
            runs=runs,
            metrics=metrics,
            registry=SqlRegistry(ctx, webhooks),
            webhooks=webhooks,
            logged_models=SqlLoggedModels(ctx, runs),
            imports=SqlImports(ctx),
            workspaces=SqlWorkspaces(ctx),
        )
        if workspaces_enabled_by_env():  # MLflow's switch, for a database opened directly
            self.workspaces.enable()

    def close(self) -> None:
        self._ctx.engine.dispose()
