"""LightGBM autologging: what MLflow 3.17's ``mlflow.lightgbm.autolog`` records, for
``lightgbm.train`` and the scikit-learn API; training never broken by logging; disable restores."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")

from tests.autolog._gbm_harness import (  # noqa: E402
    assert_same_recording,
    patchable_attributes,
    recordings,
)

import mltrail  # noqa: E402
import mltrail.lightgbm  # noqa: E402

pytestmark = pytest.mark.slow

PARAMS = {"objective": "binary", "num_leaves": 4, "num_threads": 1, "seed": 0, "verbose": -1}


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4))
    return x, (x[:, 0] - x[:, 1] > 0).astype(int)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    """MLflow's and mltrail's recordings of the scenarios (shared by xdist workers)."""
    shared = None if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    return recordings(shared)


@pytest.fixture
def autolog(sqlite_uri: str) -> Iterator[None]:
    mltrail.set_tracking_uri(sqlite_uri)
    yield
    mltrail.lightgbm.autolog(disable=True)


def test_native_train_records_what_mlflow_records(recorded: dict[str, Any]) -> None:
    run = assert_same_recording(recorded, "lgb_native")
    # early stopping: the best iteration's (1-based) results again after the last iteration
    history = run["metrics"]["valid-auc"]
    best = int(run["metrics"]["best_iteration"][0][1])
    assert history[-1] == [len(history) - 1, history[best - 1][1]]
    assert run["metrics"]["stopped_iteration"] == [[0, len(history) - 1]]


def test_sklearn_fit_records_what_mlflow_records(recorded: dict[str, Any]) -> None:
    run = assert_same_recording(recorded, "lgb_sklearn")
    assert run["params"]["num_boost_round"] == "15"  # n_estimators, as train received it


def test_importance_files(autolog: None) -> None:
    mltrail.lightgbm.autolog(log_models=False)
    x, y = _data()
    model = lgb.train(PARAMS, lgb.Dataset(x, label=y), num_boost_round=3)
    run = mltrail.last_active_run()
    assert run is not None
    client = mltrail.MlflowClient()
    paths = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert paths == {
        f"feature_importance_{kind}.{ext}" for kind in ("split", "gain") for ext in ("json", "png")
    }
    local = client.download_artifacts(run.info.run_id, "feature_importance_split.json")
    split = dict(zip(model.feature_name(), model.feature_importance("split").tolist(), strict=True))
    assert json.loads(Path(local).read_text()) == split


def test_a_logging_failure_does_not_break_training(
    autolog: None, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = _data()
    expected = lgb.train(PARAMS, lgb.Dataset(x, label=y), num_boost_round=4).predict(x)
    mltrail.lightgbm.autolog(log_models=False)
    with mltrail.start_run():
        mltrail.log_param("num_boost_round", "999")  # the store refuses autolog's value
        with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
            booster = lgb.train(PARAMS, lgb.Dataset(x, label=y), num_boost_round=4)
    np.testing.assert_array_equal(booster.predict(x), expected)
    assert any("lightgbm" in r.getMessage() for r in caplog.records)


def test_silent_prints_nothing(
    autolog: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    mltrail.lightgbm.autolog(log_models=False, silent=True)
    x, y = _data()
    with mltrail.start_run():
        mltrail.log_param("num_boost_round", "999")
        with caplog.at_level(logging.DEBUG, logger="mltrail.autolog"):
            lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert capsys.readouterr().err == ""


def _attributes() -> dict[str, object]:
    return patchable_attributes(lgb, lgb.Dataset, lgb.LGBMModel)


def test_disable_restores_lightgbm(autolog: None) -> None:
    before = _attributes()
    mltrail.lightgbm.autolog()
    patched = _attributes()
    assert patched["lightgbm.train"] is not before["lightgbm.train"]
    assert patched["LGBMClassifier.fit"] is not before["LGBMClassifier.fit"]
    assert patched["LGBMClassifier.predict"] is not before["LGBMClassifier.predict"]
    assert patched["sklearn.metrics.accuracy_score"] is not before["sklearn.metrics.accuracy_score"]
    mltrail.lightgbm.autolog(disable=True)
    assert _attributes() == before


def test_sklearn_fit_logs_once_into_the_active_run(autolog: None) -> None:
    mltrail.lightgbm.autolog(log_models=False, log_datasets=False)
    x, y = _data()
    with mltrail.start_run() as run:
        lgb.LGBMClassifier(n_estimators=3, num_leaves=4, verbose=-1).fit(
            x, y, eval_X=(x,), eval_y=(y,)
        )
    client = mltrail.MlflowClient()
    [only] = client.search_runs([run.info.experiment_id])
    assert only.info.run_id == run.info.run_id
    assert only.info.status == "FINISHED"
    assert only.data.params["num_boost_round"] == "3"
    assert "mlflow.autologging" not in only.data.tags  # the user's run, not autolog's
    history = client.get_metric_history(run.info.run_id, "valid_0-binary_logloss")
    assert [m.step for m in history] == [0, 1, 2]
    assert only.inputs.dataset_inputs == []


def test_without_matplotlib_no_plot_and_no_warning(
    autolog: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the `plots` extra were absent
    mltrail.lightgbm.autolog(log_models=False)
    x, y = _data()
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        lgb.train(PARAMS, lgb.Dataset(x, label=y), num_boost_round=3)
    run = mltrail.last_active_run()
    assert run is not None
    paths = {f.path for f in mltrail.MlflowClient().list_artifacts(run.info.run_id)}
    assert paths == {"feature_importance_split.json", "feature_importance_gain.json"}
    assert caplog.records == []
