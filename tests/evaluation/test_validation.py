"""``MetricThreshold`` and ``validate_evaluation_results`` on results made here (the same checks
against MLflow's own messages are in test_differential.py)."""

from __future__ import annotations

from typing import Any

import pytest

import mltrail
from mltrail.exceptions import BadRequest, InvalidArgument, ModelValidationFailedException
from mltrail.models import EvaluationResult, MetricThreshold


def _result(**metrics: Any) -> EvaluationResult:
    return EvaluationResult(metrics, {})


def _failure(thresholds: dict[str, MetricThreshold], candidate: Any, baseline: Any = None) -> str:
    with pytest.raises(ModelValidationFailedException) as error:
        mltrail.validate_evaluation_results(thresholds, candidate, baseline)
    assert error.value.error_code == "BAD_REQUEST"
    return str(error.value)


def test_passing_thresholds_raise_nothing() -> None:
    thresholds = {
        "accuracy_score": MetricThreshold(threshold=0.8, greater_is_better=True),
        "log_loss": MetricThreshold(
            threshold=0.5, min_absolute_change=0.05, greater_is_better=False
        ),
        "r2_score": MetricThreshold(min_relative_change=0.1, greater_is_better=True),
    }
    candidate = _result(accuracy_score=0.9, log_loss=0.3, r2_score=-0.5)
    baseline = _result(accuracy_score=0.5, log_loss=0.4, r2_score=-1.0)
    assert mltrail.validate_evaluation_results(thresholds, candidate, baseline) is None


def test_every_failure_is_listed_and_no_pass() -> None:
    thresholds = {
        "accuracy_score": MetricThreshold(threshold=0.95, greater_is_better=True),
        "precision_score": MetricThreshold(threshold=0.5, greater_is_better=True),
        "log_loss": MetricThreshold(min_absolute_change=0.2, greater_is_better=False),
        "f1_score": MetricThreshold(min_relative_change=0.5, greater_is_better=True),
        "roc_auc": MetricThreshold(threshold=0.5, greater_is_better=True),
    }
    candidate = _result(accuracy_score=0.9, precision_score=0.7, log_loss=0.3, f1_score=0.6)
    baseline = _result(accuracy_score=0.5, log_loss=0.4, f1_score=0.5)
    lines = _failure(thresholds, candidate, baseline).splitlines()
    assert lines == [
        "Metric accuracy_score value threshold check failed: candidate model accuracy_score "
        "= 0.9, accuracy_score threshold = 0.95.",
        "Metric log_loss minimum absolute change check failed: candidate model log_loss = 0.3, "
        "baseline model log_loss = 0.4, log_loss minimum absolute change threshold = 0.2.",
        "Metric f1_score minimum relative change check failed: candidate model f1_score = 0.6, "
        "baseline model f1_score = 0.5, f1_score minimum relative change threshold = 0.5.",
        "Metric validation failed: metric roc_auc was missing from the evaluation result of the "
        "candidate model.",
    ]


def test_a_zero_baseline_asks_only_for_a_better_value() -> None:
    thresholds = {"errors": MetricThreshold(min_relative_change=0.5, greater_is_better=False)}
    mltrail.validate_evaluation_results(thresholds, _result(errors=-1), _result(errors=0))
    message = _failure(thresholds, _result(errors=0), _result(errors=0))
    assert "errors minimum relative change check failed" in message


def test_change_thresholds_need_a_baseline() -> None:
    thresholds = {"mae": MetricThreshold(min_absolute_change=0.1, greater_is_better=False)}
    message = _failure(thresholds, _result(mae=1.0))
    assert message == (
        "Model comparison failed: metric mae was missing from the evaluation result of the "
        "baseline model."
    )


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        (
            {"threshold": "high", "greater_is_better": True},
            "`threshold` parameter must be a number",
        ),
        ({"min_absolute_change": -1, "greater_is_better": True}, "must be a positive number"),
        ({"min_relative_change": 1, "greater_is_better": True}, "floating point number"),
        ({"min_relative_change": 1.5, "greater_is_better": True}, "between 0 and 1"),
        ({"threshold": 1}, "`greater_is_better` parameter must be defined"),
        ({"threshold": 1, "greater_is_better": "yes"}, "must be a boolean"),
        ({"greater_is_better": True}, "no threshold was specified"),
    ],
)
def test_bad_thresholds_are_refused(kwargs: dict[str, Any], rule: str) -> None:
    with pytest.raises(InvalidArgument, match="Could not instantiate MetricThreshold class") as e:
        MetricThreshold(**kwargs)
    assert rule in str(e.value)


def test_thresholds_must_map_names_to_metric_thresholds() -> None:
    with pytest.raises(InvalidArgument, match="maps strings to MetricThreshold objects"):
        mltrail.validate_evaluation_results({"acc": 0.5}, _result(acc=1.0))  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument, match="candidate_result of type dict"):
        mltrail.validate_evaluation_results(
            {"acc": MetricThreshold(threshold=0.5, greater_is_better=True)},
            {"acc": 1.0},  # type: ignore[arg-type]
        )


def test_the_exception_is_where_mlflow_has_it() -> None:
    assert issubclass(ModelValidationFailedException, BadRequest)
    assert mltrail.evaluation.validation.ModelValidationFailedException is (
        ModelValidationFailedException
    )
    assert str(MetricThreshold(threshold=1, min_relative_change=0.2, greater_is_better=False)) == (
        "Threshold: 1. Minimum Relative Change: 0.2. Lower value is better."
    )
