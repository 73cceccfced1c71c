"""XGBoost autologging: what MLflow 3.17's ``mlflow.xgboost.autolog`` records, for
``xgboost.train`` and the scikit-learn API; training never broken by logging; disable restores."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")

from tests._live_server import ThreadedServer  # noqa: E402
from tests.autolog._gbm_harness import (  # noqa: E402
    assert_same_recording,
    patchable_attributes,
    recordings,
)

import mltrail  # noqa: E402
import mltrail.xgboost  # noqa: E402

pytestmark = pytest.mark.slow


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4))
    return x, (x[:, 0] - x[:, 1] > 0).astype(int)


PARAMS = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": 0}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    """MLflow's and mltrail's recordings of the scenarios (shared by xdist workers)."""
    shared = None if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    return recordings(shared)


@pytest.fixture
def autolog(sqlite_uri: str) -> Iterator[None]:
    mltrail.set_tracking_uri(sqlite_uri)
    yield
    mltrail.xgboost.autolog(disable=True)


def test_native_train_records_what_mlflow_records(recorded: dict[str, Any]) -> None:
    run = assert_same_recording(recorded, "xgb_native")
    # early stopping: the best iteration's results again, one step after the last iteration
    history = run["metrics"]["validation-logloss"]
    best = int(run["metrics"]["best_iteration"][0][1])
    assert history[-1] == [len(history) - 1, history[best][1]]
    assert run["metrics"]["stopped_iteration"] == [[0, len(history) - 2]]


def test_sklearn_fit_records_what_mlflow_records(recorded: dict[str, Any]) -> None:
    run = assert_same_recording(recorded, "xgb_sklearn")
    assert "n_jobs" in run["params"]  # the estimator's params reach train's booster params


def test_importance_json_and_model(autolog: None) -> None:
    mltrail.xgboost.autolog(importance_types=["weight", "gain"], model_format="json")
    x, y = _data()
    model = xgb.train(PARAMS, xgb.DMatrix(x, label=y), num_boost_round=3)
    run = mltrail.last_active_run()
    assert run is not None
    client = mltrail.MlflowClient()
    paths = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"feature_importance_weight.json", "feature_importance_gain.json"} <= paths
    local = client.download_artifacts(run.info.run_id, "feature_importance_gain.json")
    assert json.loads(Path(local).read_text()) == model.get_score(importance_type="gain")
    (output,) = run.outputs.model_outputs
    assert client.get_logged_model(output.model_id).name == "model"
    model_files = {f.path for f in client.list_logged_model_artifacts(output.model_id)}
    assert "model.json" in model_files


def test_a_logging_failure_does_not_break_training(
    autolog: None, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = _data()
    expected = xgb.train(PARAMS, xgb.DMatrix(x, label=y), num_boost_round=4).predict(xgb.DMatrix(x))
    mltrail.xgboost.autolog(log_models=False)
    with mltrail.start_run():
        mltrail.log_param("num_boost_round", "999")  # the store refuses autolog's value
        with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
            booster = xgb.train(PARAMS, xgb.DMatrix(x, label=y), num_boost_round=4)
    np.testing.assert_array_equal(booster.predict(xgb.DMatrix(x)), expected)
    assert any("xgboost" in r.getMessage() for r in caplog.records)


def test_silent_prints_nothing(
    autolog: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    mltrail.xgboost.autolog(log_models=False, silent=True)
    x, y = _data()
    with mltrail.start_run():
        mltrail.log_param("num_boost_round", "999")
        with caplog.at_level(logging.DEBUG, logger="mltrail.autolog"):
            xgb.train(PARAMS, xgb.DMatrix(x, label=y), num_boost_round=4)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert capsys.readouterr().err == ""


def _attributes() -> dict[str, object]:
    return patchable_attributes(xgb, xgb.DMatrix, xgb.XGBModel)


def test_disable_restores_xgboost(autolog: None) -> None:
    before = _attributes()
    mltrail.xgboost.autolog()
    patched = _attributes()
    assert patched["xgboost.train"] is not before["xgboost.train"]
    assert patched["XGBClassifier.fit"] is not before["XGBClassifier.fit"]
    assert patched["XGBClassifier.predict"] is not before["XGBClassifier.predict"]
    assert patched["sklearn.metrics.accuracy_score"] is not before["sklearn.metrics.accuracy_score"]
    mltrail.xgboost.autolog(disable=True)
    assert _attributes() == before


def test_sklearn_api_against_a_tracking_server(tracking_server: ThreadedServer) -> None:
    mltrail.set_tracking_uri(tracking_server.url)
    mltrail.xgboost.autolog()
    try:
        x, y = _data()
        model = xgb.XGBRegressor(n_estimators=4, max_depth=2, n_jobs=1)
        model.fit(x, y, eval_set=[(x, y)], verbose=False)
    finally:
        mltrail.xgboost.autolog(disable=True)
    run = mltrail.last_active_run()
    assert run is not None
    client = mltrail.MlflowClient()
    history = client.get_metric_history(run.info.run_id, "validation_0-rmse")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert run.data.params["num_boost_round"] == "4"
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    (output,) = run.outputs.model_outputs
    paths = {f.path for f in client.list_logged_model_artifacts(output.model_id)}
    assert {"MLmodel", "model.ubj"} <= paths
    contexts = sorted(
        {t.key: t.value for t in i.tags}["mlflow.data.context"] for i in run.inputs.dataset_inputs
    )
    assert contexts == ["eval", "train"]
    loaded = mltrail.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
