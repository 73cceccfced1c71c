"""MLflow's ``mlflow.metrics`` names for custom evaluation metrics: :class:`MetricValue`,
:func:`make_metric` and :class:`EvaluationMetric` (see :mod:`mltrail.evaluation`).

MLflow's built-in GenAI metric functions (``rouge1``, ``toxicity``, ...) are not provided.
"""

from __future__ import annotations

from mltrail.evaluation import EvaluationMetric, MetricValue, make_metric

__all__ = ["EvaluationMetric", "MetricValue", "make_metric"]
