"""scikit-learn's metric functions after an autologged fit: ``accuracy_score(y_test,
model.predict(X_test))`` is logged to the model's run as ``accuracy_score_X_test`` (see
:mod:`._sklearn_post_training` for the naming rules).

Patched by the scikit-learn integration and, for their scikit-learn API's models, by XGBoost's
and LightGBM's (as MLflow's do); the logging is the same whichever patch runs.  Calls made
while a fit or another metric runs (a search scoring its candidates) are not logged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import sklearn.metrics

from mltrail.tracking.autolog._safety import active_session, safe_patch
from mltrail.tracking.autolog._sklearn_post_training import (
    QUIET,
    call_command,
    flag,
    is_loggable,
    log_metric_call,
    post_training_off,
    prediction_source,
)

__all__ = ["metric_functions", "patch_metric_functions"]

#: Functions of sklearn.metrics that are not metrics.
NOT_METRICS = frozenset({"check_scoring", "get_scorer", "make_scorer", "get_scorer_names"})


def metric_functions() -> dict[str, Callable[..., Any]]:
    """The metric functions of ``sklearn.metrics`` (no classes, scorer helpers or plots)."""
    functions: dict[str, Callable[..., Any]] = {}
    for name in sklearn.metrics.__all__:
        value = getattr(sklearn.metrics, name, None)
        if (
            name not in NOT_METRICS
            and not name.startswith("plot_")
            and not inspect.isclass(value)
            and callable(value)
        ):
            functions[name] = value
    return functions


def _patched_metric(
    name: str,
    function: Callable[..., Any],
    original: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    session = active_session()
    if post_training_off(session):
        return original(*args, **kwargs)
    assert session is not None
    with flag(session, QUIET):
        value = original(*args, **kwargs)
    if is_loggable(value):
        source = prediction_source(args, kwargs)
        if source is not None:
            dataset, run_id, model_id = source
            command = call_command(function, name, args, kwargs)
            log_metric_call(run_id, name, dataset, command, value, model_id)
    return value


def patch_metric_functions(integration: str) -> None:
    """Patch every metric function of ``sklearn.metrics`` for *integration*."""
    for name, function in metric_functions().items():
        safe_patch(
            integration, sklearn.metrics, name, functools.partial(_patched_metric, name, function)
        )
