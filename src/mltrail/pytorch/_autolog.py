"""``mltrail.pytorch.autolog``: MLflow's signature; the integration lives in
:mod:`mltrail.tracking.autolog` (above this layer), reached through
:mod:`mltrail._model_tracking`.  Needs PyTorch Lightning installed.
"""

from __future__ import annotations

from typing import Any

from mltrail._model_tracking import model_tracking

__all__ = ["autolog", "checkpoint_callback_class", "load_checkpoint"]


def autolog(
    log_every_n_epoch: int = 1,
    log_every_n_step: int | None = None,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
    checkpoint: bool = True,
    checkpoint_monitor: str | None = "val_loss",
    checkpoint_mode: str = "min",
    checkpoint_save_best_only: bool = True,
    checkpoint_save_weights_only: bool = False,
    checkpoint_save_freq: str | int = "epoch",
    log_model_signatures: bool = True,
) -> None:
    """Enable (or disable) autologging of PyTorch Lightning's ``Trainer.fit``:
    hyper-parameters, every metric the module logs (per epoch, or every
    *log_every_n_step* steps), the model summary, early stopping, checkpoints and the model.

    Arguments as MLflow's: ``log_input_examples``, ``log_model_signatures`` and
    ``log_models`` (the trained model, its signature and an input example),
    ``log_datasets`` (the training and evaluation data as run inputs), ``disable``,
    ``exclusive`` (leave runs the user started alone), ``disable_for_unsupported_versions``,
    ``silent`` (print nothing), ``registered_model_name`` and ``extra_tags`` (set on each
    run autologging starts).
    ``log_input_examples`` is not an argument here, as in MLflow.
    """
    model_tracking().autolog("pytorch", dict(locals()))


def load_checkpoint(
    model_class: Any,
    run_id: str | None = None,
    epoch: int | None = None,
    global_step: int | None = None,
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """The *model_class* (a ``LightningModule`` class) instance restored from a checkpoint that
    autologging or ``MlflowModelCheckpointCallback`` logged to run *run_id* (the active run
    when None): the latest, or that of *epoch* (checkpoints saved per epoch) or *global_step*
    (saved every n steps), not both; *kwargs* go to ``load_from_checkpoint``."""
    load = model_tracking().autolog_member("pytorch", "load_checkpoint")
    return load(model_class, run_id, epoch, global_step, kwargs)


def checkpoint_callback_class() -> Any:
    """``MlflowModelCheckpointCallback``, a Lightning ``Callback`` (imports Lightning)."""
    return model_tracking().autolog_member("pytorch", "MlflowModelCheckpointCallback")
