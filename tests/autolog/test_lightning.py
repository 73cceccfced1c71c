"""PyTorch Lightning autologging records what MLflow's records, and never breaks training.

The differential tests run ``lightning_scenarios.py`` twice, under the real ``mlflow`` and under
``mltrail`` (one process each, concurrently: both cannot patch Lightning at once), and compare
what each run holds.  The other tests fit in this process, against a SQLite store.
"""

from __future__ import annotations

import inspect
import json
import logging
import pickle
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._differential import recorded_once, run_both

pytest.importorskip("mlflow")
pl = pytest.importorskip("lightning.pytorch")

import mltrail  # noqa: E402
from mltrail.tracking.autolog import autologging_is_disabled  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    # Lightning's own advice (few dataloader workers, ...) and torch's deprecations in Lightning
    # are not what is tested here.
    pytest.mark.filterwarnings(
        "ignore::UserWarning", "ignore::DeprecationWarning", "ignore::FutureWarning"
    ),
]

HERE = Path(__file__).parent
SCENARIOS = HERE / "lightning_scenarios.py"
sys.path.insert(0, str(HERE))
import lightning_scenarios  # noqa: E402

#: Where MLflow and mltrail agree on everything (the model aside, see test_model).
SAME = ("plain", "early_stop", "steps")
#: Tags of the run context (who, where from), not of autologging.
CONTEXT_TAGS = ("mlflow.user", "mlflow.source.", "mltrail.source.", "mlflow.runName")
EARLY_STOP_PARAMS = {"monitor", "mode", "patience", "min_delta", "stopped_epoch"}
EARLY_STOP_METRICS = {"stopped_epoch", "restored_epoch", "best_score", "wait_count"}


def _record_both(folder: Path) -> dict[str, dict[str, Any]]:
    # mltrail infers a model's requirements by loading it in a new interpreter, as MLflow does
    # (seconds each); the MLflow side writes its defaults instead, and so does mltrail when
    # the inference times out.
    extra = {"mltrail": {"MLTRAIL_REQUIREMENTS_INFERENCE_TIMEOUT": "0.001"}}
    return dict(run_both(SCENARIOS, folder, extra))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    """{"mlflow": {scenario: record}, "mltrail": {...}}, recorded once per test session: the
    xdist workers that run these tests share one recording (a folder of the session's)."""
    return dict(recorded_once(tmp_path_factory, worker_id, "lightning-autolog", _record_both))


def _both(recorded: dict[str, dict[str, Any]], scenario: str) -> tuple[Any, Any]:
    return recorded["mlflow"][scenario], recorded["mltrail"][scenario]


def _autolog_tags(tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if not k.startswith(CONTEXT_TAGS)}


@pytest.mark.parametrize("scenario", SAME)
def test_same_params_metrics_tags_and_artifacts_as_mlflow(
    recorded: dict[str, dict[str, Any]], scenario: str
) -> None:
    theirs, ours = _both(recorded, scenario)
    assert ours["status"] == theirs["status"] == "FINISHED"
    # Params with their values: epochs, the optimizer's, EarlyStopping's.
    assert ours["params"] == theirs["params"]
    # Every metric's history, steps and values (the training is deterministic).
    assert ours["metrics"] == theirs["metrics"]
    assert _autolog_tags(ours["tags"]) == _autolog_tags(theirs["tags"])
    assert ours["artifacts"] == theirs["artifacts"]
    # The checkpoints' metrics files and the model summary, to the character.
    assert ours["texts"] == theirs["texts"]


def test_what_the_scenarios_cover(recorded: dict[str, dict[str, Any]]) -> None:
    """The comparisons above are not comparisons of nothing."""
    plain, early, steps = (recorded["mltrail"][s] for s in SAME)
    assert {"epochs", "optimizer_name", "lr", "momentum"} <= set(plain["params"])
    assert [step for step, _ in plain["metrics"]["val_loss"]] == [0, 1, 2]
    assert plain["tags"]["Mode"] == "testing"  # trainer.test after fit
    assert "test_loss" in plain["metrics"]
    assert "checkpoints/latest_checkpoint.pth" in plain["artifacts"]
    assert "model_summary.txt" in plain["artifacts"]
    [[name, params, linked]] = plain["logged_models"]
    assert (name, params) == ("model", {})
    assert ["val_loss", 0] in linked
    assert ["test_loss", 0] in linked
    assert set(early["params"]) >= EARLY_STOP_PARAMS
    assert set(early["metrics"]) >= EARLY_STOP_METRICS
    assert "checkpoints/epoch_1/checkpoint.pth" in early["artifacts"]
    assert any(p.startswith("restored_model_checkpoint/") for p in early["artifacts"])
    assert [s for s, _ in steps["metrics"]["train_loss_step"]] == [2, 5, 8, 11, 14, 17, 20, 23]
    assert [s for s, _ in steps["metrics"]["val_loss"]] == [1]  # log_every_n_epoch=2
    assert "checkpoints/global_step_5/checkpoint.weights.pth" in steps["artifacts"]
    assert "mlflow.autologging" not in steps["tags"]  # fitted in the user's run


def test_model_signature_and_registration(recorded: dict[str, dict[str, Any]]) -> None:
    for scenario in SAME:
        theirs, ours = _both(recorded, scenario)
        assert ours["models"] == theirs["models"]
        # MLflow 3 makes the model before training (no params) and links the metrics to it.
        assert json.loads(json.dumps(ours["logged_models"])) == json.loads(
            json.dumps(theirs["logged_models"])
        )
        assert ours["signature"] == theirs["signature"]
    theirs, ours = _both(recorded, "early_stop")
    assert ours["signature"]["inputs"] == (
        '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 8]}}]'
    )
    assert ours["versions"] == theirs["versions"] == 1
    assert ours["models"] == 1
    assert not any(p.startswith("model/") for p in ours["artifacts"])  # the model's, not the run's


def test_early_stopping_of_the_lightning_package(recorded: dict[str, dict[str, Any]]) -> None:
    """MLflow 3.17 looks for ``pytorch_lightning``'s EarlyStopping even when the trainer is
    ``lightning.pytorch``'s, and so logs nothing of it; mltrail logs it as it does for
    ``pytorch_lightning`` (everything else is the same)."""
    theirs, ours = _both(recorded, "lightning_early_stop")
    assert set(ours["params"]) == set(theirs["params"]) | EARLY_STOP_PARAMS
    assert not EARLY_STOP_PARAMS & set(theirs["params"])
    assert set(ours["metrics"]) == set(theirs["metrics"]) | EARLY_STOP_METRICS
    assert {k: v for k, v in ours["metrics"].items() if k in theirs["metrics"]} == (
        theirs["metrics"]
    )
    assert ours["metrics"]["stopped_epoch"] == [[0, 1.0]]
    assert ours["artifacts"] == theirs["artifacts"]


def test_checkpoint_callback_and_load_checkpoint(recorded: dict[str, dict[str, Any]]) -> None:
    """``MlflowModelCheckpointCallback`` on a trainer without autologging logs the checkpoints
    MLflow's logs, and ``load_checkpoint`` restores the same weights from them."""
    theirs, ours = _both(recorded, "callback")
    assert ours["status"] == theirs["status"] == "FINISHED"
    assert ours["params"] == theirs["params"] == {}
    assert ours["metrics"] == theirs["metrics"] == {}
    assert _autolog_tags(ours["tags"]) == _autolog_tags(theirs["tags"])
    assert ours["artifacts"] == theirs["artifacts"]
    assert ours["texts"] == theirs["texts"]
    assert ours["restored"] == theirs["restored"]
    assert ours["tags"]["mlflow.latest_checkpoint_artifact"] == "checkpoints/epoch_2/checkpoint.pth"
    assert "checkpoints/epoch_0/checkpoint_metrics.json" in ours["artifacts"]
    assert ours["restored"]["latest"] != ours["restored"]["epoch_1"]


# -- in this process ------------------------------------------------------------------------


@pytest.fixture
def autolog_off_after(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MLTRAIL_REQUIREMENTS_INFERENCE_TIMEOUT", "0.001")  # see `recorded`
    try:
        yield
    finally:
        mltrail.pytorch.autolog(disable=True)


@pytest.fixture
def store(tmp_path: Path, autolog_off_after: None) -> str:
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    mltrail.set_tracking_uri(uri)
    return uri


def _fit(model: Any = None, epochs: int = 2) -> Any:
    pl.seed_everything(0, verbose=False)
    trainer = pl.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    train, val = lightning_scenarios.loaders()
    trainer.fit(model or lightning_scenarios.module_class(pl)(), train, val)
    return trainer


def _unpicklable_module() -> Any:
    model = lightning_scenarios.module_class(pl)()
    model.lock = threading.Lock()  # log_model cannot pickle it
    return model


def test_logging_failures_do_not_break_training(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    mltrail.pytorch.autolog(checkpoint=False)
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"), mltrail.start_run() as run:
        mltrail.log_param("epochs", 99)  # the store refuses autologging's "epochs"
        trainer = _fit(_unpicklable_module())
    assert trainer.state.finished
    assert trainer.current_epoch == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "mltrail.autolog"]
    assert any("Changing param values is not allowed" in m for m in messages), messages
    assert any("cannot pickle" in m for m in messages), messages
    logged = mltrail.get_run(run.info.run_id)
    assert logged.info.status == "FINISHED"
    assert logged.data.params["epochs"] == "99"
    assert "val_loss" in logged.data.metrics  # the epochs' metrics are logged all the same


def test_silent_prints_nothing(
    store: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    mltrail.pytorch.autolog(checkpoint=False, silent=True)
    with caplog.at_level(logging.DEBUG, logger="mltrail"), mltrail.start_run():
        mltrail.log_param("epochs", 99)
        trainer = _fit(_unpicklable_module(), epochs=1)
    assert trainer.state.finished
    assert [r for r in caplog.records if r.name.startswith("mltrail.autolog")] == []
    assert "mltrail" not in capfd.readouterr().err


def test_a_second_fit_logs_into_its_own_run(store: str) -> None:
    """The callbacks a fit leaves on its trainer give way to the next fit's (MLflow keeps the
    first ones, which log the second fit into the first run)."""
    mltrail.pytorch.autolog(log_models=False)
    trainer = _fit(epochs=1)
    first = mltrail.last_active_run()
    trainer.fit_loop.max_epochs = 2
    train, val = lightning_scenarios.loaders()
    trainer.fit(trainer.lightning_module, train, val)
    second = mltrail.last_active_run()
    assert first is not None
    assert second is not None
    assert second.info.run_id != first.info.run_id
    client = mltrail.MlflowClient()
    assert [m.step for m in client.get_metric_history(first.info.run_id, "val_loss")] == [0]
    assert [m.step for m in client.get_metric_history(second.info.run_id, "val_loss")] == [1]
    assert sum(type(c).__module__.startswith("mltrail.") for c in trainer.callbacks) == 2


def test_callbacks_pickle(store: str) -> None:
    """Strategies that spawn processes pickle the trainer, callbacks included."""
    mltrail.pytorch.autolog(log_models=False)
    trainer = _fit(epochs=1)
    ours = [c for c in trainer.callbacks if type(c).__module__.startswith("mltrail.")]
    assert len(ours) == 2
    for callback in ours:
        # Lightning gives each callback the module's `log` methods: this test's module class
        # is local, so not picklable (a spawning strategy needs a picklable module anyway).
        del callback.log, callback.log_dict
        copy = pickle.loads(pickle.dumps(callback))
        assert type(copy) is type(callback)
        assert isinstance(copy, pl.Callback)
        assert copy.__dict__.keys() == callback.__dict__.keys()


def test_disable_restores_fit(store: str) -> None:
    original = inspect.getattr_static(pl.Trainer, "fit")
    mltrail.pytorch.autolog(log_models=False, checkpoint=False)
    assert inspect.getattr_static(pl.Trainer, "fit") is not original
    trainer = _fit(epochs=1)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.data.tags["mlflow.autologging"] == "pytorch"
    assert "val_loss" in run.data.metrics

    mltrail.pytorch.autolog(disable=True)
    assert autologging_is_disabled("pytorch")
    assert inspect.getattr_static(pl.Trainer, "fit") is original
    # The callbacks left on a trainer by an earlier fit do nothing now.
    trainer.fit_loop.max_epochs = 2
    train, val = lightning_scenarios.loaders()
    trainer.fit(trainer.lightning_module, train, val)
    assert mltrail.active_run() is None
    assert mltrail.get_run(run.info.run_id).data.metrics == run.data.metrics


def test_to_a_tracking_server(tracking_server: Any, autolog_off_after: None) -> None:
    mltrail.set_tracking_uri(tracking_server.url)
    mltrail.pytorch.autolog()
    _fit(epochs=2)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert {"epochs", "optimizer_name", "lr"} <= set(run.data.params)
    client = mltrail.MlflowClient()
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [0, 1]
    paths = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"checkpoints", "model_summary.txt"} <= paths
    (output,) = client.get_run(run.info.run_id).outputs.model_outputs
    assert client.get_logged_model(output.model_id).name == "model"
    model = mltrail.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    assert model.layer.in_features == 8


def _checkpointed_run(callback: Any, epochs: int = 2) -> str:
    pl.seed_everything(0, verbose=False)
    trainer = pl.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        callbacks=[callback],
    )
    train, val = lightning_scenarios.loaders()
    with mltrail.start_run() as run:
        trainer.fit(lightning_scenarios.module_class(pl)(), train, val)
    return run.info.run_id


def test_checkpoint_callback_on_a_lightning_pytorch_trainer(store: str) -> None:
    """The callback is a Callback of both Lightning packages, so lightning.pytorch's Trainer
    takes it too; it logs while autologging is off."""
    callback = mltrail.pytorch.MlflowModelCheckpointCallback(save_freq=8, save_weights_only=True)
    assert isinstance(callback, pl.Callback)
    assert autologging_is_disabled("pytorch")
    run_id = _checkpointed_run(callback)
    # best only: one file, replaced while val_loss improves (checked at steps 8 and 16)
    paths = {f.path for f in mltrail.MlflowClient().list_artifacts(run_id, "checkpoints")}
    assert paths == {
        "checkpoints/latest_checkpoint.weights.pth",
        "checkpoints/latest_checkpoint_metrics.json",
    }
    metrics = mltrail.artifacts.load_dict(
        f"runs:/{run_id}/checkpoints/latest_checkpoint_metrics.json"
    )
    assert metrics["global_step"] in (8, 16)
    assert set(metrics) >= {"val_loss", "epoch", "global_step"}
    # A strategy that spawns processes pickles the trainer with its callbacks.
    del callback.log, callback.log_dict  # the test module's, which is local
    copy = pickle.loads(pickle.dumps(callback))
    assert type(copy) is type(callback)
    assert copy.trainer is None
    assert {k: v for k, v in copy.__dict__.items() if k != "trainer"} == {
        k: v for k, v in callback.__dict__.items() if k != "trainer"
    }


def test_load_checkpoint(store: str) -> None:
    net = lightning_scenarios.module_class(pl)
    callback = mltrail.pytorch.MlflowModelCheckpointCallback(save_best_only=False)
    run_id = _checkpointed_run(callback)
    latest = mltrail.pytorch.load_checkpoint(net, run_id)
    first = mltrail.pytorch.load_checkpoint(net, run_id, epoch=0, kwargs={"lr": 0.5})
    assert isinstance(latest, net)
    assert first.hparams.lr == 0.5  # kwargs go to load_from_checkpoint
    assert lightning_scenarios.weights(latest) != lightning_scenarios.weights(first)
    # In the run itself (MLflow 3.17 reads the tag from the run as it was when it started,
    # and finds no checkpoint there).
    with mltrail.start_run(run_id=run_id):
        again = mltrail.pytorch.load_checkpoint(net)
    assert lightning_scenarios.weights(again) == lightning_scenarios.weights(latest)


def test_load_checkpoint_errors(store: str) -> None:
    net = lightning_scenarios.module_class(pl)
    with pytest.raises(mltrail.MlflowException, match="no active run"):
        mltrail.pytorch.load_checkpoint(net)
    with mltrail.start_run() as run:
        pass
    with pytest.raises(mltrail.MlflowException, match="has no logged checkpoint"):
        mltrail.pytorch.load_checkpoint(net, run.info.run_id)
    run_id = _checkpointed_run(mltrail.pytorch.MlflowModelCheckpointCallback(), epochs=1)
    with pytest.raises(mltrail.MlflowException, match="epoch or global_step, not both"):
        mltrail.pytorch.load_checkpoint(net, run_id, epoch=0, global_step=8)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"monitor": None}, "monitor must name one"),
        ({"mode": "lowest"}, "'min' or 'max'"),
        ({"save_freq": 0}, "save_freq 0"),
        ({"save_freq": "batch"}, "'epoch' or a positive"),
    ],
)
def test_checkpoint_callback_arguments(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(mltrail.MlflowException, match=message):
        mltrail.pytorch.MlflowModelCheckpointCallback(**arguments)
