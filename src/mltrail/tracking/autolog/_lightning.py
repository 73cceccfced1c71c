"""PyTorch Lightning autologging (``mltrail.pytorch.autolog``): ``Trainer.fit`` of
``lightning.pytorch`` and of ``pytorch_lightning`` logs what MLflow's autologging logs.

Into the active run (one is started when none is, and ended after ``fit``):

- params: ``epochs``, ``optimizer_name`` and the first optimizer's ``defaults`` under their
  own names (``lr``, ``momentum``, ...); for an ``EarlyStopping`` callback, before training,
  its ``monitor``, ``mode``, ``patience``, ``min_delta`` and ``stopped_epoch``;
- the tag ``Mode`` (``training``; ``testing`` after a later ``trainer.test``);
- every metric in ``trainer.callback_metrics``, per epoch (step = epoch) or every
  *log_every_n_step* steps (see :mod:`._lightning_callback`); after an early stop, the
  metrics ``stopped_epoch``, ``restored_epoch``, ``best_score`` and ``wait_count`` (step 0);
- checkpoints under ``checkpoints/`` (:class:`._lightning_callback.CheckpointHooks`);
- ``model_summary.txt`` (Lightning's ``ModelSummary`` of every layer);
- the model (``mltrail.pytorch.log_model``, pickled, with the signature inferred from the
  first batch that went through ``forward``), registered when ``registered_model_name`` is
  set, and after an early stop Lightning's best checkpoint under
  ``restored_model_checkpoint/``.

MLflow logs no datasets for Lightning, and neither does this.
"""

from __future__ import annotations

import functools
import importlib
import os
import tempfile
from types import ModuleType
from typing import Any

import torch

from mltrail import pytorch as mltrail_pytorch
from mltrail._exceptions import MltrailError
from mltrail.models import infer_signature
from mltrail.models._signature import ModelSignature
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._lightning_callback import (
    INTEGRATION,
    SIGNATURE_TENSORS_FILE,
    CheckpointHooks,
    MetricsHooks,
    callback_classes,
)
from mltrail.tracking.autolog._linked_metrics import log_linked_metrics, start_logged_model
from mltrail.tracking.autolog._safety import log_warning, safe_patch

__all__ = ["patch"]

_MODEL_SUMMARY_FILE = "model_summary.txt"
_RESTORED_CHECKPOINT_DIR = "restored_model_checkpoint"
_EARLY_STOPPING_PARAMS = ("monitor", "mode", "patience", "min_delta", "stopped_epoch")


def _namespace(framework: ModuleType) -> ModuleType:
    """The module with ``Trainer``, ``Callback``, ``callbacks``, ``utilities``."""
    if framework.__name__ == "lightning":
        return importlib.import_module("lightning.pytorch")
    return framework


def patch(framework: ModuleType) -> None:
    """Patch ``Trainer.fit`` of *framework* (``lightning`` or ``pytorch_lightning``)."""
    namespace = _namespace(framework)
    importlib.import_module(f"{namespace.__name__}.utilities.model_summary")
    safe_patch(
        INTEGRATION,
        namespace.Trainer,
        "fit",
        functools.partial(_patched_fit, namespace),
        manage_run=True,
    )


def _config(key: str) -> Any:
    return get_autologging_config(INTEGRATION, key)


def _early_stopping(namespace: ModuleType, trainer: Any, run_id: str) -> Any:
    """The trainer's last ``EarlyStopping`` callback; logs the params of each."""
    found = None
    for callback in trainer.callbacks:
        if isinstance(callback, namespace.callbacks.EarlyStopping):
            found = callback
            params = {
                name: getattr(callback, name)
                for name in _EARLY_STOPPING_PARAMS
                if hasattr(callback, name)
            }
            _fluent.log_params(params, run_id=run_id)
    return found


def _log_early_stop_metrics(callback: Any, run_id: str, model_id: str | None) -> None:
    if callback.stopped_epoch == 0:
        return
    metrics: dict[str, float] = {
        "stopped_epoch": callback.stopped_epoch,
        "restored_epoch": callback.stopped_epoch - max(1, callback.patience),
    }
    if hasattr(callback, "best_score"):
        metrics["best_score"] = float(callback.best_score)
    if hasattr(callback, "wait_count"):
        metrics["wait_count"] = callback.wait_count
    log_linked_metrics(run_id, metrics, model_id=model_id)


def _add_callbacks(
    namespace: ModuleType, trainer: Any, run_id: str, tmp: str, model_id: str | None
) -> MetricsHooks:
    """Put this fit's autologging callbacks on the trainer (replacing an earlier fit's)."""
    metrics_class, checkpoint_class = callback_classes(namespace)
    ours = (MetricsHooks, CheckpointHooks)
    callbacks = [c for c in trainer.callbacks if not isinstance(c, ours)]
    hooks = metrics_class(
        run_id,
        log_models=bool(_config("log_models")),
        log_every_n_epoch=int(_config("log_every_n_epoch") or 1),
        log_every_n_step=_config("log_every_n_step"),
        log_model_signatures=bool(_config("log_model_signatures")),
        signature_dir=tmp,
        model_id=model_id,
    )
    callbacks.append(hooks)
    if _config("checkpoint"):
        try:
            checkpoints = checkpoint_class(
                run_id,
                monitor=_config("checkpoint_monitor"),
                mode=_config("checkpoint_mode"),
                save_best_only=bool(_config("checkpoint_save_best_only")),
                save_weights_only=bool(_config("checkpoint_save_weights_only")),
                save_freq=_config("checkpoint_save_freq"),
            )
        except MltrailError as exc:
            log_warning(INTEGRATION, f"no checkpoints are logged: {exc}")
        else:
            callbacks.append(checkpoints)
    trainer.callbacks = callbacks
    return hooks


def _signature(tmp: str) -> ModelSignature | None:
    tensors = os.path.join(tmp, SIGNATURE_TENSORS_FILE)
    if not os.path.exists(tensors):
        return None
    try:
        inputs, outputs = torch.load(tensors)
        return infer_signature(inputs.cpu().numpy(), outputs.cpu().numpy())
    except Exception as exc:
        log_warning(
            INTEGRATION,
            "the model is logged without a signature (log it yourself with one after "
            f"training): inferring it failed: {exc!r}",
        )
        return None


def _log_model_summary(namespace: ModuleType, trainer: Any, tmp: str) -> None:
    summary = namespace.utilities.model_summary.ModelSummary(trainer.model, max_depth=-1)
    path = os.path.join(tmp, _MODEL_SUMMARY_FILE)
    with open(path, "w") as f:
        f.write(str(summary))
    _fluent.log_artifact(path)


def _patched_fit(namespace: ModuleType, original: Any, trainer: Any, *args: Any, **kw: Any) -> Any:
    active = _fluent.active_run()
    assert active is not None  # safe_patch(manage_run=True) starts one
    run_id = active.info.run_id
    log_models = bool(_config("log_models"))
    # As in MLflow 3, the logged model is made before training and the metrics link to it.
    model_id = start_logged_model(run_id) if log_models else None
    early_stop = _early_stopping(namespace, trainer, run_id)
    with tempfile.TemporaryDirectory() as tmp:
        hooks = _add_callbacks(namespace, trainer, run_id, tmp, model_id)
        try:
            result = original(trainer, *args, **kw)
        finally:
            hooks.restore_forward()
        signature = _signature(tmp)
        if early_stop is not None:
            _log_early_stop_metrics(early_stop, run_id, model_id)
        _log_model_summary(namespace, trainer, tmp)
    if log_models:
        mltrail_pytorch.log_model(
            trainer.model,
            name="model",
            registered_model_name=_config("registered_model_name"),
            signature=signature,
            serialization_format="pickle",
            model_id=model_id,
        )
        best = getattr(trainer.checkpoint_callback, "best_model_path", None)
        if early_stop is not None and best:
            _fluent.log_artifact(best, _RESTORED_CHECKPOINT_DIR)
    _fluent.flush()
    return result
