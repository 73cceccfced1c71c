"""The Keras 3 flavor, on Keras' PyTorch backend (``mltrail.keras.log_model(model, name="model")``).

Keras (and PyTorch) are imported when a model is saved or loaded, not with this package.
Importing it sets ``KERAS_BACKEND=torch`` when that is unset and Keras is not imported yet, so
that ``import mltrail.keras`` then ``import keras`` runs Keras on PyTorch.
"""

from typing import Any

from mltrail.keras._autolog import autolog, callback_class
from mltrail.keras._flavor import (
    FLAVOR_NAME,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.keras"
    get_default_conda_env,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)
from mltrail.keras._flavor import choose_backend as _choose_backend

_choose_backend()

__all__ = [
    "FLAVOR_NAME",
    "MLflowCallback",
    "MlflowCallback",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def __getattr__(name: str) -> Any:
    # MlflowCallback subclasses Keras' Callback: Keras is imported when it is first asked for.
    if name in ("MlflowCallback", "MLflowCallback"):
        return callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
