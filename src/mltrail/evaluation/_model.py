"""The model ``evaluate`` calls: a model URI, a loaded pyfunc model, a function, or None.

For a scikit-learn, XGBoost or CatBoost model loaded as a pyfunc model the native model is
called, as MLflow does: its ``predict_proba`` gives class probabilities and, for scikit-learn,
its ``score`` method MLflow's ``score`` metric.  A function gives predictions only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mltrail._exceptions import InvalidArgument, MissingDependency
from mltrail.evaluation._data import EvalData
from mltrail.pyfunc import PyFuncModel, load_model

__all__ = [
    "Model",
    "as_column",
    "call_model",
    "check_env_manager",
    "model_score",
    "resolve_model",
]

_ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")
#: Loader modules whose native model ``evaluate`` calls directly (``predict_proba``, ``score``).
_NATIVE_LOADERS = ("mlflow.sklearn", "mlflow.xgboost", "mlflow.catboost")
_logger = logging.getLogger("mltrail")


@dataclass
class Model:
    """How predictions are made: ``predict`` and, for native classifiers, ``predict_proba``."""

    predict: Callable[[Any], Any] | None
    predict_proba: Callable[[Any], Any] | None = None
    native: Any = None
    model_uuid: str | None = None
    #: MLflow's ``score`` metric comes from scikit-learn models' own ``score`` method only.
    scorable: bool = False
    #: Predicting in its own environment (a non-local ``env_manager``): ``predict`` only.
    served: bool = False


def check_env_manager(model: Any, env_manager: str) -> None:
    """MLflow's rules: a known manager, and a model URI for any manager but ``local``."""
    if env_manager not in _ENV_MANAGERS:
        raise InvalidArgument(
            f"Invalid env_manager {env_manager!r}: must be one of {', '.join(_ENV_MANAGERS)}"
        )
    if env_manager != "local" and not isinstance(model, str):
        raise InvalidArgument(
            "The model argument must be a string URI referring to a model when a non-local "
            "env_manager is specified."
        )


def resolve_model(model: Any, model_config: Any) -> Model:
    """The model as this process loads it (``env_manager='local'``)."""
    if isinstance(model, str):
        model = load_model(model, model_config=model_config)
    elif model_config is not None:
        raise InvalidArgument(
            "Invalid model_config: it applies to a model URI that evaluate loads; load a model "
            "yourself with mltrail.pyfunc.load_model(uri, model_config=...)"
        )
    if isinstance(model, PyFuncModel):
        uuid = model.metadata.model_uuid
        if model.loader_module in _NATIVE_LOADERS:
            native = model.get_raw_model()
            proba = getattr(native, "predict_proba", None)
            return Model(
                native.predict,
                proba if callable(proba) else None,
                native,
                uuid,
                scorable=model.loader_module == "mlflow.sklearn",
            )
        return Model(model.predict, model_uuid=uuid)
    if model is None:
        return Model(None)
    if callable(model):
        return Model(model)
    hint = (
        " (pass its predict method: model=estimator.predict)" if hasattr(model, "predict") else ""
    )
    raise InvalidArgument(
        f"Invalid model of type {type(model).__name__}: the model argument must be a model URI, "
        f"a model loaded with mltrail.pyfunc.load_model, a function, or None{hint}"
    )


def as_column(output: Any, name: str | None, rows: int, what: str) -> Any:
    """A model's output as one 1-D array (a DataFrame's or dict's *name* column)."""
    import numpy as np
    import pandas as pd

    if isinstance(output, dict):
        output = pd.DataFrame(output)
    if isinstance(output, pd.DataFrame):
        if name is not None and name in output.columns:
            output = output[name]
        elif len(output.columns) == 1:
            output = output.iloc[:, 0]
        else:
            raise InvalidArgument(
                f"Invalid {what}: the model returned columns {list(output.columns)}; name the "
                "one to evaluate with the predictions argument"
            )
    array = output.to_numpy() if isinstance(output, pd.Series) else np.asarray(output)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.ravel()
    if array.ndim != 1 or array.shape[0] != rows:
        raise InvalidArgument(
            f"Invalid {what}: the model returned an output of shape {array.shape} for {rows} "
            "rows; expected one prediction per row"
        )
    return array


def call_model(fn: Callable[[Any], Any], features: Any, what: str) -> Any:
    try:
        return fn(features)
    except MissingDependency:
        raise
    except Exception as exc:
        raise InvalidArgument(f"The model's {what} failed on the evaluation data: {exc!r}") from exc


def model_score(
    model: Model, data: EvalData, y_pred: Any, weights: Any, builtin: dict[str, Any]
) -> Any:
    """MLflow's ``score`` metric of a scikit-learn model: its own ``score`` method."""
    score = getattr(model.native, "score", None)
    if not model.scorable or not callable(score):
        return None
    from sklearn.base import ClassifierMixin, RegressorMixin

    method = getattr(type(model.native), "score", None)
    if method is ClassifierMixin.score and "accuracy_score" in builtin:
        return builtin["accuracy_score"]
    if method is RegressorMixin.score and "r2_score" in builtin:
        return builtin["r2_score"]
    try:
        return score(data.features, data.targets, sample_weight=weights)
    except Exception as exc:
        _logger.warning("Computing the model's score failed: %r", exc)
        return None
