"""Schema versions: a fresh database is created at the head; an older one is refused until
``upgrade_database`` runs, which is all-or-nothing and keeps every stored value."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert, inspect

from mltrail._exceptions import SchemaOutOfDate
from mltrail.entities import Metric, Param, Workspace
from mltrail.store._workspace_base import workspace_scope
from mltrail.store.sql import SqlBackend
from mltrail.store.sql._engine import create_db_engine
from mltrail.store.sql._registry_schema import (
    model_versions_table,
    registered_models_table,
    webhooks_table,
)
from mltrail.store.sql._schema import (
    HEAD_REVISION,
    experiments_table,
    metadata,
    params_table,
    runs_table,
)
from mltrail.store.sql._upgrade import run_migrations, upgrade_database


def _old_database(uri: str) -> None:
    """A database at revision 0001, with a run holding a param and a metric."""
    engine = create_db_engine(uri)
    run_migrations(engine, "0001_initial")
    with engine.begin() as conn:
        conn.execute(
            insert(experiments_table).values(
                experiment_id=0,
                name="Default",
                artifact_location="file:///tmp/a/0",
                lifecycle_stage="active",
                creation_time=1,
                last_update_time=1,
            )
        )
        conn.execute(
            insert(runs_table).values(
                id=1,
                run_uuid="abc",
                experiment_id=0,
                name="old",
                user_id="u",
                status="FINISHED",
                start_time=5,
                lifecycle_stage="active",
                artifact_uri="x",
            )
        )
        conn.execute(insert(params_table).values(run_id=1, key="lr", value="0.1"))
    engine.dispose()


def test_older_schema_is_refused_then_upgraded(fresh_db_uri: str) -> None:
    db_uri = fresh_db_uri  # no schema yet: the old one is built here
    _old_database(db_uri)
    with pytest.raises(SchemaOutOfDate, match="mltrail db upgrade"):
        SqlBackend(db_uri)
    result = upgrade_database(db_uri)
    assert (result.from_revision, result.to_revision) == ("0001_initial", HEAD_REVISION)
    store = SqlBackend(db_uri)
    try:
        run = store.runs.get_run("abc")
        assert run.data.params == {"lr": "0.1"}
        store.runs.log_batch("abc", metrics=[Metric("m", 1.0, 1, 0)], params=[Param("new", "1")])
        assert store.runs.get_run("abc").data.metrics == {"m": 1.0}
    finally:
        store.close()
    assert upgrade_database(db_uri).from_revision == HEAD_REVISION  # a second run is a no-op


def test_migrations_build_exactly_the_schema_create_all_builds(fresh_db_uri: str) -> None:
    db_uri = fresh_db_uri
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_db_engine(db_uri)
    run_migrations(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_upgrade_backs_up_first(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'old.db'}"
    _old_database(uri)
    result = upgrade_database(uri)
    assert result.backup_path == f"{tmp_path / 'old.db'}.bak-0001_initial"
    backup = sqlite3.connect(result.backup_path)
    assert backup.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001_initial",)
    backup.close()


def test_a_failing_upgrade_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic import op

    uri = f"sqlite:///{tmp_path / 'old.db'}"
    _old_database(uri)
    real_create_index = op.create_index

    def failing_create_index(*args: object, **kwargs: object) -> None:
        if args and args[0] == "ix_inputs_dataset":
            raise RuntimeError("disk full (simulated)")
        real_create_index(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(op, "create_index", failing_create_index)
    with pytest.raises(RuntimeError, match="simulated"):
        upgrade_database(uri, backup=False)
    engine = create_engine(uri)
    tables = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    engine.dispose()
    assert version == "0001_initial"
    assert "datasets" not in tables
    assert "inputs" not in tables


def test_a_foreign_database_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "foreign.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE runs (x INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(Exception, match="not an mltrail database"):
        SqlBackend(f"sqlite:///{path}")
    with pytest.raises(Exception, match="not an mltrail database"):
        upgrade_database(f"sqlite:///{path}")


def test_the_workspaces_migration_keeps_every_row_in_the_default_workspace(
    fresh_db_uri: str,
) -> None:
    """0006 on a 0005 database holding an experiment with a run, a registered model with a
    version, and a webhook: all of it ends in ``default`` (no row lost to the SQLite table
    rebuild's foreign keys), and names are then unique per workspace."""
    engine = create_db_engine(fresh_db_uri)
    run_migrations(engine, "0005_import_ledger")
    exp = {"artifact_location": "file:///a", "lifecycle_stage": "active"}
    rows = [
        (experiments_table, {"experiment_id": 0, "name": "Default", **exp}),
        (experiments_table, {"experiment_id": 7, "name": "exp", **exp}),
        (experiments_table, {"experiment_id": 9, "name": "gone", **exp}),
        (
            runs_table,
            {
                "id": 1,
                "run_uuid": "abc",
                "experiment_id": 7,
                "name": "r",
                "user_id": "u",
                "status": "FINISHED",
                "start_time": 5,
                "lifecycle_stage": "active",
                "artifact_uri": "x",
            },
        ),
        (params_table, {"run_id": 1, "key": "lr", "value": "0.1"}),
        (
            registered_models_table,
            {"id": 3, "name": "Model", "name_key": "Model", "next_version": 2},
        ),
        (
            model_versions_table,
            {
                "model_id": 3,
                "version": 1,
                "source": "s",
                "storage_location": "s",
                "status": "READY",
                "current_stage": "None",
            },
        ),
        (
            webhooks_table,
            {"webhook_id": "w1", "name": "hook", "url": "http://h", "events": "[]"},
        ),
    ]
    times = {
        experiments_table: ("creation_time", "last_update_time"),
        registered_models_table: ("creation_time", "last_updated_time"),
        model_versions_table: ("creation_time", "last_updated_time"),
        webhooks_table: ("creation_time", "last_updated_time"),
    }
    with engine.begin() as conn:
        for table, values in rows:
            stamps = dict.fromkeys(times.get(table, ()), 1)
            status = {"status": "ACTIVE"} if table is webhooks_table else {}
            conn.execute(insert(table).values(**values, **stamps, **status))
        conn.execute(delete(experiments_table).where(experiments_table.c.experiment_id == 9))
    engine.dispose()
    assert upgrade_database(fresh_db_uri, backup=False).from_revision == "0005_import_ledger"
    store = SqlBackend(fresh_db_uri)
    try:
        assert [w.name for w in store.workspaces.list_workspaces()] == ["default"]
        assert store.experiments.get_experiment("7").workspace == "default"
        assert store.runs.get_run("abc").data.params == {"lr": "0.1"}
        model = store.registry.get_registered_model("Model")
        assert [int(v.version) for v in model.latest_versions] == [1]
        assert store.webhooks.get_webhook("w1").workspace == "default"
        store.workspaces.enable()
        store.workspaces.create_workspace(Workspace("team-a"))
        with workspace_scope("team-a"):
            created = store.experiments.create_experiment("exp")
            assert created != "7"
            if fresh_db_uri.startswith("sqlite"):  # the rebuilt table never reuses an id
                assert created == "10"
            assert store.registry.create_registered_model("Model").name == "Model"
    finally:
        store.close()
