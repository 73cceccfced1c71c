"""The CatBoost flavor (``mltrail.catboost.log_model(model, name="model")``).

CatBoost is imported when a model is saved or loaded, not with this package.
"""

from mltrail.catboost._flavor import (
    FLAVOR_NAME,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.catboost"
    get_default_conda_env,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
