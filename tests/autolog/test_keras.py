"""Keras 3 autologging and ``MlflowCallback`` record what MLflow's record, and never break
training.

The differential tests run ``keras_scenarios.py`` twice, under the real ``mlflow`` and under
``mltrail`` (one process each, concurrently: both cannot patch Keras at once), and compare
what each run holds.  The other tests fit in this process, against a SQLite store.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests._differential import recorded_once, run_both, scenario_env

pytest.importorskip("mlflow")
pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import mltrail  # noqa: E402
import mltrail.keras  # noqa: E402
from mltrail.tracking.autolog import autologging_is_disabled  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    # Keras' own (its optimizer's get_config converts variables the NumPy 1 way).
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

HERE = Path(__file__).parent
SCENARIOS = HERE / "keras_scenarios.py"
sys.path.insert(0, str(HERE))
import keras_scenarios  # noqa: E402

SCENARIOS_RUN = ("plain", "steps", "callback")
#: Tags of the run context (who, where from), not of autologging.
CONTEXT_TAGS = ("mlflow.user", "mlflow.source.", "mltrail.source.", "mlflow.runName")


def _environment(**extra: str) -> dict[str, str]:
    return scenario_env(KERAS_BACKEND="torch", **extra)


def _record_both(folder: Path) -> dict[str, dict[str, Any]]:
    # mltrail reads a Keras model's requirements from its file (no interpreter); the MLflow
    # side skips its inference subprocess (see _mlflow_requirements).
    env = {"KERAS_BACKEND": "torch"}
    return dict(run_both(SCENARIOS, folder, {"mlflow": env, "mltrail": env}))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    """{"mlflow": {scenario: record}, "mltrail": {...}}, recorded once per test session."""
    return dict(recorded_once(tmp_path_factory, worker_id, "keras-autolog", _record_both))


def _autolog_tags(tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if not k.startswith(CONTEXT_TAGS)}


def _without_digest(datasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # mltrail digests datasets with its own sampled hash (docs/api-compatibility.md).
    return [{k: v for k, v in d.items() if k != "digest"} for d in datasets]


@pytest.mark.parametrize("scenario", SCENARIOS_RUN)
def test_same_params_metrics_tags_artifacts_and_model_as_mlflow(
    recorded: dict[str, dict[str, Any]], scenario: str
) -> None:
    theirs, ours = recorded["mlflow"][scenario], recorded["mltrail"][scenario]
    assert ours["status"] == theirs["status"] == "FINISHED"
    assert ours["params"] == theirs["params"]
    # Every metric's history: keys, steps and values (the training is deterministic).
    assert ours["metrics"].keys() == theirs["metrics"].keys()
    for key, history in theirs["metrics"].items():
        assert [s for s, _ in ours["metrics"][key]] == [s for s, _ in history], key
        assert np.allclose([v for _, v in ours["metrics"][key]], [v for _, v in history]), key
    assert _autolog_tags(ours["tags"]) == _autolog_tags(theirs["tags"])
    assert ours["artifacts"] == theirs["artifacts"]
    assert ours["texts"] == theirs["texts"]  # the model summary, to the character
    assert ours["models"] == theirs["models"]


def test_datasets(recorded: dict[str, dict[str, Any]]) -> None:
    """The training arrays are logged as MLflow logs them.  MLflow 3.17 also means to log
    ``validation_data`` (context ``eval``), but without TensorFlow installed its dataset code
    fails on that tuple (``is_tf_tensor`` unbound) and logs a warning instead: mltrail logs it."""
    for scenario in ("plain", "steps"):
        theirs = recorded["mlflow"][scenario]["datasets"]
        ours = recorded["mltrail"][scenario]["datasets"]
        train = [d for d in ours if ("mlflow.data.context", "train") in map(tuple, d["tags"])]
        evaluation = [d for d in ours if ("mlflow.data.context", "eval") in map(tuple, d["tags"])]
        assert _without_digest(train) == _without_digest(theirs)
        assert len(evaluation) == 1
        assert json.loads(evaluation[0]["profile"])["features_shape"] == [16, 4]
    assert recorded["mltrail"]["callback"]["datasets"] == []


def test_what_the_scenarios_cover(recorded: dict[str, dict[str, Any]]) -> None:
    """The comparisons above are not comparisons of nothing."""
    plain, steps, callback = (recorded["mltrail"][s] for s in SCENARIOS_RUN)
    assert {"batch_size", "epochs", "optimizer_name", "optimizer_learning_rate"} <= set(
        plain["params"]
    )
    assert plain["params"]["epochs"] == "3"
    assert plain["params"]["batch_size"] == "16"
    assert [s for s, _ in plain["metrics"]["loss"]] == [0, 1, 2]
    assert [s for s, _ in plain["metrics"]["val_mae"]] == [0, 1, 2]
    assert [s for s, _ in plain["metrics"]["validation_loss"]] == [0, 0, 0]
    assert plain["tags"]["mlflow.autologging"] == "keras"
    assert plain["artifacts"] == ["model_summary.txt"]
    assert "dense" in plain["texts"]["model_summary.txt"].lower()
    [model] = plain["models"]
    assert model["name"] == "model"
    assert model["flavors"] == ["keras", "python_function"]
    assert "data/model.keras" in model["files"]
    assert model["linked_to_inputs"]
    assert model["outputs"]
    assert ("loss", 2) in map(tuple, model["metrics"])  # the metrics are the model's too
    assert json.loads(model["signature"]["inputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}
    ]
    assert plain["versions"] == recorded["mlflow"]["plain"]["versions"] == 1
    # 48 rows in batches of 8: 6 steps an epoch, logged every 2 optimizer steps.
    assert [s for s, _ in steps["metrics"]["loss"]] == [2, 4, 6, 8, 10, 12]
    assert steps["models"] == []
    assert "mlflow.autologging" not in steps["tags"]  # fitted in the user's run
    assert [s for s, _ in callback["metrics"]["loss"]] == [0, 1]
    assert "optimizer_name" in callback["params"]


# -- in this process ------------------------------------------------------------------------


@pytest.fixture
def store(sqlite_uri: str) -> Iterator[str]:
    mltrail.set_tracking_uri(sqlite_uri)
    try:
        yield sqlite_uri
    finally:
        mltrail.keras.autolog(disable=True)


def _model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _arrays() -> tuple[Any, Any]:
    x, y, _, _ = keras_scenarios.data()
    return x, y


def test_callback_is_a_keras_callback_and_imports_keras_on_demand() -> None:
    assert issubclass(mltrail.keras.MlflowCallback, keras.callbacks.Callback)
    assert mltrail.keras.MLflowCallback is mltrail.keras.MlflowCallback
    probe = (
        "import sys, mltrail, mltrail.keras\n"
        "mltrail.keras.autolog\n"
        "assert 'keras' not in sys.modules\n"
        "assert mltrail.keras.MlflowCallback.__name__ == 'MlflowCallback'\n"
        "assert 'keras' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, env=_environment())


def test_callback_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="must be None if `log_every_epoch=True`"):
        mltrail.keras.MlflowCallback(log_every_n_steps=3)
    with pytest.raises(ValueError, match="must be specified if `log_every_epoch=False`"):
        mltrail.keras.MlflowCallback(log_every_epoch=False)


def test_autolog_arguments_are_checked() -> None:
    with pytest.raises(mltrail.MlflowException, match="log_every_n_steps") as caught:
        mltrail.keras.autolog(log_every_n_steps=3)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(mltrail.MlflowException, match="log_every_n_steps"):
        mltrail.keras.autolog(log_every_epoch=False)


def test_callback_logs_into_the_active_run(store: str) -> None:
    x, y = _arrays()
    model = _model()
    with mltrail.start_run() as run:
        model.fit(
            x,
            y,
            epochs=2,
            batch_size=16,
            verbose=0,
            callbacks=[mltrail.keras.MlflowCallback(log_every_epoch=False, log_every_n_steps=3)],
        )
    logged = mltrail.get_run(run.info.run_id)
    assert logged.data.params["optimizer_name"] == "sgd"
    history = mltrail.MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == [3, 6]  # 3 steps an epoch


def test_callback_failures_do_not_break_training(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    x, y = _arrays()
    model = _model()
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"), mltrail.start_run():
        mltrail.log_param("optimizer_name", "other")  # the store refuses the callback's
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[mltrail.keras.MlflowCallback()])
    assert len(history.history["loss"]) == 2
    assert any("unexpected error during autologging" in r.getMessage() for r in caplog.records)


def test_silent_prints_nothing(store: str, caplog: pytest.LogCaptureFixture) -> None:
    x, y = _arrays()
    mltrail.keras.autolog(silent=True, log_models=False)
    with caplog.at_level(logging.DEBUG, logger="mltrail"), mltrail.start_run():
        mltrail.log_param("optimizer_name", "other")  # the store refuses the callback's
        history = _model().fit(x, y, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    assert [r for r in caplog.records if r.name.startswith("mltrail.autolog")] == []


def test_autolog_with_an_mlflow_callback_warns_and_trains(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As in MLflow, autologging refuses to add its callback beside the user's (whose run
    logs): a warning, and the fit runs with the user's callbacks."""
    x, y = _arrays()
    mltrail.keras.autolog(log_models=False, log_datasets=False)
    callbacks = [mltrail.keras.MlflowCallback()]
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        history = _model().fit(x, y, epochs=2, verbose=0, callbacks=callbacks)
    assert len(history.history["loss"]) == 2
    assert len(callbacks) == 1  # the caller's list is left as it was
    assert any("MlflowCallback" in r.getMessage() for r in caplog.records)


def test_a_model_that_cannot_be_logged_does_not_break_training(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``save_exported_model=True`` needs TensorFlow: the training and its run are logged, the
    model made before training is marked FAILED, and a warning says why."""
    x, y = _arrays()
    mltrail.keras.autolog(save_exported_model=True, log_datasets=False)
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        history = _model().fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    run = mltrail.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert "loss" in run.data.metrics
    [model] = mltrail.search_logged_models(output_format="list")
    assert str(model.status) == "FAILED"
    assert any("save_exported_model" in r.getMessage() for r in caplog.records)


def test_disable_restores_fit(store: str) -> None:
    original = inspect.getattr_static(keras.Model, "fit")
    mltrail.keras.autolog(log_models=False)
    assert inspect.getattr_static(keras.Model, "fit") is not original
    x, y = _arrays()
    _model().fit(x, y, epochs=1, verbose=0)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.data.tags["mlflow.autologging"] == "keras"
    assert "loss" in run.data.metrics
    mltrail.keras.autolog(disable=True)
    assert autologging_is_disabled("keras")
    assert inspect.getattr_static(keras.Model, "fit") is original


def test_generator_batch_size_is_read_and_the_batches_kept(store: str) -> None:
    x, y = _arrays()
    mltrail.keras.autolog(log_models=False, log_datasets=False)

    def batches() -> Iterator[tuple[Any, Any]]:
        for start in range(0, 48, 12):
            yield x[start : start + 12], y[start : start + 12]

    history = _model().fit(batches(), epochs=1, steps_per_epoch=4, shuffle=False, verbose=0)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.data.params["batch_size"] == "12"
    assert run.data.params["steps_per_epoch"] == "4"
    assert len(history.history["loss"]) == 1


def test_universal_autolog_covers_keras(store: str) -> None:
    mltrail.autolog(log_models=False, exclude_flavors=["sklearn", "pytorch", "transformers"])
    try:
        x, y = _arrays()
        _model().fit(x, y, epochs=1, verbose=0)
        run = mltrail.last_active_run()
        assert run is not None
        assert run.data.tags["mlflow.autologging"] == "keras"
    finally:
        mltrail.autolog(disable=True)
