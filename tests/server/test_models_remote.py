"""``mltrail.pyfunc.load_model`` from remote places: ``s3://``, the server's artifact proxy
(``mlflow-artifacts:/...``, ``mlflow-artifacts://host:port/...``) and ``runs:/`` against an http
tracking URI, with the proxy's destination a folder or S3."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from tests.server.conftest import Api

import mltrail
from mltrail.artifacts import S3ArtifactRepository

pytestmark = pytest.mark.slow


@pytest.fixture
def trained() -> tuple[LogisticRegression, pd.DataFrame]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.random(50), "b": rng.random(50)})
    y = (X["a"] > X["b"]).astype(int)
    return LogisticRegression().fit(X, y), X


def _same(loaded: mltrail.pyfunc.PyFuncModel, model: LogisticRegression, X: pd.DataFrame) -> None:
    assert np.array_equal(np.asarray(loaded.predict(X)), model.predict(X))


def test_load_from_s3(
    s3_bucket: str, tmp_path: Path, trained: tuple[LogisticRegression, pd.DataFrame]
) -> None:
    model, X = trained
    local = tmp_path / "m"
    mltrail.sklearn.save_model(model, str(local), input_example=X.head(2))
    S3ArtifactRepository(f"{s3_bucket}/models/clf").log_artifacts(str(local))
    for uri in (f"{s3_bucket}/models/clf", f"{s3_bucket}/models/clf/"):
        _same(mltrail.pyfunc.load_model(uri), model, X)
    native = mltrail.sklearn.load_model(f"{s3_bucket}/models/clf")
    assert isinstance(native, LogisticRegression)
    with pytest.raises(mltrail.exceptions.NotFound):
        mltrail.pyfunc.load_model(f"{s3_bucket}/models/missing")


def _log_through(api: Api, model: LogisticRegression, X: pd.DataFrame) -> tuple[str, str, str]:
    """(server URL, run id, model id) of *model* logged through the server."""
    url = str(api.client.base_url).rstrip("/")
    mltrail.set_tracking_uri(url)
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(model, "model", input_example=X.head(2))
    assert info.model_id is not None
    return url, run.info.run_id, info.model_id


def _check_remote_loads(
    model: LogisticRegression, X: pd.DataFrame, url: str, run_id: str, model_id: str
) -> None:
    location = mltrail.MlflowClient().get_logged_model(model_id).artifact_location
    assert location.startswith("mlflow-artifacts:/")
    assert location.endswith(f"/models/{model_id}/artifacts")
    host = url.removeprefix("http://")
    for uri in (
        f"runs:/{run_id}/model",
        f"models:/{model_id}",
        location,
        location.replace("mlflow-artifacts:/", f"mlflow-artifacts://{host}/"),
    ):
        _same(mltrail.pyfunc.load_model(uri), model, X)
    assert isinstance(mltrail.sklearn.load_model(f"runs:/{run_id}/model"), LogisticRegression)
    with pytest.raises(mltrail.exceptions.NotFound):
        mltrail.pyfunc.load_model(f"runs:/{run_id}/nothing")


def test_load_through_the_proxy_to_a_folder(
    api: Api, trained: tuple[LogisticRegression, pd.DataFrame]
) -> None:
    model, X = trained
    url, run_id, model_id = _log_through(api, model, X)
    assert any((api.artifacts).rglob("MLmodel"))
    _check_remote_loads(model, X, url, run_id, model_id)


def test_load_through_the_proxy_to_s3(
    make_api: Callable[..., Api],
    s3_bucket: str,
    seaweedfs: object,
    trained: tuple[LogisticRegression, pd.DataFrame],
) -> None:
    api = make_api(artifacts_destination=f"{s3_bucket}/proxied")
    model, X = trained
    url, run_id, model_id = _log_through(api, model, X)
    client = seaweedfs.client()  # type: ignore[attr-defined]
    keys = [
        o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket.removeprefix("s3://"))["Contents"]
    ]
    assert any(
        k.startswith("proxied/") and k.endswith(f"/models/{model_id}/artifacts/MLmodel")
        for k in keys
    )
    _check_remote_loads(model, X, url, run_id, model_id)


def test_load_from_a_run_whose_artifacts_are_on_s3(
    make_api: Callable[..., Api],
    s3_bucket: str,
    trained: tuple[LogisticRegression, pd.DataFrame],
) -> None:
    """``--no-serve-artifacts`` with an S3 root: runs:/ resolves to s3:// and loads from there."""
    api = make_api(serve_artifacts=False, default_artifact_root=f"{s3_bucket}/direct")
    model, X = trained
    mltrail.set_tracking_uri(str(api.client.base_url).rstrip("/"))
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(model, "model")
    assert run.info.artifact_uri.startswith(f"{s3_bucket}/direct/")
    location = mltrail.MlflowClient().get_logged_model(str(info.model_id)).artifact_location
    assert location.startswith(f"{s3_bucket}/direct/")
    _same(mltrail.pyfunc.load_model(f"runs:/{run.info.run_id}/model"), model, X)
    _same(mltrail.pyfunc.load_model(location), model, X)
