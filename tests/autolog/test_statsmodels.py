"""statsmodels autologging: what MLflow 3.17's ``mlflow.statsmodels.autolog`` records (fit's
arguments, the results' metrics, the summary, the model as a logged model), compared with the
same scenarios run under MLflow; training never broken by logging; disable restores."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sm = pytest.importorskip("statsmodels.api")

from statsmodels.base.model import LikelihoodModel  # noqa: E402
from statsmodels.regression.linear_model import RegressionModel  # noqa: E402
from tests._differential import record_both  # noqa: E402

import mltrail  # noqa: E402
import mltrail.statsmodels  # noqa: E402
from mltrail.tracking.autolog import _statsmodels  # noqa: E402
from mltrail.tracking.autolog._safety import is_patched  # noqa: E402

SCRIPT = Path(__file__).with_name("_statsmodels_scenario.py")
#: MLflow logs the ``**kwargs`` of ``fit`` as a param holding ``<class 'inspect._empty'>`` (the
#: signature's marker for "no default"); mltrail logs only real arguments (README, Autologging).
_EMPTY_KWARGS = {"kwargs": "<class 'inspect._empty'>"}


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = sm.add_constant(rng.normal(size=(40, 2)))
    return x, x @ np.array([1.0, 2.0, -1.0]) + rng.normal(size=40)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("mlflow")
    return record_both(SCRIPT, tmp_path_factory.mktemp("statsmodels-autolog"))


@pytest.fixture
def autolog(sqlite_uri: str) -> Iterator[None]:
    mltrail.set_tracking_uri(sqlite_uri)
    yield
    mltrail.statsmodels.autolog(disable=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario", ["ols", "logit", "glm", "wls_without_model", "exclusive_user_run", "user_run"]
)
def test_records_what_mlflow_records(recorded: dict[str, Any], scenario: str) -> None:
    theirs, ours = dict(recorded["mlflow"][scenario]), dict(recorded["mltrail"][scenario])
    their_params = dict(theirs.pop("params"))
    our_params = ours.pop("params")
    if their_params:
        assert their_params.pop("kwargs") == _EMPTY_KWARGS["kwargs"]
    assert our_params == their_params
    assert ours == theirs


@pytest.mark.slow
def test_scenario_details_match_mlflow(recorded: dict[str, Any]) -> None:
    theirs, ours = recorded["mlflow"], recorded["mltrail"]
    for key in (
        "ols_reloaded_predicts_the_same",
        "glm_version_source_is_the_logged_model",
        "user_run_still_active",
        "disabled_runs_started",
    ):
        assert ours[key] == theirs[key], key
    assert ours["ols_reloaded_predicts_the_same"] is True
    assert ours["disabled_runs_started"] == 0
    # What the scenarios show, beyond being equal.
    ols = ours["ols"]
    assert ols["tags"]["mlflow.autologging"] == "statsmodels"
    assert ols["artifacts"] == ["model_summary.txt"]
    assert set(ols["metrics"]) == set(_statsmodels.METRICS)
    [model] = ols["models"]
    assert model["name"] == "model"
    assert {key for key, _, linked in model["metrics"] if linked} == set(_statsmodels.METRICS)
    assert ours["glm"]["tags"]["team"] == "stats"
    assert ours["wls_without_model"]["models"] == []
    assert ours["exclusive_user_run"]["params"] == {}
    assert ours["logit"]["params"]["maxiter"] == "50"


def test_signature_is_mlflows() -> None:
    mlflow_statsmodels = pytest.importorskip("mlflow.statsmodels")
    theirs = inspect.signature(mlflow_statsmodels.autolog).parameters
    ours = inspect.signature(mltrail.statsmodels.autolog).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]


def test_a_logging_failure_does_not_break_the_fit(
    autolog: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("the artifact store is down")

    monkeypatch.setattr(_statsmodels, "log_statsmodels_model", broken)
    x, y = _data()
    expected = sm.OLS(y, x).fit().params
    mltrail.statsmodels.autolog()
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        results = sm.OLS(y, x).fit()
    np.testing.assert_array_equal(results.params, expected)
    assert any("the artifact store is down" in r.getMessage() for r in caplog.records)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"  # the training succeeded
    assert run.data.params["method"] == "pinv"  # logged before the failure


def test_a_metric_that_fails_is_named_and_the_others_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Results:
        aic = 1.5
        rsquared = True  # not numeric: left out

        @property
        def bic(self) -> float:
            raise ValueError("singular")

    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        assert _statsmodels.results_metrics(Results()) == {"aic": 1.5}
    assert [r.getMessage() for r in caplog.records] == ["Failed to autolog metrics: bic."]


def test_the_fit_a_fit_calls_logs_nothing_more(autolog: None) -> None:
    """``Logit.fit`` calls ``LikelihoodModel.fit``: both patched, one set of params."""
    x, y = _data()
    mltrail.statsmodels.autolog(log_models=False)
    with mltrail.start_run() as run:
        sm.Logit((y > 0).astype(float), x).fit(disp=0)
    params = mltrail.get_run(run.info.run_id).data.params
    assert params["method"] == "newton"
    assert "retall" not in params  # LikelihoodModel.fit's own argument


def test_disable_restores_statsmodels(autolog: None) -> None:
    before = (RegressionModel.__dict__["fit"], LikelihoodModel.__dict__["fit"])
    mltrail.statsmodels.autolog()
    assert is_patched(RegressionModel, "fit")
    assert is_patched(sm.Logit, "fit")
    assert "fit" not in sm.OLS.__dict__  # it inherits RegressionModel's, patched there
    mltrail.statsmodels.autolog(disable=True)
    assert (RegressionModel.__dict__["fit"], LikelihoodModel.__dict__["fit"]) == before
    assert not is_patched(sm.Logit, "fit")


def test_universal_autolog_includes_statsmodels(autolog: None) -> None:
    x, y = _data()
    mltrail.autolog(log_models=False)
    try:
        sm.OLS(y, x).fit()
    finally:
        mltrail.autolog(disable=True)
    run = mltrail.last_active_run()
    assert run is not None
    assert run.data.tags["mlflow.autologging"] == "statsmodels"
    assert "rsquared" in run.data.metrics
