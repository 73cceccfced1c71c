"""``mltrail.sklearn.autolog``: MLflow's signature; the integration lives in
:mod:`mltrail.tracking.autolog` (above this layer), reached through
:mod:`mltrail._model_tracking`.  Needs scikit-learn installed.
"""

from __future__ import annotations

from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._model_tracking import model_tracking

__all__ = ["autolog"]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = "cloudpickle",
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of scikit-learn's ``fit``, ``fit_predict`` and
    ``fit_transform``: parameters, training metrics, the model, and for a hyper-parameter
    search its candidates as child runs (at most *max_tuning_runs*, all when None).

    Arguments as MLflow's: ``log_input_examples``, ``log_model_signatures`` and
    ``log_models`` (the trained model, its signature and an input example),
    ``log_datasets`` (the training and evaluation data as run inputs), ``disable``,
    ``exclusive`` (leave runs the user started alone), ``disable_for_unsupported_versions``,
    ``silent`` (print nothing), ``registered_model_name`` and ``extra_tags`` (set on each
    run autologging starts).
    ``log_post_training_metrics`` logs ``sklearn.metrics`` calls and ``model.score`` on
    other data after ``fit``; ``pos_label`` is the positive class of binary metrics.
    """
    if max_tuning_runs is not None and max_tuning_runs < 0:
        raise InvalidArgument(
            f"`max_tuning_runs` must be non-negative, instead got {max_tuning_runs}."
        )
    model_tracking().autolog("sklearn", dict(locals()))
