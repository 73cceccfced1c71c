"""``mltrail.statsmodels.autolog``: MLflow's signature; the integration lives in
:mod:`mltrail.tracking.autolog` (above this layer), reached through
:mod:`mltrail._model_tracking`.  Needs statsmodels installed.
"""

from __future__ import annotations

from mltrail._model_tracking import model_tracking

__all__ = ["autolog"]


def autolog(
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of statsmodels' ``fit``: the arguments of ``fit`` as
    params, the fitted results as a model (``log_models``; registered as
    ``registered_model_name`` when given), the results' metrics (``aic``, ``bic``, ``llf``,
    ``rsquared``, ... those it has) and their summary as ``model_summary.txt``.

    Arguments as MLflow's: ``disable``, ``exclusive`` (leave runs the user started alone),
    ``disable_for_unsupported_versions``, ``silent`` (print nothing) and ``extra_tags`` (set on
    each run autologging starts).  ``log_datasets`` is accepted as MLflow's is: statsmodels'
    autologging records no datasets.
    """
    model_tracking().autolog("statsmodels", dict(locals()))
