"""Model evaluation: MLflow's ``evaluate`` for classifiers and regressors, model validation
against thresholds, and tables as run artifacts.

``mltrail.evaluate`` and ``mltrail.models.evaluate`` are :func:`evaluate`;
``mltrail.validate_evaluation_results``, ``mltrail.log_table`` and ``mltrail.load_table`` are
the functions of the same names here.  Importing this package loads no NumPy, pandas,
scikit-learn or Pillow: they are imported when an evaluation runs.
"""

from __future__ import annotations

from mltrail.evaluation import _validation as validation
from mltrail.evaluation._api import evaluate
from mltrail.evaluation._metric import EvaluationMetric, MetricValue, make_metric
from mltrail.evaluation._result import (
    CsvEvaluationArtifact,
    EvaluationArtifact,
    EvaluationResult,
    ImageEvaluationArtifact,
    JsonEvaluationArtifact,
    NumpyEvaluationArtifact,
    ParquetEvaluationArtifact,
    TextEvaluationArtifact,
)
from mltrail.evaluation._tables import load_table, log_table
from mltrail.evaluation._validation import (
    MetricThreshold,
    ModelValidationFailedException,
    validate_evaluation_results,
)

__all__ = [
    "CsvEvaluationArtifact",
    "EvaluationArtifact",
    "EvaluationMetric",
    "EvaluationResult",
    "ImageEvaluationArtifact",
    "JsonEvaluationArtifact",
    "MetricThreshold",
    "MetricValue",
    "ModelValidationFailedException",
    "NumpyEvaluationArtifact",
    "ParquetEvaluationArtifact",
    "TextEvaluationArtifact",
    "evaluate",
    "list_evaluators",
    "load_table",
    "log_table",
    "make_metric",
    "validate_evaluation_results",
    "validation",
]


def list_evaluators() -> list[str]:
    """The evaluators ``evaluate(..., evaluators=...)`` accepts (MLflow's built-in ones)."""
    return ["default", "classifier", "regressor", "shap"]
