"""MLflow's ``mlflow.models.evaluation.validation`` module: model validation's names
(:mod:`mltrail.evaluation`) under MLflow's import path."""

from __future__ import annotations

from mltrail.evaluation import (
    MetricThreshold,
    ModelValidationFailedException,
    validate_evaluation_results,
)

__all__ = ["MetricThreshold", "ModelValidationFailedException", "validate_evaluation_results"]
