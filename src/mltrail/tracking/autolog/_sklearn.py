"""scikit-learn autologging: which calls are patched, and when a patched call logs.

As MLflow's ``mlflow.sklearn.autolog``:

- ``fit``, ``fit_transform`` and ``fit_predict`` of every estimator of
  ``sklearn.utils.all_estimators()`` (with ``Pipeline``, ``GridSearchCV`` and
  ``RandomizedSearchCV``), except the data-preparation ones (``sklearn.preprocessing``,
  ``impute``, ``feature_extraction``, ``feature_selection`` and ``ColumnTransformer``), which
  log only as steps of a pipeline.  Only the outermost ``fit`` logs (:mod:`._sklearn_fit`): a
  pipeline's steps and a search's candidates are part of it.
- with ``log_post_training_metrics``: ``predict``, ``predict_proba``, ``predict_log_proba``,
  ``transform`` and ``score`` of those estimators and the metric functions of
  ``sklearn.metrics`` (:mod:`._sklearn_post_training`).
- ``cross_validate``, ``cross_val_score``, ``cross_val_predict``, ``learning_curve``,
  ``permutation_test_score`` and ``validation_curve`` run with autologging off.

The session of the outermost patched call (:func:`active_session`) carries two flags of this
integration: ``sklearn.fitting`` while a fit logs (nested fits and the metric calls of training
do not log) and ``sklearn.quiet`` while a post-training call runs (the calls it makes do not).
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import sklearn
import sklearn.metrics
import sklearn.model_selection
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import all_estimators

from mltrail.data import CodeDatasetSource
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._safety import active_session, log_warning, safe_patch
from mltrail.tracking.autolog._sklearn_fit import log_fit, make_dataset
from mltrail.tracking.autolog._sklearn_metric_calls import patch_metric_functions
from mltrail.tracking.autolog._sklearn_post_training import FITTING as _FITTING
from mltrail.tracking.autolog._sklearn_post_training import QUIET as _QUIET
from mltrail.tracking.autolog._sklearn_post_training import (
    call_command,
    dataset_for_prediction,
    is_loggable,
    log_metric_call,
    logged_model_of,
    register_model,
    register_prediction,
    run_of,
)
from mltrail.tracking.autolog._sklearn_post_training import flag as _flag
from mltrail.tracking.autolog._sklearn_post_training import post_training_off as _post_training_off

__all__ = ["estimators_to_patch", "patch"]

INTEGRATION = "sklearn"
FIT_METHODS = ("fit", "fit_transform", "fit_predict")
PREDICT_METHODS = ("predict", "predict_proba", "transform", "predict_log_proba")
EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
EXCLUDED_CLASSES = (ColumnTransformer,)
META_ESTIMATORS = (GridSearchCV, RandomizedSearchCV, Pipeline)
#: Functions of sklearn.model_selection during which nothing is autologged.
AUTOLOGGING_OFF = (
    "cross_validate",
    "cross_val_predict",
    "cross_val_score",
    "learning_curve",
    "permutation_test_score",
    "validation_curve",
)


def _option(key: str, default: Any = None) -> Any:
    return get_autologging_config(INTEGRATION, key, default)


_estimators_lock = threading.Lock()
_estimators: list[type] | None = None


def estimators_to_patch() -> list[type]:
    """The estimator classes whose training calls are patched (computed once: listing every
    estimator imports all of scikit-learn)."""
    global _estimators
    with _estimators_lock:
        if _estimators is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = {cls for _, cls in all_estimators()}
            found.update(META_ESTIMATORS)
            _estimators = sorted(
                (
                    cls
                    for cls in found
                    if not cls.__module__.startswith(EXCLUDED_MODULES)
                    and not any(cls is excluded for excluded in EXCLUDED_CLASSES)
                ),
                key=lambda cls: (cls.__module__, cls.__qualname__),
            )
        return list(_estimators)


# -- training ----------------------------------------------------------------------------------
def _patched_fit(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    session = active_session()
    if session is None or session.state.get(_FITTING):
        return original(self, *args, **kwargs)  # a step or a candidate of the logging fit
    post_training = bool(_option("log_post_training_metrics", True)) and not session.state.get(
        _QUIET
    )
    with _flag(session, _FITTING):
        result, model_id = log_fit(original, self, args, kwargs)
    if post_training:
        active = _fluent.active_run()
        if active is not None:
            register_model(self, active.info.run_id, model_id)
    return result


def _patched_autologging_off(original: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    session = active_session()
    if session is None:
        return original(*args, **kwargs)
    # The framework lets every patched call nested in a session marked failed run unlogged.
    was_failed, session.failed = session.failed, True
    try:
        return original(*args, **kwargs)
    finally:
        session.failed = was_failed


# -- post-training metrics ---------------------------------------------------------------------
def _first_argument(
    bound: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if args:
        return args[0]
    names = list(inspect.signature(bound).parameters)
    return kwargs.get(names[0]) if names else None


_logged_eval_datasets: set[tuple[str, str, str]] = set()


def _log_eval_dataset(run_id: str, data: Any) -> None:
    try:
        dataset = make_dataset(data, CodeDatasetSource.from_current_code())
        if dataset is None:
            return
        key = (run_id, dataset.name, dataset.digest)
        if key in _logged_eval_datasets:
            return  # the store would keep one anyway
        _fluent.log_input(dataset, context="eval", run_id=run_id)
        _logged_eval_datasets.add(key)
    except Exception as exc:
        log_warning(
            INTEGRATION,
            f"Failed to log evaluation dataset information to MLflow Tracking. Reason: {exc}",
        )


def _patched_predict(
    method: str, original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any
) -> Any:
    run_id = run_of(self)
    session = active_session()
    if run_id is None or session is None or _post_training_off(session):
        return original(self, *args, **kwargs)
    with _flag(session, _QUIET):
        result = original(self, *args, **kwargs)
    data = _first_argument(getattr(self, method), args, kwargs)
    register_prediction(result, dataset_for_prediction(self, run_id, data), run_id, self)
    if _option("log_datasets", True):
        _log_eval_dataset(run_id, data)
    return result


def _patched_score(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    run_id = run_of(self)
    session = active_session()
    if run_id is None or session is None or _post_training_off(session):
        return original(self, *args, **kwargs)
    with _flag(session, _QUIET):
        value = original(self, *args, **kwargs)
    if is_loggable(value):
        name = type(self).__name__
        bound = self.score
        command = call_command(bound, f"{name}.score", args, kwargs)
        dataset = dataset_for_prediction(self, run_id, _first_argument(bound, args, kwargs))
        log_metric_call(run_id, f"{name}_score", dataset, command, value, logged_model_of(self))
    return value


# -- patching ----------------------------------------------------------------------------------
def patch(framework_module: ModuleType) -> None:
    """Patch scikit-learn (called by the framework once ``sklearn`` is imported)."""
    del framework_module
    post_training = bool(_option("log_post_training_metrics", True))
    for cls in estimators_to_patch():
        for method in FIT_METHODS:
            if hasattr(cls, method):
                safe_patch(INTEGRATION, cls, method, _patched_fit, manage_run=True)
        if not post_training:
            continue
        for method in PREDICT_METHODS:
            if hasattr(cls, method):
                safe_patch(INTEGRATION, cls, method, functools.partial(_patched_predict, method))
        if hasattr(cls, "score"):
            safe_patch(INTEGRATION, cls, "score", _patched_score)
    if post_training:
        patch_metric_functions(INTEGRATION)
    for name in AUTOLOGGING_OFF:
        if hasattr(sklearn.model_selection, name):
            safe_patch(INTEGRATION, sklearn.model_selection, name, _patched_autologging_off)
