"""``mltrail.keras.autolog`` with MLflow's signature; the integration lives in
:mod:`mltrail.tracking.autolog` (above this layer), reached through
:mod:`mltrail._model_tracking`, and so does ``MlflowCallback``, a Keras class: it is made
when first asked for (``import mltrail.keras`` imports no Keras).
"""

from __future__ import annotations

from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._model_tracking import model_tracking

__all__ = ["autolog", "callback_class"]


def autolog(
    log_every_epoch: bool = True,
    log_every_n_steps: int | None = None,
    log_models: bool = True,
    log_model_signatures: bool = True,
    save_exported_model: bool = False,
    log_datasets: bool = True,
    log_input_examples: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    save_model_kwargs: dict[str, Any] | None = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Enable (or disable) autologging of Keras 3's ``Model.fit``: its arguments and the
    optimizer's config as params, the metrics per epoch (*log_every_epoch*) or every
    *log_every_n_steps* optimizer steps, the validation metrics, the model summary, the
    training and validation arrays as datasets and the model (*log_models*, with its
    signature unless *log_model_signatures* is False; registered as
    *registered_model_name*; *save_model_kwargs* go to ``Model.save``).

    The other arguments are MLflow's: ``disable``, ``exclusive`` (leave runs the user started
    alone), ``disable_for_unsupported_versions``, ``silent`` (print nothing), ``extra_tags``
    (set on each run autologging starts).  ``log_input_examples`` is accepted and unused, as
    in MLflow; ``save_exported_model=True`` needs TensorFlow, which mltrail's Keras flavor
    does not use (the model is then not logged, with a warning).
    """
    if not disable:
        if log_every_epoch and log_every_n_steps is not None:
            raise InvalidArgument(
                "Invalid log_every_n_steps: must be None when log_every_epoch=True, got "
                f"{log_every_n_steps!r}"
            )
        if not log_every_epoch and log_every_n_steps is None:
            raise InvalidArgument(
                "Invalid log_every_n_steps: must be set when log_every_epoch=False"
            )
    model_tracking().autolog("keras", dict(locals()))


def callback_class() -> Any:
    """``MlflowCallback``, a subclass of ``keras.callbacks.Callback`` (imports Keras)."""
    return model_tracking().autolog_member("keras", "MlflowCallback")
