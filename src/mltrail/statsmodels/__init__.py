"""The statsmodels flavor (``mltrail.statsmodels.log_model(results, name="model")``).

statsmodels is imported when a model is saved or loaded, not with this package.
"""

from mltrail.statsmodels._flavor import (
    FLAVOR_NAME,
    STATSMODELS_DATA_SUBPATH,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.statsmodels"
    get_default_conda_env,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "STATSMODELS_DATA_SUBPATH",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
