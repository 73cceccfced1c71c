"""The statsmodels flavor (``mltrail.statsmodels.log_model(results, name="model")``) and its
autologging (``mltrail.statsmodels.autolog()``).

statsmodels is imported when a model is saved or loaded, or autologging patches it, not with
this package.
"""

from mltrail.statsmodels._autolog import autolog
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
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
