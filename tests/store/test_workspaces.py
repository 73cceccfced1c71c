"""Conformance: workspaces (MLflow 3.17), on SQLite, PostgreSQL, MariaDB and through a server
started with workspaces enabled: the ``workspaces`` table, resources scoped by the active
workspace, the three deletion modes and where a workspace's artifacts go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail._exceptions import AlreadyExists, InvalidArgument, MltrailError, NotFound
from mltrail.entities import Workspace, WorkspaceDeletionMode
from mltrail.server import ServerSettings, create_app
from mltrail.store import Backend
from mltrail.store._workspace_base import workspace_scope
from mltrail.store.sql import SqlBackend

SQL_FIXTURES = {"sqlite": "sqlite_uri", "postgres": "postgres_uri", "mysql": "mysql_uri"}


@pytest.fixture(params=[*SQL_FIXTURES, "rest"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "rest":
        settings = ServerSettings(
            backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
            default_artifact_root=str(tmp_path / "artifacts"),
            enable_workspaces=True,
            webhooks_allow_private_destinations=True,
        )
        yield request.getfixturevalue("asgi_backend")(create_app(settings))
        return
    db_uri = request.getfixturevalue(SQL_FIXTURES[request.param])
    backend = SqlBackend(db_uri, str(tmp_path / "artifacts"))
    backend.workspaces.enable()
    try:
        yield backend
    finally:
        backend.close()


def _code(exc: pytest.ExceptionInfo[MltrailError]) -> str:
    return exc.value.error_code


def test_the_default_workspace_and_crud(store: Backend) -> None:
    ws = store.workspaces
    assert ws.list_workspaces() == [Workspace("default", "Default workspace for legacy resources")]
    created = ws.create_workspace(Workspace("team-a", "A"))
    assert created == Workspace("team-a", "A")
    assert ws.get_workspace("team-a") == created
    with pytest.raises(AlreadyExists, match="Workspace 'team-a' already exists"):
        ws.create_workspace(Workspace("team-a"))
    with pytest.raises(NotFound, match="Workspace 'nope-x' not found"):
        ws.get_workspace("nope-x")
    with pytest.raises(InvalidArgument, match="must match the pattern"):
        ws.create_workspace(Workspace("Team_A"))
    with pytest.raises(InvalidArgument, match="reserved"):
        ws.create_workspace(Workspace("api"))
    root = "/data/team-a" if isinstance(store, SqlBackend) else "mlflow-artifacts:/team-a"
    updated = ws.update_workspace(
        Workspace(
            "team-a",
            default_artifact_root=root,
            trace_archival_location="s3://bucket/traces",
            trace_archival_retention="30d",
        )
    )
    assert updated == Workspace("team-a", "A", root, "s3://bucket/traces", "30d")
    assert updated.to_dict()["trace_archival_config"] == {
        "location": "s3://bucket/traces",
        "retention": "30d",
    }
    cleared = ws.update_workspace(Workspace("team-a", description="", default_artifact_root=""))
    assert (cleared.description, cleared.default_artifact_root) == ("", None)
    with pytest.raises(InvalidArgument, match="Expected a duration"):
        ws.update_workspace(Workspace("team-a", trace_archival_retention="30x"))
    with pytest.raises(NotFound):
        ws.update_workspace(Workspace("nope-x", description="x"))
    assert [w.name for w in ws.list_workspaces()] == ["default", "team-a"]


def test_resources_belong_to_the_active_workspace(store: Backend) -> None:
    store.workspaces.create_workspace(Workspace("team-a"))
    with workspace_scope("team-a"):
        eid = store.experiments.create_experiment("shared")
        run = store.runs.create_run(eid, "u", 1, [], "r")
        store.registry.create_registered_model("model")
        hook = store.webhooks.create_webhook(
            "hook", "http://127.0.0.1:9/hook", ["registered_model.created"]
        )
        exp = store.experiments.get_experiment(eid)
        assert (exp.workspace, exp.artifact_location.split("/")[-3:]) == (
            "team-a",
            ["workspaces", "team-a", eid],
        )
        assert [e.name for e in store.experiments.search_experiments()] == ["shared"]
        assert store.runs.get_run(run.info.run_id).info.experiment_id == eid
        assert [m.name for m in store.registry.search_registered_models()] == ["model"]
        assert store.webhooks.get_webhook(hook.webhook_id).workspace == "team-a"
        assert [h.webhook_id for h in store.webhooks.list_webhooks()] == [hook.webhook_id]
    # The default workspace sees none of it, and may reuse the names.
    assert [e.name for e in store.experiments.search_experiments()] == ["Default"]
    assert store.experiments.get_experiment_by_name("shared") is None
    with pytest.raises(NotFound):
        store.experiments.get_experiment(eid)
    with pytest.raises(NotFound):
        store.runs.get_run(run.info.run_id)
    assert list(store.runs.search_runs([eid])) == []
    with pytest.raises(NotFound):
        store.registry.get_registered_model("model")
    assert list(store.registry.search_registered_models()) == []
    assert list(store.webhooks.list_webhooks()) == []
    with pytest.raises(NotFound):
        store.webhooks.get_webhook(hook.webhook_id)
    other = store.experiments.create_experiment("shared")
    assert store.experiments.get_experiment(other).workspace == "default"
    assert store.registry.create_registered_model("model").name == "model"


def test_a_workspace_artifact_root_places_its_experiments(store: Backend) -> None:
    root = "/data/team-a" if isinstance(store, SqlBackend) else "mlflow-artifacts:/team-a"
    store.workspaces.create_workspace(Workspace("team-a", default_artifact_root=root))
    with workspace_scope("team-a"):
        eid = store.experiments.create_experiment("e")
        location = store.experiments.get_experiment(eid).artifact_location
    assert location.endswith(f"{root.split(':')[-1]}/{eid}")


def test_deletion_modes(store: Backend) -> None:
    ws = store.workspaces
    for name in ("team-a", "team-b", "team-c"):
        ws.create_workspace(Workspace(name))
    ids: dict[str, str] = {}
    for name in ("team-a", "team-b", "team-c"):
        with workspace_scope(name):
            ids[name] = store.experiments.create_experiment("exp")
            store.registry.create_registered_model(f"model-{name}")
    # RESTRICT (the default) refuses while the workspace holds anything.
    with pytest.raises(MltrailError, match="table 'registered_models' still contains 1") as info:
        ws.delete_workspace("team-a")
    assert _code(info) == "INVALID_STATE"
    # SET_DEFAULT refuses names the default workspace has already, naming each.
    store.experiments.create_experiment("exp")
    with pytest.raises(MltrailError, match="experiments: 'exp'") as info:
        ws.delete_workspace("team-a", WorkspaceDeletionMode.SET_DEFAULT)
    assert _code(info) == "INVALID_STATE"
    with workspace_scope("team-b"):
        store.experiments.rename_experiment(ids["team-b"], "exp-b")
    ws.delete_workspace("team-b", WorkspaceDeletionMode.SET_DEFAULT)
    moved = store.experiments.get_experiment(ids["team-b"])
    assert (moved.name, moved.workspace) == ("exp-b", "default")
    assert store.registry.get_registered_model("model-team-b").name == "model-team-b"
    # CASCADE deletes what the workspace holds.
    with workspace_scope("team-c"):
        run = store.runs.create_run(ids["team-c"], "u", 1, [], "r")
    ws.delete_workspace("team-c", WorkspaceDeletionMode.CASCADE)
    assert [w.name for w in ws.list_workspaces()] == ["default", "team-a"]
    with pytest.raises(NotFound):
        store.experiments.get_experiment(ids["team-c"])
    with pytest.raises(NotFound):
        store.runs.get_run(run.info.run_id)
    with pytest.raises(MltrailError) as info:
        ws.delete_workspace("default")
    assert _code(info) in ("INVALID_STATE", "INVALID_PARAMETER_VALUE")  # store / server rule
    with pytest.raises(NotFound):
        ws.delete_workspace("nope-x")
    with pytest.raises(InvalidArgument, match="Invalid deletion mode 'BAD'"):
        ws.delete_workspace("team-a", "BAD")  # type: ignore[arg-type]


def test_mlflows_variables_scope_a_database_opened_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'ws.db'}"
    plain = SqlBackend(uri)
    try:
        assert plain.workspaces.enabled is False
        plain.workspaces.create_workspace(Workspace("team-a"))
    finally:
        plain.close()
    monkeypatch.setenv("MLFLOW_ENABLE_WORKSPACES", "true")
    monkeypatch.setenv("MLFLOW_WORKSPACE", "team-a")
    scoped = SqlBackend(uri)
    try:
        assert scoped.workspaces.enabled is True
        eid = scoped.experiments.create_experiment("e")
        assert scoped.experiments.get_experiment(eid).workspace == "team-a"
        monkeypatch.delenv("MLFLOW_WORKSPACE")
        with pytest.raises(NotFound):
            scoped.experiments.get_experiment(eid)
    finally:
        scoped.close()
