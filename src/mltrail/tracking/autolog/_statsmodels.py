"""statsmodels autologging: what ``mlflow.statsmodels.autolog`` records for the ``fit`` of any
statsmodels model (each subclass of ``statsmodels.base.model.Model`` that defines ``fit``).

The outermost ``fit`` logs ``fit``'s arguments as run params (those passed, then the defaults
of the others), the fitted results through ``mltrail.statsmodels.log_model`` (name ``model``,
registered as ``registered_model_name`` when given), the allowlisted metrics of the results
(linked to that logged model) and the results' summary as ``model_summary.txt``.  A ``fit``
that calls another (``Logit.fit`` calls its base class's) logs once.  As in MLflow,
``log_datasets`` records nothing for statsmodels.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from types import ModuleType
from typing import Any

import statsmodels.api  # noqa: F401 - loads the model classes the patch walks
from statsmodels.base.model import Model
from statsmodels.base.wrapper import ResultsWrapper

from mltrail.statsmodels import log_model as log_statsmodels_model
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._boosting import fit_params
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._safety import active_session, log_warning, safe_patch

__all__ = ["METRICS", "patch"]

INTEGRATION = "statsmodels"
#: The results' attributes logged as metrics (MLflow's allowlist), when present and numeric.
METRICS = (
    "aic",
    "bic",
    "centered_tss",
    "condition_number",
    "df_model",
    "df_resid",
    "ess",
    "f_pvalue",
    "fvalue",
    "llf",
    "mse_model",
    "mse_resid",
    "mse_total",
    "rsquared",
    "rsquared_adj",
    "scale",
    "ssr",
    "uncentered_tss",
)
#: The session state key saying a ``fit`` further out logs this training.
_FITTING = "statsmodels.fitting"


def _config(key: str, default: Any = None) -> Any:
    return get_autologging_config(INTEGRATION, key, default)


def _is_numeric(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def results_metrics(results: Any) -> dict[str, Any]:
    """The allowlisted metrics *results* has; those that fail to compute are named in one
    warning."""
    metrics = {}
    failed = []
    for name in METRICS:
        try:
            if hasattr(results, name):
                value = getattr(results, name)
                if _is_numeric(value):
                    metrics[name] = value
        except Exception:
            failed.append(name)
    if failed:
        log_warning(INTEGRATION, f"Failed to autolog metrics: {', '.join(sorted(failed))}.")
    return metrics


def _fit(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    session = active_session()
    if session is None or session.state.get(_FITTING):
        return original(self, *args, **kwargs)
    session.state[_FITTING] = True
    try:
        _fluent.log_params(fit_params(original, args, kwargs, ()))
        results = original(self, *args, **kwargs)
        model_id = None
        if _config("log_models", True):
            info = log_statsmodels_model(
                results, name="model", registered_model_name=_config("registered_model_name")
            )
            model_id = info.model_id
        if isinstance(results, ResultsWrapper):
            _fluent.log_metrics(results_metrics(results), model_id=model_id)
            _fluent.log_text(results.summary().as_text(), "model_summary.txt")
        return results
    finally:
        del session.state[_FITTING]


def _subclasses(root: type) -> list[type]:
    """*root* and every class below it, each once."""
    found: dict[type, None] = {}
    pending = [root]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found[cls] = None
            pending.extend(cls.__subclasses__())
    return list(found)


def _defines_fit(cls: type) -> bool:
    """Whether *cls* has a ``fit`` other than its first base's (the ones MLflow patches)."""
    mro = inspect.getmro(cls)
    return len(mro) > 1 and getattr(cls, "fit", None) is not getattr(mro[1], "fit", None)


def patch(framework: ModuleType) -> None:
    """Patch ``fit`` of every statsmodels model class that defines its own."""
    del framework  # the classes are reached from statsmodels.base.model.Model
    for cls in _subclasses(Model):
        if _defines_fit(cls):
            safe_patch(INTEGRATION, cls, "fit", _fit, manage_run=True)
