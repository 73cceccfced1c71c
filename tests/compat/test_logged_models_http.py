"""The logged-model endpoints over HTTP: MLflow's request and response shapes, error codes,
and the artifact proxy's rules for a model's files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

API = "/api/2.0/mlflow"


@pytest.fixture
def http(tracking_server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tracking_server.url, timeout=30) as client:
        yield client


def _model(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    experiment = http.post(f"{API}/experiments/create", json={"name": "http-lm"}).json()
    response = http.post(
        f"{API}/logged-models", json={"experiment_id": experiment["experiment_id"], **fields}
    )
    assert response.status_code == 200, response.text
    model: dict[str, Any] = response.json()["model"]
    return model


def test_shapes_and_lifecycle(http: httpx.Client) -> None:
    model = _model(
        http,
        name="m",
        model_type="sklearn",
        tags=[{"key": "t", "value": "1"}],
        params=[{"key": "p", "value": "2"}],
    )
    info = model["info"]
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"] == (
        f"mlflow-artifacts:/{info['experiment_id']}/models/{info['model_id']}/artifacts"
    )
    assert info["tags"] == [{"key": "t", "value": "1"}]
    assert model["data"] == {"params": [{"key": "p", "value": "2"}], "metrics": []}
    one = f"{API}/logged-models/{info['model_id']}"
    assert http.get(one).json()["model"] == model

    # the client sends the status as a number or by name
    done = http.patch(one, json={"model_id": info["model_id"], "status": 2})
    assert done.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    failed = http.patch(one, json={"status": "LOGGED_MODEL_UPLOAD_FAILED"})
    assert failed.json()["model"]["info"]["status"] == "LOGGED_MODEL_UPLOAD_FAILED"

    tagged = http.patch(f"{one}/tags", json={"tags": [{"key": "a/b", "value": "x"}]})
    assert {"key": "a/b", "value": "x"} in tagged.json()["model"]["info"]["tags"]
    assert http.delete(f"{one}/tags/a/b").status_code == 200
    assert http.post(f"{one}/params", json={"params": [{"key": "q", "value": "3"}]}).json() == {}
    found = http.post(
        f"{API}/logged-models/search",
        json={
            "experiment_ids": [info["experiment_id"]],
            "filter": "params.q = '3' AND tags.t = '1'",
            "order_by": [{"field_name": "name", "ascending": True}],
        },
    ).json()
    assert [m["info"]["model_id"] for m in found["models"]] == [info["model_id"]]
    assert http.delete(one).json() == {}
    missing = http.get(one)
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert http.get(one, params={"allow_deleted": "true"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/logged-models", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/logged-models", {"experiment_id": "99999"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "/logged-models/search", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/logged-models/search", {"experiment_ids": ["0"], "filter": "x ="}, 400, None),
        ("GET", "/logged-models/m-0", None, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("GET", "/logged-models/bad%20id", None, 400, "INVALID_PARAMETER_VALUE"),
        ("PATCH", "/logged-models/m-0", {"status": "DONE"}, 400, "INVALID_PARAMETER_VALUE"),
        ("PATCH", "/logged-models/m-0", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("PUT", "/logged-models/m-0", {}, 405, None),
    ],
)
def test_errors(
    http: httpx.Client,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    code: str | None,
) -> None:
    response = http.request(method, API + path, json=body)
    assert response.status_code == status, response.text
    error = response.json()
    assert "Traceback" not in error["message"]
    if code:
        assert error["error_code"] == code


def test_model_artifacts_through_the_proxy(
    http: httpx.Client, tracking_server: Any, tmp_path: Path
) -> None:
    model = _model(http)
    info = model["info"]
    rel = info["artifact_uri"].removeprefix("mlflow-artifacts:/")
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    assert http.put(f"{proxy}/{rel}/MLmodel", content=b"flavors: {}\n").status_code == 200
    assert http.put(f"{proxy}/{rel}/sub/a.bin", content=b"xyz").status_code == 200
    stored = tmp_path / "server" / "artifacts" / rel
    assert (stored / "sub" / "a.bin").read_bytes() == b"xyz"

    one = f"{API}/logged-models/{info['model_id']}"
    listing = http.get(f"{one}/artifacts/directories").json()
    assert listing["root_uri"] == info["artifact_uri"]
    assert sorted(f["path"] for f in listing["files"]) == ["MLmodel", "sub"]
    sub = http.get(f"{one}/artifacts/directories", params={"artifact_directory_path": "sub"})
    assert [f["path"] for f in sub.json()["files"]] == ["sub/a.bin"]
    got = http.get(
        f"/ajax-api/2.0/mlflow/logged-models/{info['model_id']}/artifacts/files",
        params={"artifact_file_path": "sub/a.bin"},
    )
    assert got.content == b"xyz"
    traversal = http.get(f"{one}/artifacts/files", params={"artifact_file_path": "../x"})
    assert traversal.status_code == 400

    # Not an existing model's root: refused, nothing written.
    exp = info["experiment_id"]
    unknown = http.put(f"{proxy}/{exp}/models/m-{'0' * 32}/artifacts/x", content=b"1")
    assert unknown.status_code == 404
    assert not (tmp_path / "server" / "artifacts" / exp / "models" / f"m-{'0' * 32}").exists()
    assert http.put(f"{proxy}/{rel}/../../x", content=b"1").status_code in (400, 404)
    # A deleted model takes no more files.
    assert http.delete(one).status_code == 200
    assert http.put(f"{proxy}/{rel}/late.txt", content=b"1").status_code == 403


def test_run_links_and_linked_metrics(http: httpx.Client) -> None:
    model = _model(http)
    info = model["info"]
    run = http.post(f"{API}/runs/create", json={"experiment_id": info["experiment_id"]}).json()
    run_id = run["run"]["info"]["run_id"]
    point = {"key": "acc", "value": 0.5, "timestamp": 5, "step": 0}
    assert http.post(f"{API}/runs/log-metric", json={"run_id": run_id, **point}).status_code == 200
    linked = {**point, "model_id": info["model_id"], "dataset_name": "val"}
    batch = {"run_id": run_id, "metrics": [linked, {**linked, "value": "NaN", "step": 1}]}
    assert http.post(f"{API}/runs/log-batch", json=batch).status_code == 200
    history = http.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "acc"}
    ).json()["metrics"]
    assert [(m["value"], m["step"]) for m in history] == [(0.5, 0), ("NaN", 1)]
    metrics = http.get(f"{API}/logged-models/{info['model_id']}").json()["model"]["data"]
    assert [(m["value"], m["dataset_name"]) for m in metrics["metrics"]] == [
        (0.5, "val"),
        ("NaN", "val"),
    ]
    outputs = {"run_id": run_id, "models": [{"model_id": info["model_id"], "step": 2}]}
    assert http.post(f"{API}/runs/outputs", json=outputs).status_code == 200
    inputs = {"run_id": run_id, "models": [{"model_id": info["model_id"]}]}
    assert http.post(f"{API}/runs/log-inputs", json=inputs).status_code == 200
    got = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert got["outputs"] == {"model_outputs": [{"model_id": info["model_id"], "step": 2}]}
    assert got["inputs"]["model_inputs"] == [{"model_id": info["model_id"]}]
    body = {"experiment_ids": [got["info"]["experiment_id"]], "filter": f"run_id = '{run_id}'"}
    (searched,) = http.post(f"{API}/runs/search", json=body).json()["runs"]
    assert searched["outputs"] == got["outputs"]
    assert searched["inputs"]["model_inputs"] == got["inputs"]["model_inputs"]
    unknown = {"run_id": run_id, "models": [{"model_id": "m-" + "1" * 32}]}
    assert http.post(f"{API}/runs/outputs", json=unknown).status_code == 404
