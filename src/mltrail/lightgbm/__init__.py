"""The LightGBM flavor (``mltrail.lightgbm.log_model(booster, artifact_path="model")``).

LightGBM is imported when a model is saved or loaded, not with this package.
"""

from mltrail.lightgbm._autolog import autolog
from mltrail.lightgbm._flavor import (
    FLAVOR_NAME,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.lightgbm"
    get_default_conda_env,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
