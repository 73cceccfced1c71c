"""MlflowClient's logged-model calls (MLflow 3) and their fluent functions, on a real SQLite
store in the test's folder and through a real mltrail server (the REST store)."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

import pytest

import mltrail as mlflow
from mltrail import MlflowClient
from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import LoggedModelOutput, LoggedModelStatus

UNKNOWN = "m-" + "0" * 32


class MlflowStyleStatus(str, enum.Enum):
    """Like MLflow's ``mlflow.entities.LoggedModelStatus`` (a str enum)."""

    READY = "READY"
    FAILED = "FAILED"


class PlainStatus(enum.Enum):
    READY = 2


@pytest.fixture(params=["sqlite", "rest"])
def client(request: pytest.FixtureRequest, sqlite_uri: str) -> MlflowClient:
    """A client of a local SQLite store (the current tracking URI) or of a live server."""
    if request.param == "sqlite":
        mlflow.set_tracking_uri(sqlite_uri)
        return MlflowClient()
    server = request.getfixturevalue("tracking_server")
    return MlflowClient(tracking_uri=server.url)


def _experiment(client: MlflowClient, name: str = "lm") -> str:
    return client.create_experiment(name)


def test_create_get_finalize_delete(client: MlflowClient) -> None:
    eid = _experiment(client)
    run_id = client.create_run(eid).info.run_id
    model = client.create_logged_model(
        eid,
        name="model",
        source_run_id=run_id,
        tags={"team": "a", "n": 1},
        params={"alpha": 0.5},
        model_type="sklearn",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.status == LoggedModelStatus.PENDING
    assert (model.name, model.experiment_id, model.source_run_id) == ("model", eid, run_id)
    assert (model.tags, model.params, model.model_type) == (
        {"team": "a", "n": "1"},
        {"alpha": "0.5"},
        "sklearn",
    )
    assert model.model_uri == f"models:/{model.model_id}"
    assert client.get_logged_model(model.model_id) == model

    assert client.finalize_logged_model(model.model_id, "READY").status == "READY"
    assert client.finalize_logged_model(model.model_id, "FAILED").status == "FAILED"
    assert client.finalize_logged_model(model.model_id, MlflowStyleStatus.READY).status == "READY"
    failed = client.finalize_logged_model(model.model_id, "LOGGED_MODEL_UPLOAD_FAILED")
    assert failed.status == "FAILED"
    assert client.finalize_logged_model(model.model_id, PlainStatus.READY).status == "READY"
    assert client.get_logged_model(model.model_id).status == "READY"

    unnamed = client.create_logged_model(eid)
    assert unnamed.name
    assert (unnamed.source_run_id, unnamed.tags, unnamed.params) == (None, {}, {})

    client.delete_logged_model(model.model_id)
    with pytest.raises(NotFound):
        client.get_logged_model(model.model_id)
    assert [m.model_id for m in client.search_logged_models([eid])] == [unnamed.model_id]


def test_errors(client: MlflowClient) -> None:
    eid = _experiment(client)
    model = client.create_logged_model(eid, name="m")
    for call in (
        lambda: client.get_logged_model(UNKNOWN),
        lambda: client.finalize_logged_model(UNKNOWN, "READY"),
        lambda: client.delete_logged_model(UNKNOWN),
        lambda: client.set_logged_model_tags(UNKNOWN, {"k": "v"}),
        lambda: client.delete_logged_model_tag(UNKNOWN, "k"),
        lambda: client.log_model_params(UNKNOWN, {"k": "v"}),
        lambda: client.list_logged_model_artifacts(UNKNOWN),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound, match="'nope'"):
        client.delete_logged_model_tag(model.model_id, "nope")
    for bad in ("DONE", "", None, 7, MlflowStyleStatus):
        with pytest.raises(InvalidArgument, match="status"):
            client.finalize_logged_model(model.model_id, bad)
    assert client.get_logged_model(model.model_id).status == "PENDING"
    for bad_id in ("", None, "bad id!", "m-" + "a" * 80):
        with pytest.raises(InvalidArgument, match="model_id"):
            client.get_logged_model(bad_id)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="model_id"):
        client.set_logged_model_tags("", {"k": "v"})
    with pytest.raises(InvalidArgument, match="name"):
        client.create_logged_model(eid, name="a/b")
    with pytest.raises(NotFound):
        client.create_logged_model("987654")
    with pytest.raises(InvalidArgument, match="max_results"):
        client.search_logged_models([eid], max_results=0)
    with pytest.raises(InvalidArgument, match="experiment_ids"):
        client.search_logged_models(None)  # type: ignore[arg-type]


def test_tags_and_params(client: MlflowClient) -> None:
    model = client.create_logged_model(_experiment(client), tags={"a": "1"})
    client.set_logged_model_tags(model.model_id, {"b": 2, "a": "changed"})
    assert client.get_logged_model(model.model_id).tags == {"a": "changed", "b": "2"}
    client.delete_logged_model_tag(model.model_id, "a")
    assert client.get_logged_model(model.model_id).tags == {"b": "2"}

    client.log_model_params(model.model_id, {"lr": 0.1, "depth": 3})
    client.log_model_params(model.model_id, {"lr": "0.1"})  # the same value again is fine
    assert client.get_logged_model(model.model_id).params == {"lr": "0.1", "depth": "3"}
    with pytest.raises(InvalidArgument, match="lr"):
        client.log_model_params(model.model_id, {"lr": "0.2"})


def test_search_filters_orders_and_pages(client: MlflowClient) -> None:
    eid = _experiment(client)
    other = _experiment(client, "other")
    ids = []
    for i, kind in enumerate(["rf", "rf", "lr"]):
        model = client.create_logged_model(eid, name=f"m{i}", params={"kind": kind})
        ids.append(model.model_id)
    client.finalize_logged_model(ids[0], "READY")
    elsewhere = client.create_logged_model(other, name="elsewhere")

    everything = client.search_logged_models([eid])
    assert {m.model_id for m in everything} == set(ids)
    times = [m.creation_timestamp for m in everything]
    assert times == sorted(times, reverse=True)  # newest first
    assert everything.token is None
    assert {m.model_id for m in client.search_logged_models(eid)} == set(ids)  # one id as str
    both = client.search_logged_models([eid, other])
    assert {m.model_id for m in both} == {*ids, elsewhere.model_id}

    found = client.search_logged_models([eid], filter_string="params.kind = 'rf'")
    assert {m.name for m in found} == {"m0", "m1"}
    ready = client.search_logged_models([eid], filter_string="status = 'READY'")
    assert [m.model_id for m in ready] == [ids[0]]
    by_name = client.search_logged_models(
        [eid], order_by=[{"field_name": "name", "ascending": True}]
    )
    assert [m.name for m in by_name] == ["m0", "m1", "m2"]
    assert [m.name for m in client.search_logged_models([eid], order_by=["name DESC"])] == [
        "m2",
        "m1",
        "m0",
    ]

    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = client.search_logged_models(
            [eid], max_results=2, order_by=["name"], page_token=token
        )
        pages.append([m.name for m in page])
        token = page.token
        if token is None:
            break
    assert pages == [["m0", "m1"], ["m2"]]
    assert list(client.search_logged_models([eid], filter_string="name = 'none'")) == []


def test_log_outputs_links_models_to_the_run(client: MlflowClient) -> None:
    eid = _experiment(client)
    run_id = client.create_run(eid).info.run_id
    model = client.create_logged_model(eid, source_run_id=run_id)
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])
    outputs = client.get_run(run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(model.model_id, 3)]


def test_model_artifacts(client: MlflowClient, tmp_path: Path) -> None:
    model = client.create_logged_model(_experiment(client), name="files")
    assert client.list_logged_model_artifacts(model.model_id) == []
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    folder = tmp_path / "weights"
    (folder / "inner").mkdir(parents=True)
    (folder / "w.bin").write_bytes(b"\x00" * 10)
    (folder / "inner" / "x.txt").write_text("x")

    client.log_model_artifact(model.model_id, str(tmp_path / "MLmodel"))
    client.log_model_artifacts(model.model_id, folder, artifact_path="data")
    client.log_model_artifact(model.model_id, folder)  # a folder keeps its name

    root = {(f.path, f.is_dir) for f in client.list_logged_model_artifacts(model.model_id)}
    assert root == {("MLmodel", False), ("data", True), ("weights", True)}
    data = client.list_logged_model_artifacts(model.model_id, "data")
    assert {(f.path, f.file_size) for f in data} == {("data/inner", None), ("data/w.bin", 10)}
    inner = client.list_logged_model_artifacts(model.model_id, "weights/inner")
    assert [f.path for f in inner] == ["weights/inner/x.txt"]


# -- fluent ------------------------------------------------------------------------------------


def test_fluent_functions_delegate_to_the_current_tracking_uri(sqlite_uri: str) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    exp = mlflow.set_experiment("fluent-lm")
    client = MlflowClient()
    model = client.create_logged_model(exp.experiment_id, name="fluent")

    assert mlflow.get_logged_model(model.model_id) == model
    mlflow.set_logged_model_tags(model.model_id, {"stage": "dev", "x": 1})
    mlflow.delete_logged_model_tag(model.model_id, "x")
    assert mlflow.get_logged_model(model.model_id).tags == {"stage": "dev"}
    assert mlflow.finalize_logged_model(model.model_id, MlflowStyleStatus.READY).status == "READY"
    with pytest.raises(InvalidArgument, match="status"):
        mlflow.finalize_logged_model(model.model_id, "DONE")
    with pytest.raises(NotFound):
        mlflow.get_logged_model(UNKNOWN)
    with pytest.raises(NotFound):
        mlflow.delete_logged_model_tag(model.model_id, "x")


def test_fluent_search_defaults_to_the_active_experiment(sqlite_uri: str) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    client = MlflowClient()
    elsewhere = client.create_experiment("elsewhere")
    client.create_logged_model(elsewhere, name="not-me")
    exp = mlflow.set_experiment("fluent-search")
    ids = [client.create_logged_model(exp.experiment_id, name=f"m{i}").model_id for i in range(5)]
    client.finalize_logged_model(ids[2], "READY")

    models = mlflow.search_logged_models(output_format="list")
    assert sorted(m.model_id for m in models) == sorted(ids)
    top = mlflow.search_logged_models(
        output_format="list", max_results=2, order_by=[{"field_name": "name"}]
    )
    assert [m.name for m in top] == ["m0", "m1"]
    ready = mlflow.search_logged_models(filter_string="status = 'READY'", output_format="list")
    assert [m.model_id for m in ready] == [ids[2]]
    both = mlflow.search_logged_models([exp.experiment_id, elsewhere], output_format="list")
    assert len(both) == 6

    with mlflow.start_run(experiment_id=elsewhere):  # the active run's experiment wins
        assert [m.name for m in mlflow.search_logged_models(output_format="list")] == ["not-me"]

    with pytest.raises(InvalidArgument, match="output_format"):
        mlflow.search_logged_models(output_format="json")
    with pytest.raises(InvalidArgument, match="max_results"):
        mlflow.search_logged_models(max_results=0)


def test_fluent_search_pages_through_everything(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.tracking import _fluent_logged_models

    monkeypatch.setattr(_fluent_logged_models, "_PAGE", 2)
    mlflow.set_tracking_uri(sqlite_uri)
    exp = mlflow.set_experiment("paged")
    client = MlflowClient()
    for i in range(5):
        client.create_logged_model(exp.experiment_id, name=f"m{i}")
    assert len(mlflow.search_logged_models(output_format="list")) == 5
    assert len(mlflow.search_logged_models(max_results=3, output_format="list")) == 3


def test_fluent_search_as_a_dataframe(sqlite_uri: str) -> None:
    pd = pytest.importorskip("pandas")
    mlflow.set_tracking_uri(sqlite_uri)
    exp = mlflow.set_experiment("frame")
    assert list(mlflow.search_logged_models().columns) == [
        "artifact_location",
        "creation_timestamp",
        "experiment_id",
        "last_updated_timestamp",
        "metrics",
        "model_id",
        "model_type",
        "name",
        "params",
        "source_run_id",
        "status",
        "status_message",
        "tags",
    ]
    client = MlflowClient()
    model = client.create_logged_model(
        exp.experiment_id, name="m", params={"p": "1"}, tags={"t": "x"}, model_type="agent"
    )
    client.finalize_logged_model(model.model_id, "READY")
    frame = mlflow.search_logged_models()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 1
    row: dict[str, Any] = frame.iloc[0].to_dict()
    assert row["model_id"] == model.model_id
    assert (row["name"], row["status"], row["model_type"]) == ("m", "READY", "agent")
    assert (row["params"], row["tags"], row["experiment_id"]) == (
        {"p": "1"},
        {"t": "x"},
        exp.experiment_id,
    )
