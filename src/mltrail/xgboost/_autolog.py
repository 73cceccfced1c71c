"""``mltrail.xgboost.autolog``: MLflow's signature; the integration lives in
:mod:`mltrail.tracking.autolog` (above this layer), reached through
:mod:`mltrail._model_tracking`.  Needs XGBoost installed.
"""

from __future__ import annotations

from mltrail._model_tracking import model_tracking

__all__ = ["autolog"]


def autolog(
    importance_types: list[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "ubj",
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of ``xgboost.train`` and the scikit-learn API's
    ``fit``: parameters, per-iteration metrics, early stopping, feature importance (of each
    of *importance_types*, ``["weight"]`` by default) and the model (saved as *model_format*).

    Arguments as MLflow's: ``log_input_examples``, ``log_model_signatures`` and
    ``log_models`` (the trained model, its signature and an input example),
    ``log_datasets`` (the training and evaluation data as run inputs), ``disable``,
    ``exclusive`` (leave runs the user started alone), ``disable_for_unsupported_versions``,
    ``silent`` (print nothing), ``registered_model_name`` and ``extra_tags`` (set on each
    run autologging starts).
    """
    model_tracking().autolog("xgboost", dict(locals()))
