"""Training metrics and plots of a fitted scikit-learn estimator, as MLflow's autologging
computes them on the training data.

Classifiers: ``{prefix}precision_score``, ``recall_score``, ``f1_score`` (weighted averages,
or binary for ``pos_label``), ``accuracy_score``, and with ``predict_proba`` ``log_loss`` and
``roc_auc`` (weighted one-vs-one); the plots ``{prefix}confusion_matrix.png`` and, for two
classes, ``roc_curve.png`` and ``precision_recall_curve.png`` (when matplotlib is installed;
drawn in the background, :mod:`._sklearn_plots`).  Regressors: ``mean_squared_error``,
``mean_absolute_error``, ``r2_score``, ``root_mean_squared_error``.  Any estimator with
labels: ``{prefix}score`` from its ``score``.  A metric or plot that cannot be computed is
left out with a warning.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn
import sklearn.base
import sklearn.metrics
from sklearn.utils import estimator_html_repr

from mltrail.tracking import _fluent
from mltrail.tracking.autolog._linked_metrics import log_linked_metrics
from mltrail.tracking.autolog._safety import log_warning
from mltrail.tracking.autolog._sklearn_plots import prepare as prepare_plots
from mltrail.tracking.autolog._sklearn_plots import submit as submit_plots

__all__ = ["TRAINING_PREFIX", "log_estimator_content"]

INTEGRATION = "sklearn"
TRAINING_PREFIX = "training_"

_Metric = tuple[str, Callable[..., Any], dict[str, Any]]


def _compute(metrics: list[_Metric]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, function, arguments in metrics:
        try:
            values[name] = function(**arguments)
        except Exception as exc:
            log_warning(
                INTEGRATION,
                f"{getattr(function, '__qualname__', name)} failed. The metric {name} will "
                f"not be recorded. Metric error: {exc}",
            )
    return values


def classifier_metrics(
    estimator: Any, prefix: str, X: Any, y: Any, sample_weight: Any, pos_label: Any
) -> dict[str, Any]:
    average = "weighted" if pos_label is None else "binary"
    y_pred = estimator.predict(X)
    common = {"y_true": y, "y_pred": y_pred, "sample_weight": sample_weight}
    by_label = {**common, "pos_label": pos_label, "average": average}
    metrics: list[_Metric] = [
        (prefix + "precision_score", sklearn.metrics.precision_score, by_label),
        (prefix + "recall_score", sklearn.metrics.recall_score, by_label),
        (prefix + "f1_score", sklearn.metrics.f1_score, by_label),
        (prefix + "accuracy_score", sklearn.metrics.accuracy_score, {**common, "normalize": True}),
    ]
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        # y_true and the probabilities by position: the latter's name changed in 1.9.
        metrics.append(
            (
                prefix + "log_loss",
                functools.partial(sklearn.metrics.log_loss, y, proba),
                {"sample_weight": sample_weight},
            )
        )
        score = proba[:, 1] if len(proba[0]) == 2 else proba
        metrics.append(
            (
                prefix + "roc_auc",
                sklearn.metrics.roc_auc_score,
                {
                    "y_true": y,
                    "y_score": score,
                    "average": "weighted",
                    "sample_weight": sample_weight,
                    "multi_class": "ovo",
                },
            )
        )
    return _compute(metrics)


def regressor_metrics(
    estimator: Any, prefix: str, X: Any, y: Any, sample_weight: Any
) -> dict[str, Any]:
    y_pred = estimator.predict(X)
    arguments = {
        "y_true": y,
        "y_pred": y_pred,
        "sample_weight": sample_weight,
        "multioutput": "uniform_average",
    }
    values = _compute(
        [
            (prefix + "mean_squared_error", sklearn.metrics.mean_squared_error, arguments),
            (prefix + "mean_absolute_error", sklearn.metrics.mean_absolute_error, arguments),
            (prefix + "r2_score", sklearn.metrics.r2_score, arguments),
        ]
    )
    # As MLflow: no RMSE (and no regressor metric at all) without the MSE.
    values[prefix + "root_mean_squared_error"] = np.sqrt(values[prefix + "mean_squared_error"])
    return values


def _estimator_html(estimator: Any) -> str:
    return f"""
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8"/>
  </head>
  <body>
    {estimator_html_repr(estimator)}
  </body>
</html>
    """


def log_estimator_content(
    run_id: str,
    estimator: Any,
    prefix: str,
    X: Any,
    y: Any,
    sample_weight: Any,
    pos_label: Any,
    *,
    model_id: str | None = None,
    dataset: Any = None,
) -> dict[str, Any]:
    """Log the metrics (and, for a classifier, the plots) of *estimator* on (X, y), its
    ``{prefix}score`` and ``estimator.html``; returns the metrics logged.  With *model_id*
    the metrics are linked to that logged model, measured on *dataset*."""
    metrics: dict[str, Any] = {}
    is_classifier = sklearn.base.is_classifier(estimator)
    if y is not None:
        try:
            if is_classifier:
                metrics = classifier_metrics(estimator, prefix, X, y, sample_weight, pos_label)
            elif sklearn.base.is_regressor(estimator):
                metrics = regressor_metrics(estimator, prefix, X, y, sample_weight)
        except Exception as exc:
            log_warning(
                INTEGRATION,
                f"Failed to autolog metrics for {type(estimator).__name__}. Logging error: {exc}",
            )
            metrics = {}
        else:
            log_linked_metrics(run_id, metrics, model_id=model_id, dataset=dataset)
    if is_classifier:
        try:
            job = prepare_plots(run_id, estimator, prefix, X, y, sample_weight)
            if job is not None:
                submit_plots(job)
        except Exception as exc:
            log_warning(
                INTEGRATION,
                f"Failed to autolog artifacts for {type(estimator).__name__}. Logging error: {exc}",
            )
    if hasattr(estimator, "score") and y is not None:
        try:
            takes_weight = "sample_weight" in inspect.signature(estimator.score).parameters
            score_args = (X, y, sample_weight) if takes_weight else (X, y)
            score = estimator.score(*score_args)
        except Exception as exc:
            log_warning(
                INTEGRATION,
                f"{type(estimator).__name__}.score failed. The '{prefix}score' metric will not "
                f"be recorded. Scoring error: {exc}",
            )
        else:
            log_linked_metrics(
                run_id, {prefix + "score": score}, model_id=model_id, dataset=dataset
            )
            metrics[prefix + "score"] = score
    _fluent.log_text(_estimator_html(estimator), "estimator.html", run_id=run_id)
    return metrics
