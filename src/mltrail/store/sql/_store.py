"""The SQL tracking store: SQLite, PostgreSQL and MariaDB/MySQL through SQLAlchemy Core."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection

from mltrail.store._base import TrackingStore
from mltrail.store.sql._engine import create_db_engine, ensure_schema, sqlite_path
from mltrail.store.sql._experiments import SqlExperiments, location_uri
from mltrail.store.sql._logged_model_search import SqlLoggedModels
from mltrail.store.sql._registry import SqlRegistry
from mltrail.store.sql._run_reads import SqlRunReads
from mltrail.store.sql._runs import SqlRunWrites
from mltrail.store.sql._series import SqlSeries

__all__ = ["SqlStore", "artifact_root_for"]

ARTIFACTS_DIR_NAME = "mltrail-artifacts"


def artifact_root_for(db_uri: str) -> str:
    """Artifacts live beside an SQLite file; for servers, in ./mltrail-artifacts."""
    path = sqlite_path(db_uri)
    base = Path(path).parent if path else Path(os.getcwd())
    return (base / ARTIFACTS_DIR_NAME).resolve().as_uri()


class SqlStore(
    SqlExperiments,
    SqlRunWrites,
    SqlRunReads,
    SqlSeries,
    SqlRegistry,
    SqlLoggedModels,
    TrackingStore,
):
    """Experiments, runs and metrics in one SQL database.

    The database is created on first use; an older schema must be upgraded with
    ``mltrail db upgrade URI`` first (the store refuses to open it, never upgrades silently).
    """

    def __init__(self, db_uri: str, default_artifact_root: str | None = None) -> None:
        self.db_uri = db_uri
        self._artifact_root = (
            location_uri(default_artifact_root)
            if default_artifact_root
            else artifact_root_for(db_uri)
        )
        self._engine = create_db_engine(db_uri)
        try:
            ensure_schema(self._engine, db_uri, self._on_create)
        except BaseException:
            self._engine.dispose()
            raise

    def _on_create(self, conn: Connection) -> None:
        self._default_experiment_rows(conn)

    @property
    def artifact_root(self) -> str:
        return self._artifact_root

    def close(self) -> None:
        self._engine.dispose()
