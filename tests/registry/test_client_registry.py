"""MlflowClient's registry methods, the fluent register_model and models:/ URI resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

import mltrail
from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound
from mltrail.registry import resolve_model_uri


@pytest.fixture
def client(sqlite_uri: str) -> mltrail.MlflowClient:
    mltrail.set_tracking_uri(sqlite_uri)
    return mltrail.MlflowClient()


@pytest.fixture
def trained(client: mltrail.MlflowClient, tmp_path: Path) -> str:
    """A finished run with a model folder in its artifacts."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors: {}\n")
    with mltrail.start_run() as run:
        mltrail.log_param("alpha", 0.5)
        mltrail.log_artifacts(str(model_dir), "model")
    return run.info.run_id


def test_promotion_flow(client: mltrail.MlflowClient, trained: str) -> None:
    mv1 = mltrail.register_model(f"runs:/{trained}/model", "MyModel")
    assert (mv1.name, mv1.version, mv1.status, mv1.run_id) == ("MyModel", 1, "READY", trained)
    mv2 = mltrail.register_model(f"runs:/{trained}/model", "MyModel", tags={"k": 1})
    assert (mv2.version, mv2.tags) == (2, {"k": "1"})
    client.set_model_version_tag("MyModel", 1, "pre_deploy_checks", "PASSED")
    client.set_registered_model_alias("MyModel", "champion", 1)
    client.transition_model_version_stage("MyModel", 2, "Staging")
    client.set_model_version_tag("MyModel", key="stage_tag", value="x", stage="Staging")
    assert client.get_model_version("MyModel", 2).tags == {"k": "1", "stage_tag": "x"}
    client.delete_model_version_tag("MyModel", key="stage_tag", stage="staging")
    assert client.get_model_version("MyModel", 2).tags == {"k": "1"}
    champion = client.get_model_version_by_alias("MyModel", "champion")
    assert (champion.version, champion.tags) == (1, {"pre_deploy_checks": "PASSED"})
    model = client.get_registered_model("MyModel")
    assert model.aliases == {"champion": 1}
    assert {v.current_stage for v in model.latest_versions} == {"None", "Staging"}
    assert [v.version for v in client.get_latest_versions("MyModel", ["Staging"])] == [2]
    assert client.get_model_version_stages("MyModel", 1) == [
        "None",
        "Staging",
        "Production",
        "Archived",
    ]
    download = client.get_model_version_download_uri("MyModel", 1)
    run_artifacts = client.get_run(trained).info.artifact_uri
    assert download == f"{run_artifacts}/model"
    found = mltrail.search_model_versions(filter_string=f"run_id = '{trained}'")
    assert sorted(v.version for v in found) == [1, 2]
    assert [m.name for m in mltrail.search_registered_models(filter_string="name LIKE 'My%'")] == [
        "MyModel"
    ]


def test_client_model_crud(client: mltrail.MlflowClient, trained: str) -> None:
    created = client.create_registered_model("m", tags={"team": "risk"}, description="d")
    assert (created.tags, created.description) == ({"team": "risk"}, "d")
    with pytest.raises(AlreadyExists):
        client.create_registered_model("m")
    assert client.update_registered_model("m", description="e").description == "e"
    client.set_registered_model_tag("m", "n", 5)
    client.delete_registered_model_tag("m", "team")
    assert client.get_registered_model("m").tags == {"n": "5"}
    assert client.rename_registered_model("m", "m2").name == "m2"
    mv = client.create_model_version("m2", f"runs:/{trained}/model", description="v")
    assert client.update_model_version("m2", mv.version, "w").description == "w"
    copied = client.copy_model_version("models:/m2/1", "m3")
    assert (copied.name, copied.version, copied.source) == ("m3", 1, "models:/m2/1")
    client.set_registered_model_alias("m2", "best", 1)
    assert client.copy_model_version("models:/m2@best", "m3").version == 2
    with pytest.raises(InvalidArgument, match="src_model_uri"):
        client.copy_model_version(f"runs:/{trained}/model", "m3")
    client.delete_registered_model_alias("m2", "best")
    client.delete_model_version("m2", 1)
    client.delete_registered_model("m2")
    assert [m.name for m in client.search_registered_models()] == ["m3"]
    with pytest.raises(InvalidArgument, match="version or stage"):
        client.set_model_version_tag("m3", key="k", value="v")


def test_register_model_creates_and_reuses_the_model(
    client: mltrail.MlflowClient, trained: str
) -> None:
    client.create_registered_model("Existing", description="kept")
    mv = mltrail.register_model(f"runs:/{trained}/model", "Existing")
    assert mv.version == 1
    assert client.get_registered_model("Existing").description == "kept"
    # from another registered version
    assert mltrail.register_model("models:/Existing/1", "Other").version == 1
    with pytest.raises(InvalidArgument, match="To use a local path as a model version source"):
        mltrail.register_model("/etc/passwd", "Other")
    # the fluent API looks the run up in the tracking store first, as MLflow's does
    with pytest.raises(NotFound):
        mltrail.register_model(f"runs:/{'0' * 32}/model", "Other")


def test_resolve_model_uri(client: mltrail.MlflowClient, trained: str) -> None:
    base = client.get_run(trained).info.artifact_uri
    client.create_registered_model("M")
    for _ in range(3):
        client.create_model_version("M", f"runs:/{trained}/model")
    client.transition_model_version_stage("M", 1, "Production")
    client.transition_model_version_stage("M", 2, "Production")
    client.set_registered_model_alias("M", "champion", 1)
    expected = f"{base}/model"
    for uri in (
        "models:/M/1",
        "models:/M/Production",
        "models:/M/production",
        "models:/M/latest",
        "models:/M@champion",
        "models:///M/1",
    ):
        assert resolve_model_uri(uri, client) == expected, uri
    assert resolve_model_uri("models:/M/1/MLmodel", client) == f"{expected}/MLmodel"
    assert resolve_model_uri(f"runs:/{trained}/model", client) == f"runs:/{trained}/model"
    with pytest.raises(NotFound, match="in stage 'Staging'"):
        resolve_model_uri("models:/M/Staging", client)
    with pytest.raises(NotFound, match="alias"):
        resolve_model_uri("models:/M@nobody", client)
    with pytest.raises(NotFound):
        resolve_model_uri("models:/Missing/1", client)
    with pytest.raises(InvalidArgument, match="stage"):
        resolve_model_uri("models:/M/Deployed", client)
    for bad in ("models:/", "models:/M/1/../../x", "models:/M@", "models:/M/1?x=1"):
        with pytest.raises(InvalidArgument):
            resolve_model_uri(bad, client)


def test_registry_uri(tmp_path: Path, sqlite_uri: str, trained: str) -> None:
    other = f"sqlite:///{tmp_path / 'registry.db'}"
    mltrail.set_registry_uri(other)
    try:
        assert mltrail.get_registry_uri() == other
        # the run is not in the registry's database: a registry apart from tracking keeps
        # the source as given, as MLflow's does
        version = mltrail.register_model(f"runs:/{trained}/model", "X")
        assert (version.source, version.run_id) == (f"runs:/{trained}/model", trained)
        mltrail.MlflowClient(other).create_registered_model("Elsewhere")
        assert [m.name for m in mltrail.search_registered_models()] == ["Elsewhere", "X"]
        assert mltrail.MlflowClient(sqlite_uri).search_registered_models() == []
    finally:
        mltrail.set_registry_uri(None)
    assert mltrail.get_registry_uri() == sqlite_uri
