"""The SHAP flavor (``mltrail.shap.log_explanation(model.predict, X)``,
``mltrail.shap.log_explainer(explainer, name="explainer")``), in MLflow's format.

SHAP, matplotlib and the explained model's framework are imported when an explanation is
computed or an explainer saved or loaded, not with this package.
"""

from mltrail.shap._explanation import log_explanation
from mltrail.shap._flavor import (
    FLAVOR_NAME,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.shap"
    get_default_conda_env,
    get_default_pip_requirements,
    get_underlying_model_flavor,
    load_explainer,
    log_explainer,
    save_explainer,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "get_underlying_model_flavor",
    "load_explainer",
    "log_explainer",
    "log_explanation",
    "save_explainer",
    "save_model",
]
