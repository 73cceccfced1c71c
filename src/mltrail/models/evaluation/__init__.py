"""MLflow's ``mlflow.models.evaluation`` module: the names of :mod:`mltrail.evaluation`, which
sits above the models layer (it logs to runs), under MLflow's import path, so that
``from mltrail.models.evaluation import EvaluationResult`` works as MLflow's does.  Importing
``mltrail.models`` does not import this module."""

from __future__ import annotations

from mltrail.evaluation import (
    EvaluationArtifact,
    EvaluationMetric,
    EvaluationResult,
    MetricThreshold,
    evaluate,
    list_evaluators,
    make_metric,
)
from mltrail.models.evaluation import validation

__all__ = [
    "EvaluationArtifact",
    "EvaluationMetric",
    "EvaluationResult",
    "MetricThreshold",
    "evaluate",
    "list_evaluators",
    "make_metric",
    "validation",
]
