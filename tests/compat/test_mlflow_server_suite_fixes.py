"""What MLflow's own server tests (``scripts/mlflow_server_suite.py``) found, held here without
MLflow's files: the official ``mlflow`` client (and plain HTTP) against an mltrail server.

- ``/version`` answers a version MLflow's client parses and places (its feature checks);
- ``--default-artifact-root http://HOST:PORT/api/2.0/mlflow-artifacts/artifacts``, as MLflow's
  documentation configures the proxy, takes the client's ``log_artifact``;
- model version sources: remote URIs and runs tracked elsewhere are accepted as MLflow accepts
  them, local paths and climbing paths refused (CVE-2023-1177 class).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._live_server import ThreadedServer

from mltrail.server import ServerSettings, create_app

mlflow = pytest.importorskip("mlflow")

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CREATE_VERSION = "/api/2.0/mlflow/model-versions/create"


@pytest.fixture(params=["sqlite", "postgres"])
def store_uri(request: pytest.FixtureRequest) -> str:
    fixture = {"sqlite": "sqlite_uri", "postgres": "postgres_uri"}[request.param]
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def started(
    tmp_path: Path, serve: Callable[..., ThreadedServer], free_port: Callable[[], int]
) -> Iterator[Callable[..., str]]:
    """``started(store_uri, **settings)``: a server's URL; the mlflow client points at it."""

    def start(store_uri: str, **settings: Any) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = {
            k: v.replace("{url}", url) if isinstance(v, str) else v for k, v in settings.items()
        }
        app = create_app(ServerSettings(backend_store_uri=store_uri, **settings))
        serve(app, port=port)
        mlflow.set_tracking_uri(url)
        return url

    try:
        yield start
    finally:
        mlflow.set_tracking_uri(None)


def test_version_is_one_mlflows_client_places(
    started: Callable[..., str], sqlite_uri: str, tmp_path: Path
) -> None:
    """MLflow's client parses /version and turns features off for a server older than it needs
    (log_spans needs 3.4); mltrail's version travels as the local label."""
    from mlflow.store.tracking.rest_store import RestStore
    from mlflow.utils.rest_utils import MlflowHostCreds
    from packaging.version import Version

    import mltrail

    url = started(sqlite_uri, artifacts_destination=str(tmp_path / "a"))
    text = httpx.get(f"{url}/version").text
    seen = RestStore._get_server_version(MlflowHostCreds(url))
    assert seen == Version(text)
    assert seen is not None
    assert seen >= Version("3.4")
    info = httpx.get(f"{url}/api/3.0/mlflow/server-info").json()
    assert info["version"] == mltrail.__version__
    assert text == f"{info['mlflow_api_version']}+mltrail.{mltrail.__version__}"
    assert seen.local == f"mltrail.{mltrail.__version__}"


def test_an_http_default_artifact_root_takes_log_artifact(
    started: Callable[..., str], store_uri: str, tmp_path: Path
) -> None:
    """As MLflow's docs configure it: the root is the proxy's own URL; runs get http(s) artifact
    URIs that the client writes to through the proxy, which files them in the destination."""
    destination = tmp_path / "destination"
    url = started(
        store_uri,
        default_artifact_root="{url}/api/2.0/mlflow-artifacts/artifacts",
        artifacts_destination=str(destination),
    )
    (tmp_path / "a.txt").write_text("0")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "a.txt"))
        mlflow.log_artifact(str(tmp_path / "a.txt"), artifact_path="sub")
    root = run.info.artifact_uri
    assert root == f"{url}/api/2.0/mlflow-artifacts/artifacts/0/{run.info.run_id}/artifacts"
    assert (destination / "0" / run.info.run_id / "artifacts" / "a.txt").read_text() == "0"
    client = mlflow.MlflowClient()
    assert sorted(f.path for f in client.list_artifacts(run.info.run_id)) == ["a.txt", "sub"]
    listed = httpx.get(
        f"{url}/api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id}
    ).json()
    assert listed["root_uri"] == root
    got = httpx.get(f"{url}/get-artifact", params={"run_id": run.info.run_id, "path": "sub/a.txt"})
    assert got.text == "0"
    # outside every run the proxy still takes nothing (a deliberate difference from MLflow)
    refused = httpx.put(f"{url}/api/2.0/mlflow-artifacts/artifacts/loose.txt", content=b"x")
    assert refused.status_code == 404
    assert refused.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert not (destination / "loose.txt").exists()


def _create(url: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}{CREATE_VERSION}", json={"name": "m", **body})


def test_model_version_sources_as_mlflow_accepts_them(
    started: Callable[..., str], store_uri: str, tmp_path: Path
) -> None:
    """Differential: the statuses MLflow's server gives (read from MLflow 3.17's handlers):
    200 for remote URIs and runs tracked elsewhere, 400 for climbing paths and local paths
    outside the named run's artifacts."""
    url = started(store_uri, default_artifact_root=(tmp_path / "root").as_uri())
    client = mlflow.MlflowClient()
    client.create_registered_model("m")
    run = client.create_run(client.create_experiment("e"))
    here = run.info.run_id
    elsewhere = "e" * 32
    accepted = [
        {"source": "s3://bucket/path/model", "run_id": here},
        {"source": "gs://bucket/path/model"},
        {"source": "wasbs://c@acct.blob.core.windows.net/path/model", "run_id": elsewhere},
        {"source": "hdfs://namenode:8020/path/model"},
        {"source": "models:/m/1"},
        {"source": f"runs:/{elsewhere}/model", "run_id": elsewhere},
        {"source": f"{run.info.artifact_uri}/model", "run_id": here},
    ]
    for body in accepted:
        answer = _create(url, **body)
        assert answer.status_code == 200, (body, answer.text)
        assert answer.json()["model_version"]["source"] == body["source"]
    refused = [
        ({"source": "s3://bucket/models/../../../", "run_id": here}, "If supplying a source"),
        ({"source": "gs://bucket/models/..%2f..%2fx"}, "If supplying a source"),
        ({"source": f"runs:/{elsewhere}/model", "run_id": here}, "names run"),
        ({"source": "/etc", "run_id": here}, "To use a local path as a model version"),
        ({"source": str(tmp_path)}, "To use a local path as a model version"),
        ({"source": f"{run.info.artifact_uri}/model", "run_id": elsewhere}, "names no run"),
    ]
    for body, words in refused:
        answer = _create(url, **body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert words in answer.json()["message"]


def test_a_relative_artifact_location_as_mlflow_returns_it(
    started: Callable[..., str], sqlite_uri: str, tmp_path: Path
) -> None:
    """Made absolute against the server's working folder, and kept a plain path."""
    started(sqlite_uri, default_artifact_root=(tmp_path / "root").as_uri(), serve_artifacts=False)
    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment("rel", artifact_location="my_location")
    location = client.get_experiment(experiment_id).artifact_location
    assert location == str(Path.cwd() / "my_location")


def test_the_ajax_endpoints_of_mlflows_ui(
    started: Callable[..., str], store_uri: str, tmp_path: Path
) -> None:
    url = started(store_uri, default_artifact_root=(tmp_path / "root").as_uri())
    client = mlflow.MlflowClient()
    exp = client.create_experiment("ui")
    runs = sorted(client.create_run(exp).info.run_id for _ in range(2))
    for i, run_id in enumerate(runs):
        client.log_metric(run_id, "loss", float(i), timestamp=5, step=i)
        client.log_metric(run_id, "loss", float(i) + 0.5, timestamp=6, step=i + 1)
    ajax = f"{url}/ajax-api/2.0/mlflow"
    bulk = httpx.get(
        f"{ajax}/metrics/get-history-bulk", params={"run_id": runs[::-1], "metric_key": "loss"}
    ).json()["metrics"]
    assert [(m["run_id"], m["step"]) for m in bulk] == [
        (runs[0], 0),
        (runs[0], 1),
        (runs[1], 1),
        (runs[1], 2),
    ]
    capped = httpx.get(
        f"{ajax}/metrics/get-history-bulk",
        params={"run_id": runs, "metric_key": "loss", "max_results": 3},
    ).json()["metrics"]
    assert len(capped) == 3
    for params, words in [
        ({"metric_key": "loss"}, "must specify at least one run_id"),
        ({"run_id": [f"r{i}" for i in range(101)], "metric_key": "x"}, "more than 100 run_ids"),
        ({"run_id": runs}, "must specify a metric_key"),
    ]:
        refused = httpx.get(f"{ajax}/metrics/get-history-bulk", params=params)
        assert refused.status_code == 400
        assert words in refused.json()["message"]
    # the UI's upload: the raw body becomes a file of the run, served back as an attachment
    put = httpx.post(
        f"{ajax}/upload-artifact", params={"run_uuid": runs[0], "path": "notes.txt"}, content=b"hi"
    )
    assert put.status_code == 200
    got = httpx.get(f"{url}/get-artifact", params={"run_id": runs[0], "path": "notes.txt"})
    assert got.text == "hi"
    assert got.headers["content-disposition"] == "attachment; filename=notes.txt"
    assert got.headers["content-type"].startswith("text/plain")
    for params, body, words in [
        ({}, b"x", "must specify run_uuid"),
        ({"run_uuid": runs[0]}, b"x", "must specify path"),
        ({"run_uuid": runs[0], "path": "../x"}, b"x", "Invalid path '../x'"),
        ({"run_uuid": runs[0], "path": "x"}, b"", "must specify data"),
    ]:
        refused = httpx.post(f"{ajax}/upload-artifact", params=params, content=body)
        assert refused.status_code == 400
        assert words in refused.json()["message"]
    summaries = httpx.post(f"{ajax}/experiments/search-datasets", json={"experiment_ids": [exp]})
    assert summaries.json() == {"dataset_summaries": []}
    too_many = httpx.post(
        f"{ajax}/experiments/search-datasets", json={"experiment_ids": [str(i) for i in range(21)]}
    )
    assert "cannot specify more than 20 experiment_ids" in too_many.json()["message"]


def test_a_model_versions_files_for_the_ui(
    started: Callable[..., str], store_uri: str, tmp_path: Path
) -> None:
    """``/model-versions/get-artifact`` serves the files of a version inside a run here; a
    source kept as given (a remote URI) is never read by the server."""
    url = started(store_uri, default_artifact_root=(tmp_path / "root").as_uri())
    client = mlflow.MlflowClient()
    run_id = client.create_run(client.create_experiment("mv")).info.run_id
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    client.log_artifact(run_id, str(tmp_path / "MLmodel"), "model")
    client.create_registered_model("m")
    client.create_model_version("m", f"runs:/{run_id}/model", run_id)
    client.create_model_version("m", "s3://bucket/elsewhere/model", run_id)
    get = f"{url}/model-versions/get-artifact"
    got = httpx.get(get, params={"name": "m", "version": "1", "path": "MLmodel"})
    assert got.status_code == 200
    assert got.text == "flavors: {}\n"
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == "attachment; filename=MLmodel"
    remote = httpx.get(get, params={"name": "m", "version": "2", "path": "MLmodel"})
    assert remote.status_code == 403
    assert "does not read them" in remote.json()["message"]
    climbing = httpx.get(get, params={"name": "m", "version": "1", "path": "../../x"})
    assert climbing.status_code == 400
    assert climbing.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    missing = httpx.get(get, params={"name": "m", "version": "9", "path": "MLmodel"})
    assert missing.status_code == 404


def test_metric_interval_samples_as_mlflow_does(
    started: Callable[..., str], sqlite_uri: str, tmp_path: Path
) -> None:
    """Differential: the same points logged to MLflow's own SQL store and to an mltrail server;
    get-history-bulk-interval picks the same points (MLflow 3.17's row sampling)."""
    from mlflow.entities import Metric as MlflowMetric
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    theirs = SqlAlchemyStore(f"sqlite:///{tmp_path / 'mlflow.db'}", (tmp_path / "a").as_uri())
    url = started(sqlite_uri, default_artifact_root=(tmp_path / "root").as_uri())
    client = mlflow.MlflowClient()
    exp = client.create_experiment("interval")
    their_exp = theirs.create_experiment("interval")
    histories = {
        "ten": [(s, 1, 10.0) for s in range(10)],
        "twenty": [(s, 1, float(s)) for s in range(20)],
        "ties": [(s, t, 10.0) for t in (1, 2) for s in range(10)],
        "odd": [(s * 3, 5, math.nan if s == 4 else s / 7) for s in range(37)],
    }
    pairs = {}
    for name, points in histories.items():
        ours = client.create_run(exp).info.run_id
        other = theirs.create_run(their_exp, "u", 0, [], name).info.run_id
        batch = [MlflowMetric("m", v, t, s) for s, t, v in points]
        theirs.log_batch(other, batch, [], [])
        client.log_batch(ours, metrics=batch)
        pairs[name] = (ours, other)

    def rows(found: Any) -> list[tuple[int, int, Any]]:
        return [(m["step"], m["timestamp"], str(m["value"])) for m in found]

    for name, (ours, other) in pairs.items():
        for limit, window in [(5, None), (1, None), (320, None), (4, (3, 40)), (2, (0, 0))]:
            params: dict[str, Any] = {"run_ids": [ours], "metric_key": "m", "max_results": limit}
            if window:
                params.update(start_step=window[0], end_step=window[1])
            got = httpx.get(
                f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval", params=params
            ).json()["metrics"]
            expected = theirs.get_metric_history_bulk_interval(
                [other], "m", limit, *(window or (None, None))
            )
            want = [{"step": m.step, "timestamp": m.timestamp, "value": m.value} for m in expected]
            assert rows(got) == [
                (w["step"], w["timestamp"], "NaN" if math.isnan(w["value"]) else str(w["value"]))
                for w in want
            ], (name, limit, window)
    theirs.engine.dispose()
