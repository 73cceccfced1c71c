"""scikit-learn autologging in this process: runs it starts or joins, nested fits, failures
that never break training, ``silent``, ``exclusive``, ``disable`` restoring scikit-learn."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sklearn.metrics
import sklearn.model_selection
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
from mltrail.tracking.autolog import INTEGRATIONS, revert_patches

X, Y = load_iris(return_X_y=True)

#: (owner, attribute) pairs autologging replaces, looked at raw (descriptors unbound).
WATCHED = [
    (LogisticRegression, "fit"),
    (LogisticRegression, "predict"),
    (LogisticRegression, "score"),
    (Pipeline, "fit"),
    (Pipeline, "predict"),
    (Pipeline, "fit_transform"),
    (sklearn.metrics, "accuracy_score"),
    (sklearn.model_selection, "cross_val_score"),
]


def _raw(owner: Any, name: str) -> Any:
    return owner.__dict__.get(name, inspect.getattr_static(owner, name))


@pytest.fixture
def autolog(tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Turn sklearn autologging on (with the given options) against a SQLite store; off after."""
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'store.db'}")

    def enable(**options: Any) -> None:
        mltrail.sklearn.autolog(**options)

    yield enable
    mltrail.sklearn.autolog(disable=True)
    revert_patches("sklearn")


def _runs() -> list[Any]:
    mltrail.flush()
    client = mltrail.MlflowClient()
    return list(client.search_runs(["0"]))


def test_a_fit_without_an_active_run_gets_its_own_finished_run(autolog: Any) -> None:
    autolog()
    model = LogisticRegression(max_iter=300)
    assert model.fit(X, Y) is model
    assert mltrail.active_run() is None
    (run,) = _runs()
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.params["max_iter"] == "300"
    assert "training_accuracy_score" in run.data.metrics


def test_a_pipeline_logs_once_with_its_steps_params(autolog: Any) -> None:
    autolog(log_models=False)
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=300))]).fit(X, Y)
    (run,) = _runs()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["clf__max_iter"] == "300"
    assert run.data.params["scale__with_mean"] == "True"


def test_a_fit_in_an_active_run_logs_into_it_and_leaves_it_active(autolog: Any) -> None:
    autolog(log_models=False)
    with mltrail.start_run() as active:
        LogisticRegression(max_iter=300).fit(X, Y)
        assert mltrail.active_run() is not None
    (run,) = _runs()
    assert run.info.run_id == active.info.run_id
    assert "training_score" in run.data.metrics


def test_exclusive_leaves_the_users_run_alone(autolog: Any) -> None:
    autolog(exclusive=True, log_models=False)
    with mltrail.start_run():
        LogisticRegression(max_iter=300).fit(X, Y)
    (run,) = _runs()
    assert run.data.params == {}
    assert run.data.metrics == {}


def test_cross_validation_runs_unlogged(autolog: Any) -> None:
    autolog(log_models=False)
    sklearn.model_selection.cross_val_score(LogisticRegression(max_iter=300), X, Y, cv=2)
    assert _runs() == []


class _Unpicklable(LogisticRegression):  # type: ignore[misc]
    """A classifier holding a lock: it trains, but no serializer can save it."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        self.lock_ = threading.Lock()
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_model_that_cannot_be_saved_still_trains_and_warns(
    autolog: Any, caplog: pytest.LogCaptureFixture
) -> None:
    autolog()
    model = _Unpicklable(max_iter=300)
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        assert model.fit(X, Y) is model
    assert hasattr(model, "coef_")
    assert any("'model'" in r.getMessage() for r in caplog.records)
    (run,) = _runs()
    assert "training_score" in run.data.metrics  # the rest is still logged


def _refused_params_fit(caplog: pytest.LogCaptureFixture) -> tuple[LogisticRegression, Any]:
    """A fit whose logging fails: the active run already holds another value for a param."""
    model = LogisticRegression(max_iter=300)
    with caplog.at_level(logging.DEBUG, logger="mltrail.autolog"), mltrail.start_run():
        mltrail.log_param("C", "another value")
        result = model.fit(X, Y)
    return model, result


def test_a_failure_while_logging_never_breaks_training(
    autolog: Any, caplog: pytest.LogCaptureFixture
) -> None:
    autolog(log_models=False)
    model, result = _refused_params_fit(caplog)
    assert result is model
    assert hasattr(model, "coef_")
    assert any("autologging (sklearn) failed" in r.getMessage() for r in caplog.records)
    (run,) = _runs()
    assert "training_score" not in run.data.metrics  # nothing more was logged


def test_silent_prints_nothing(
    autolog: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    autolog(silent=True, log_models=False)
    model, result = _refused_params_fit(caplog)
    assert result is model
    assert hasattr(model, "coef_")
    assert [r for r in caplog.records if r.name.startswith("mltrail")] == []
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""
    (run,) = _runs()
    assert "training_score" not in run.data.metrics  # logging did fail


def test_disable_restores_scikit_learn_exactly(autolog: Any) -> None:
    before = [_raw(owner, name) for owner, name in WATCHED]
    in_dicts = [name in vars(owner) for owner, name in WATCHED]
    autolog()
    assert all(_raw(o, n) is not b for (o, n), b in zip(WATCHED, before, strict=True))
    mltrail.sklearn.autolog(disable=True)
    assert [_raw(owner, name) for owner, name in WATCHED] == before
    assert [name in vars(owner) for owner, name in WATCHED] == in_dicts
    # available_if still answers as scikit-learn's own descriptor does
    assert not hasattr(Pipeline([("scale", StandardScaler())]), "predict")
    LogisticRegression(max_iter=300).fit(X, Y)
    assert _runs() == []


def test_available_if_methods_keep_their_hasattr_answer_while_patched(autolog: Any) -> None:
    autolog(log_models=False)
    transformer_only = Pipeline([("scale", StandardScaler())])
    assert not hasattr(transformer_only, "predict")
    assert hasattr(transformer_only, "fit_transform")
    assert transformer_only.fit_transform(X).shape == X.shape
    (run,) = _runs()
    assert run.data.tags["estimator_name"] == "Pipeline"


def test_logs_to_a_tracking_server(tracking_server: Any, autolog: Any) -> None:
    mltrail.set_tracking_uri(tracking_server.url)
    autolog(log_models=False)
    LogisticRegression(max_iter=300).fit(X, Y)
    (run,) = _runs()
    assert run.data.params["max_iter"] == "300"
    assert "training_f1_score" in run.data.metrics


def test_a_negative_max_tuning_runs_is_refused() -> None:
    with pytest.raises(mltrail.exceptions.MlflowException, match="max_tuning_runs"):
        mltrail.sklearn.autolog(max_tuning_runs=-1)


@pytest.mark.parametrize("store", ["postgres_uri", "mysql_uri"])
def test_logs_to_the_sql_databases(
    request: pytest.FixtureRequest, store: str, autolog: Any
) -> None:
    mltrail.set_tracking_uri(request.getfixturevalue(store))
    autolog()
    LogisticRegression(max_iter=300).fit(X, Y)
    (run,) = _runs()
    assert run.info.status == "FINISHED"
    assert run.data.params["max_iter"] == "300"
    assert "training_f1_score" in run.data.metrics
    client = mltrail.MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "training_confusion_matrix.png" in artifacts
    (output,) = run.outputs.model_outputs
    model = client.get_logged_model(output.model_id)
    assert model.name == "model"
    assert str(model.status) == "READY"
    assert "MLmodel" in {a.path for a in client.list_logged_model_artifacts(model.model_id)}


def test_an_untested_version_is_left_alone_when_asked(
    monkeypatch: pytest.MonkeyPatch, autolog: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """disable_for_unsupported_versions: scikit-learn outside the tested range is not patched
    (with a warning saying why); without it, it is patched, with a warning that it is untested."""
    untested = dataclasses.replace(INTEGRATIONS["sklearn"], tested=("0.1.0", "0.2.0"))
    monkeypatch.setitem(INTEGRATIONS, "sklearn", untested)
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        autolog(disable_for_unsupported_versions=True, log_models=False)
    assert "outside the tested versions 0.1.0 to 0.2.0" in caplog.text
    LogisticRegression(max_iter=300).fit(X, Y)
    assert _runs() == []
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        autolog(log_models=False)
    assert "tested with scikit-learn 0.1.0 to 0.2.0" in caplog.text
    LogisticRegression(max_iter=300).fit(X, Y)
    assert len(_runs()) == 1
