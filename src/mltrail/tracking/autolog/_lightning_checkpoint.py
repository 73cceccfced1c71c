"""``mltrail.pytorch.MlflowModelCheckpointCallback`` and ``mltrail.pytorch.load_checkpoint``.

The callback is the checkpoint logging PyTorch Lightning autologging does
(:class:`._lightning_callback.CheckpointHooks`), as a Lightning ``Callback`` a user adds to a
``Trainer`` (with or without autologging): it logs into the active run, one is started when
none is.  MLflow's derives from ``pytorch_lightning.Callback``; this one derives from the
``Callback`` of each Lightning installed (``pytorch_lightning`` and ``lightning.pytorch``), so
either's ``Trainer`` takes it.

``load_checkpoint`` downloads a checkpoint logged that way (the latest, or the one of an epoch
or a global step) and restores it with the module class's ``load_from_checkpoint``.
"""

from __future__ import annotations

import importlib
import importlib.util
import posixpath
import tempfile
from types import ModuleType
from typing import Any

from mltrail._exceptions import MltrailError
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._lightning_callback import (
    CHECKPOINT_DIR,
    EPOCH_PREFIX,
    GLOBAL_STEP_PREFIX,
    LATEST_CHECKPOINT_TAG,
    CheckpointHooks,
)

__all__ = ["MlflowModelCheckpointCallback", "load_checkpoint"]


def _namespaces() -> list[ModuleType]:
    """The installed Lightning namespaces with ``Trainer`` and ``Callback``."""
    found = []
    for top, namespace in (
        ("pytorch_lightning", "pytorch_lightning"),
        ("lightning", "lightning.pytorch"),
    ):
        if importlib.util.find_spec(top) is not None:
            found.append(importlib.import_module(namespace))
    if not found:  # the integration's member lookup checks this first
        raise MltrailError("PyTorch Lightning is not installed: pip install 'mltrail[lightning]'")
    return found


class MlflowModelCheckpointCallback(CheckpointHooks, *(n.Callback for n in _namespaces())):  # type: ignore[misc]
    """Log checkpoints of a Lightning ``Trainer``'s model as artifacts of the active run.

    *save_freq*: ``"epoch"`` (at the end of each training epoch) or every that many global
    steps.  With *save_best_only* (the default) a checkpoint is logged only when the
    metric *monitor* improved (lower with *mode* ``"min"``, higher with ``"max"``), as
    ``checkpoints/latest_checkpoint.pth``; otherwise each goes to
    ``checkpoints/epoch_<n>/checkpoint.pth`` (or ``global_step_<n>``).  Each checkpoint has
    its metrics beside it (``..._metrics.json``), and the run's
    ``mlflow.latest_checkpoint_artifact`` tag names the latest.  *save_weights_only*: the
    model's weights alone (``checkpoint.weights.pth``), without optimizer and scheduler states.
    """

    _autologging = False

    def __init__(
        self,
        monitor: str | None = "val_loss",
        mode: str = "min",
        save_best_only: bool = True,
        save_weights_only: bool = False,
        save_freq: str | int = "epoch",
    ) -> None:
        super().__init__(
            None,
            monitor=monitor,
            mode=mode,
            save_best_only=save_best_only,
            save_weights_only=save_weights_only,
            save_freq=save_freq,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_new, (), self._state())


def _new() -> MlflowModelCheckpointCallback:
    return MlflowModelCheckpointCallback.__new__(MlflowModelCheckpointCallback)


def _checkpoint_path(
    run_id: str | None, epoch: int | None, global_step: int | None
) -> tuple[str, str]:
    """(run id, artifact path) of the checkpoint to load."""
    client = _fluent._client()
    if run_id is None:
        active = _fluent.active_run()
        if active is None:
            raise MltrailError(
                "There is no active run: pass the run_id of the run whose checkpoint to load"
            )
        run_id = active.info.run_id
    latest = client.get_run(run_id).data.tags.get(LATEST_CHECKPOINT_TAG)
    if latest is None:
        raise MltrailError(
            f"Run {run_id} has no logged checkpoint (no {LATEST_CHECKPOINT_TAG} tag)"
        )
    file = posixpath.basename(latest)
    if epoch is not None and global_step is not None:
        raise MltrailError("Invalid load_checkpoint arguments: set epoch or global_step, not both")
    if global_step is not None:
        return run_id, f"{CHECKPOINT_DIR}/{GLOBAL_STEP_PREFIX}{global_step}/{file}"
    if epoch is not None:
        return run_id, f"{CHECKPOINT_DIR}/{EPOCH_PREFIX}{epoch}/{file}"
    return run_id, latest


def load_checkpoint(
    model_class: Any,
    run_id: str | None = None,
    epoch: int | None = None,
    global_step: int | None = None,
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """The *model_class* (a ``LightningModule`` class) instance restored from a checkpoint
    logged to run *run_id* (the active run when None) by autologging or
    :class:`MlflowModelCheckpointCallback`: the latest, or that of *epoch* (checkpoints saved
    per epoch) or *global_step* (saved every n steps); *kwargs* go to
    ``load_from_checkpoint`` (the module's constructor arguments)."""
    run_id, path = _checkpoint_path(run_id, epoch, global_step)
    with tempfile.TemporaryDirectory() as tmp:
        local = _fluent._client().download_artifacts(run_id, path, dst_path=tmp)
        return model_class.load_from_checkpoint(local, **(kwargs or {}))
