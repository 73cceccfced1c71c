"""``mltrail.transformers.autolog`` with MLflow's signature; the integration lives in
:mod:`mltrail.tracking.autolog` (above this layer), reached through
:mod:`mltrail._model_tracking`.
"""

from __future__ import annotations

from mltrail._model_tracking import model_tracking

__all__ = ["autolog"]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = False,
    log_models: bool = False,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) the transformers autologging integration, which, as MLflow's, logs
    no model itself: while a ``transformers`` (or setfit) trainer trains, scikit-learn and
    PyTorch Lightning autologging are off, so the helper models a trainer fits start no runs
    of their own; from transformers 5 on, ``Trainer.train`` reports its arguments and logs to
    the active run (transformers' ``MLflowCallback``, here logging through mltrail).

    The arguments are MLflow's; ``log_input_examples``, ``log_model_signatures``,
    ``log_models`` and ``log_datasets`` are accepted and unused, as in MLflow.
    """
    model_tracking().autolog("transformers", dict(locals()))
