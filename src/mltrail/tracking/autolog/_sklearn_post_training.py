"""Post-training metrics: ``sklearn.metrics`` calls and ``model.score`` on other data after an
autologged ``fit`` are logged to that fit's run, as MLflow's sklearn autologging does.

How a metric finds its run and its name (MLflow's rules):

- an autologged ``fit`` registers the estimator with its run;
- ``predict`` (``predict_proba``, ``transform``, ...) of a registered estimator registers its
  result object with the run and the name of the variable holding the input data, found in
  the calling code (``X_test``; ``unknown_dataset`` when there is none); another object under
  a name already seen gets ``-2``, ``-3``, ... appended;
- the metric is linked to the logged model the fit logged (as MLflow 3 does);
- a metric function called with such a result is logged as ``{function}_{dataset}``, e.g.
  ``accuracy_score_X_test``; ``model.score(X, y)`` as ``{EstimatorClass}_score_{dataset}``;
  the n-th call of the same metric on a run gets ``-n`` after the metric name
  (``accuracy_score-2_X_test``);
- each logged call is recorded as ``metric_info.json`` (metric key -> the call, with the
  callers' variable names for its data arguments).

Everything is keyed by object ids (numpy arrays may not take attributes), with finalizers
forgetting an id when its object goes away.  Only ids, names and run ids are held: never the
user's data or models.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import numpy as np

from mltrail.tracking import _fluent
from mltrail.tracking.autolog._linked_metrics import log_linked_metrics
from mltrail.tracking.autolog._safety import AutologSession

__all__ = [
    "FITTING",
    "QUIET",
    "call_command",
    "dataset_for_prediction",
    "flag",
    "forget_all",
    "is_loggable",
    "log_metric_call",
    "logged_model_of",
    "post_training_off",
    "register_model",
    "register_prediction",
    "run_of",
    "variable_name",
]

#: Session flags: a logging fit is running (its steps and candidates log nothing) ...
FITTING = "sklearn.fitting"
#: ... a prediction, score or metric is running (what it calls inside is not logged).
QUIET = "sklearn.quiet"

_lock = threading.Lock()
# id(estimator) -> (run id of the autologged fit that trained it, id of its logged model)
_model_runs: dict[int, tuple[str, str | None]] = {}
# id(prediction result) -> (dataset name, run id, logged model id)
_predictions: dict[int, tuple[str, str, str | None]] = {}
# run id -> dataset variable name -> ids of the distinct objects seen under that name
_datasets: defaultdict[str, defaultdict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
# run id -> metric name -> [(metric key, call command)]
_calls: defaultdict[str, defaultdict[str, list[tuple[str, str]]]] = defaultdict(
    lambda: defaultdict(list)
)

_OWN_MODULE_PREFIX = "mltrail.tracking.autolog"


def forget_all() -> None:
    """Forget every registration (autologging was turned off)."""
    with _lock:
        _model_runs.clear()
        _predictions.clear()
        _datasets.clear()
        _calls.clear()


def _forget(mapping: dict[int, Any], key: int) -> None:
    with _lock:
        mapping.pop(key, None)


def register_model(model: Any, run_id: str, model_id: str | None = None) -> None:
    """*model* was trained by the autologged fit of run *run_id* (and logged as *model_id*)."""
    key = id(model)
    with _lock:
        _model_runs[key] = (run_id, model_id)
    # Without weak references to it, the id stays (as MLflow's attribute on the model does).
    with contextlib.suppress(TypeError):
        weakref.finalize(model, _forget, _model_runs, key)


def run_of(model: Any) -> str | None:
    with _lock:
        entry = _model_runs.get(id(model))
    return None if entry is None else entry[0]


def logged_model_of(model: Any) -> str | None:
    """The id of the logged model the autologged fit of *model* made (None: none)."""
    with _lock:
        entry = _model_runs.get(id(model))
    return None if entry is None else entry[1]


def with_index(name: str, index: int) -> str:
    """``name`` for the first, ``name-2``, ``name-3``... after ('-' is no identifier's)."""
    return name if index == 0 else f"{name}-{index + 1}"


def variable_name(value: Any, fallback: str) -> str:
    """The name of the variable holding *value* in the code that called into scikit-learn.

    Walks up from the caller, past autologging's own frames and the frames that received
    *value* as an argument, to the first frame that did not: the name bound to *value* there.
    """
    if value is None:
        return fallback
    try:
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if str(frame.f_globals.get("__name__", "")).startswith(_OWN_MODULE_PREFIX):
                frame = frame.f_back
                continue
            if _is_argument_of(frame, value):
                frame = frame.f_back
                continue
            for name, bound in frame.f_locals.items():
                if bound is value:
                    return str(name)
            return fallback
        return fallback
    except Exception:  # introspection is best effort
        return fallback


def _is_argument_of(frame: FrameType, value: Any) -> bool:
    info = inspect.getargvalues(frame)
    local = info.locals
    values: list[Any] = [local[name] for name in info.args if name in local]
    if info.varargs and info.varargs in local:
        values.extend(local[info.varargs])
    if info.keywords and info.keywords in local:
        values.extend(local[info.keywords].values())
    return any(v is value for v in values)


def dataset_for_prediction(model: Any, run_id: str, data: Any) -> str:
    """The name under which *data*, given to *model* of *run_id*, is recorded."""
    name = variable_name(data, "unknown_dataset")
    key = id(data)
    with _lock:
        seen = _datasets[run_id][name]
        if key not in seen:
            seen.append(key)
        return with_index(name, seen.index(key))


def register_prediction(result: Any, dataset_name: str, run_id: str, model: Any = None) -> None:
    """*result* was predicted by *model* (trained in *run_id*) on the data *dataset_name*."""
    key = id(result)
    model_id = None if model is None else logged_model_of(model)  # takes the lock itself
    with _lock:
        _predictions[key] = (dataset_name, run_id, model_id)
    try:
        weakref.finalize(result, _forget, _predictions, key)
    except TypeError:
        # No weak reference to it (a list, a tuple): its id could be reused by another object
        # once it is gone, so it is not tracked.
        _forget(_predictions, key)


def prediction_source(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str, str, str | None] | None:
    """(dataset name, run id, logged model id) of the first argument that is a registered
    prediction."""
    with _lock:
        if not _predictions:
            return None
        for arg in (*args, *kwargs.values()):
            if arg is not None and not np.isscalar(arg) and id(arg) in _predictions:
                return _predictions[id(arg)]
    return None


def is_loggable(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def call_command(
    function: Callable[..., Any],
    display_name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    skip_first: bool = False,
) -> str:
    """``display_name(arg=value, ...)``: scalars as their repr (long strings cut at 32
    characters), data as the caller's variable name (``<ndarray>`` when it has none)."""

    def show(value: Any) -> str:
        if value is None or np.isscalar(value):
            if isinstance(value, str) and len(value) > 32:
                return repr(value[:32] + "...")
            return repr(value)
        return variable_name(value, f"<{type(value).__name__}>")

    names = list(inspect.signature(function).parameters)
    if skip_first:
        names = names[1:]
    parts = [f"{name}={show(value)}" for name, value in zip(names, args, strict=False)]
    parts.extend(f"{name}={show(value)}" for name, value in kwargs.items())
    return f"{display_name}({', '.join(parts)})"


def log_metric_call(
    run_id: str,
    metric_name: str,
    dataset_name: str,
    command: str,
    value: Any,
    model_id: str | None = None,
) -> None:
    """Log *value* as the next call of *metric_name* on *dataset_name* to *run_id* (linked to
    the logged model *model_id*), and rewrite the run's ``metric_info.json``."""
    with _lock:
        calls = _calls[run_id][metric_name]
        key = f"{with_index(metric_name, len(calls))}_{dataset_name}"
        calls.append((key, command))
        info = dict(sorted(c for per_metric in _calls[run_id].values() for c in per_metric))
    log_linked_metrics(run_id, {key: value}, model_id=model_id)
    _fluent.log_dict(info, "metric_info.json", run_id=run_id)


@contextlib.contextmanager
def flag(session: AutologSession, key: str) -> Iterator[None]:
    old = session.state.get(key, False)
    session.state[key] = True
    try:
        yield
    finally:
        session.state[key] = old


def post_training_off(session: AutologSession | None) -> bool:
    return session is None or bool(session.state.get(FITTING) or session.state.get(QUIET))
