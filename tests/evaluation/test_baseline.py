"""MLflow 2's ``evaluate`` arguments, kept so its scripts run unchanged: ``baseline_model``
(with ``baseline_config``), ``validation_thresholds`` and ``custom_metrics``.

MLflow 3 dropped them, so there is no differential here: the baseline's metrics are checked
against a separate evaluate of the baseline, and the validation messages are those of
``validate_evaluation_results`` (compared with MLflow's in test_differential.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

import mltrail
from mltrail.exceptions import InvalidArgument, MltrailError, ModelValidationFailedException
from mltrail.models import EvaluationResult, MetricThreshold, make_metric

COLUMNS = ["a", "b", "c"]
QUIET = {"log_model_explainability": False}


def _frame(rows: int = 200) -> pd.DataFrame:
    x = np.random.default_rng(3).normal(size=(rows, 3))
    noise = np.random.default_rng(4).normal(size=rows)
    return pd.DataFrame(x, columns=COLUMNS).assign(y=(x[:, 0] + 0.5 * noise > 0).astype(int))


def _logged(model: Any) -> str:
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
    return str(info.model_uri)


@pytest.fixture
def models(store: str) -> tuple[str, str]:
    """(a logistic regression's URI, a majority-class dummy's URI), both fitted on _frame()."""
    frame = _frame()
    good = LogisticRegression().fit(frame[COLUMNS], frame["y"])
    dummy = DummyClassifier(strategy="most_frequent").fit(frame[COLUMNS], frame["y"])
    return _logged(good), _logged(dummy)


def test_the_baseline_is_measured_not_logged_and_validated(models: tuple[str, str]) -> None:
    good, dummy = models
    frame = _frame()
    thresholds = {
        "accuracy_score": MetricThreshold(
            threshold=0.7, min_absolute_change=0.05, greater_is_better=True
        ),
        "log_loss": MetricThreshold(min_relative_change=0.1, greater_is_better=False),
    }
    with mltrail.start_run() as run:
        result = mltrail.evaluate(
            good,
            frame,
            targets="y",
            model_type="classifier",
            evaluator_config=QUIET,
            baseline_model=dummy,
            validation_thresholds=thresholds,
        )
    with mltrail.start_run():
        alone = mltrail.evaluate(
            dummy, frame, targets="y", model_type="classifier", evaluator_config=QUIET
        )
    assert result.baseline_model_metrics == pytest.approx(alone.metrics, nan_ok=True)
    assert result.baseline_model_metrics["accuracy_score"] < result.metrics["accuracy_score"]
    # Only the candidate's record is in the run.
    logged = mltrail.get_run(run.info.run_id).data.metrics
    assert logged == pytest.approx(result.metrics)
    files = {f.path for f in mltrail.MlflowClient().list_artifacts(run.info.run_id)}
    assert files == {f"{name}.png" for name in result.artifacts}
    # An evaluation without a baseline has none.
    assert alone.baseline_model_metrics is None


def test_a_candidate_that_is_not_better_fails_after_its_results_are_logged(
    models: tuple[str, str],
) -> None:
    good, dummy = models
    thresholds = {
        "accuracy_score": MetricThreshold(min_absolute_change=0.05, greater_is_better=True),
        "f1_score": MetricThreshold(threshold=0.0, greater_is_better=True),
    }
    with mltrail.start_run() as run, pytest.raises(ModelValidationFailedException) as failed:
        mltrail.evaluate(
            dummy,
            _frame(),
            targets="y",
            model_type="classifier",
            evaluator_config=QUIET,
            baseline_model=good,
            validation_thresholds=thresholds,
        )
    lines = str(failed.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "Metric accuracy_score minimum absolute change check failed: candidate model "
        "accuracy_score = "
    )
    # The results were logged before the check, as in MLflow 2.
    assert "accuracy_score" in mltrail.get_run(run.info.run_id).data.metrics


def test_thresholds_without_a_baseline(store: str) -> None:
    frame = _frame()
    model = LogisticRegression().fit(frame[COLUMNS], frame["y"])
    result = mltrail.evaluate(
        model.predict,
        frame,
        targets="y",
        model_type="classifier",
        evaluator_config=QUIET,
        validation_thresholds={"accuracy_score": MetricThreshold(0.6, greater_is_better=True)},
    )
    assert result.baseline_model_metrics is None
    with pytest.raises(
        ModelValidationFailedException,
        match="missing from the evaluation result of the baseline model",
    ):
        mltrail.evaluate(
            model.predict,
            frame,
            targets="y",
            model_type="classifier",
            evaluator_config=QUIET,
            validation_thresholds={
                "accuracy_score": MetricThreshold(min_absolute_change=0.1, greater_is_better=True)
            },
        )


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"validation_thresholds": {"accuracy_score": 0.8}}, "maps strings to MetricThreshold"),
        ({"baseline_model": 42}, "Invalid model of type int"),
        ({"baseline_model": "runs:/0123/none"}, "0123"),
    ],
)
def test_bad_baseline_arguments_are_refused_before_anything_is_logged(
    store: str, arguments: dict[str, Any], words: str
) -> None:
    frame = _frame()
    with pytest.raises(MltrailError, match=words):
        mltrail.evaluate(
            lambda df: (df["a"] > 0).astype(int),
            frame,
            targets="y",
            model_type="classifier",
            **arguments,
        )
    assert mltrail.search_runs(search_all_experiments=True).empty


def test_custom_metrics_is_mlflow_2s_name_for_extra_metrics(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    frame = _frame()
    ones = make_metric(
        eval_fn=lambda predictions, targets: float((predictions == 1).mean()),
        greater_is_better=True,
        name="ones",
    )
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        result = mltrail.evaluate(
            lambda df: (df["a"] > 0).astype(int),
            frame,
            targets="y",
            model_type="classifier",
            evaluator_config=QUIET,
            custom_metrics=[ones],
        )
    assert result.metrics["ones"] == pytest.approx(float((frame["a"] > 0).mean()))
    assert [r for r in caplog.records if "use extra_metrics" in r.getMessage()]
    with pytest.raises(InvalidArgument, match="not both"):
        mltrail.evaluate(
            lambda df: df["a"], frame, targets="y", extra_metrics=[ones], custom_metrics=[ones]
        )


def test_a_saved_result_keeps_its_baseline(models: tuple[str, str], tmp_path: Path) -> None:
    good, dummy = models
    with mltrail.start_run():
        result = mltrail.evaluate(
            good,
            _frame(),
            targets="y",
            model_type="classifier",
            evaluator_config=QUIET,
            baseline_model=dummy,
        )
    result.save(tmp_path / "saved")
    loaded = EvaluationResult.load(tmp_path / "saved")
    assert loaded.baseline_model_metrics == pytest.approx(result.baseline_model_metrics)
    assert loaded.metrics == pytest.approx(result.metrics)
