"""The Lightning callbacks that PyTorch Lightning autologging adds to a ``Trainer`` for ``fit``.

:class:`MetricsHooks` logs what MLflow's autologging logs while the trainer runs: the
``Mode`` tag, the ``epochs`` and optimizer params when training starts, every metric in
``trainer.callback_metrics`` at the end of every *log_every_n_epoch*-th epoch (step = the
epoch) or every *log_every_n_step* steps (step = the global step), and, after a later
``trainer.test``, the test metrics.  It also records the first input and output of the
module's ``forward`` (when one tensor goes in and one comes out), from which the model's
signature is inferred after ``fit``.

:class:`CheckpointHooks` logs checkpoints as MLflow's ``MlflowModelCheckpointCallback``
does: ``checkpoints/latest_checkpoint.pth`` (the best so far by the monitored metric) or one
per epoch (``checkpoints/epoch_<n>/checkpoint.pth``) or every *n* steps
(``checkpoints/global_step_<n>/...``), each beside its metrics in JSON, and the
``mlflow.latest_checkpoint_artifact`` tag.

Both are mixins: :func:`callback_classes` makes the ``Callback`` subclasses of one Lightning
namespace (``lightning.pytorch`` or ``pytorch_lightning``).  Every hook runs on the global rank
zero only, and a hook that fails warns (unless silent) and lets training go on.  The callbacks
stay on the trainer after ``fit`` (a later ``trainer.test`` logs into the run, as in MLflow);
the next ``fit`` replaces them, and while autologging is disabled they do nothing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import tempfile
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, TypeVar

import torch

from mltrail._exceptions import MltrailError
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._config import autologging_is_disabled
from mltrail.tracking.autolog._linked_metrics import log_linked_metrics
from mltrail.tracking.autolog._safety import _warnings_of_logging_code, log_warning

__all__ = [
    "CHECKPOINT_DIR",
    "EPOCH_PREFIX",
    "GLOBAL_STEP_PREFIX",
    "INTEGRATION",
    "LATEST_CHECKPOINT_TAG",
    "SIGNATURE_TENSORS_FILE",
    "CheckpointHooks",
    "MetricsHooks",
    "callback_classes",
    "set_run_tag",
]

#: The integration's name (MLflow's flavor name, the value of the ``mlflow.autologging`` tag).
INTEGRATION = "pytorch"
#: The first batch's (input, output) of ``forward``, saved for the signature.
SIGNATURE_TENSORS_FILE = "input_output_tensors.pt"
LATEST_CHECKPOINT_TAG = "mlflow.latest_checkpoint_artifact"
CHECKPOINT_DIR = "checkpoints"
EPOCH_PREFIX = "epoch_"
GLOBAL_STEP_PREFIX = "global_step_"
_CHECKPOINT_DIR = CHECKPOINT_DIR
_CHECKPOINT_FILE = "checkpoint"
_CHECKPOINT_METRICS_FILE = "checkpoint_metrics.json"
_CHECKPOINT_SUFFIX = ".pth"
_WEIGHTS_ONLY = ".weights"
_LATEST = "latest_"

F = TypeVar("F", bound=Callable[..., None])


def _guarded(method: F, capture_warnings: bool) -> F:
    @functools.wraps(method)
    def hook(self: Any, trainer: Any, *args: Any, **kwargs: Any) -> None:
        if not trainer.is_global_zero or (
            self._autologging and autologging_is_disabled(INTEGRATION)
        ):
            return
        with _warnings_of_logging_code(INTEGRATION) if capture_warnings else _nothing():
            try:
                method(self, trainer, *args, **kwargs)
            except Exception as exc:
                log_warning(
                    INTEGRATION,
                    f"autologging ({INTEGRATION}) failed in {method.__name__}, training goes "
                    f"on: {type(exc).__name__}: {exc}",
                )

    return hook  # type: ignore[return-value]


def _hook(method: F) -> F:
    """A hook that runs on the global rank zero only, while autologging is on (the callbacks
    stay on the trainer after ``fit``, as MLflow's do), and never breaks training; the
    warnings it raises are autologging's (reported on its logger, or dropped when silent)."""
    return _guarded(method, capture_warnings=True)


def _batch_hook(method: F) -> F:
    """A hook of every batch: as :func:`_hook`, but it catches warnings only when it logs
    (catching them resets Python's record of warnings already shown once, and the user's own
    would be shown at every batch)."""
    return _guarded(method, capture_warnings=False)


def _nothing() -> contextlib.nullcontext[None]:
    return contextlib.nullcontext()


def set_run_tag(run_id: str, key: str, value: str) -> None:
    """Set a tag of *run_id*: batched when it is the active run, else directly."""
    active = _fluent.active_run()
    if active is not None and active.info.run_id == run_id:
        _fluent.set_tag(key, value)
    else:
        _fluent._client().set_tag(run_id, key, value)


def _optimizer_name(optimizer: Any) -> str:
    inner = getattr(optimizer, "_optimizer", None)  # a LightningOptimizer wraps the optimizer
    return type(inner if inner is not None else optimizer).__name__


def _floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in metrics.items()}


class _Picklable:
    """Pickled by namespace and kind (a strategy that spawns processes pickles the trainer
    with its callbacks, whose classes :func:`callback_classes` makes at run time)."""

    _namespace = ""
    _kind = 0
    #: Added by autologging (its hooks do nothing while it is off); False for a callback the
    #: user adds (``mltrail.pytorch.MlflowModelCheckpointCallback``).
    _autologging = True

    def _state(self) -> dict[str, Any]:
        """What is pickled: the attributes, but not the trainer a fit left (it is set again
        when the next fit starts)."""
        state = dict(self.__dict__)
        if "trainer" in state:
            state["trainer"] = None
        return state

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._namespace, self._kind, self._state()))


def _rebuild(namespace: str, kind: int, state: dict[str, Any]) -> Any:
    cls = callback_classes(importlib.import_module(namespace))[kind]
    callback = cls.__new__(cls)
    callback.__dict__.update(state)
    return callback


class MetricsHooks(_Picklable):
    """Params, tags and metrics while a trainer fits (and tests afterwards)."""

    def __init__(
        self,
        run_id: str,
        *,
        log_models: bool,
        log_every_n_epoch: int,
        log_every_n_step: int | None,
        log_model_signatures: bool,
        signature_dir: str,
        model_id: str | None = None,
    ) -> None:
        self.run_id = run_id
        # The logged model made before training, as MLflow 3 does: metrics are linked to it.
        self.model_id = model_id
        self.log_models = log_models
        self.log_every_n_epoch = log_every_n_epoch
        self.log_every_n_step = log_every_n_step
        self.log_model_signatures = log_model_signatures
        self.signature_dir = signature_dir
        self._steps_per_training_step = 1
        # Metrics logged per step are left out of the per-epoch ones, and the other way round.
        self._step_metrics: set[str] = set()
        self._epoch_metrics: set[str] = set()
        self._forward_patch: tuple[Any, Any] | None = None  # (module, its own `forward` or None)
        self._first_batch_seen = False

    def _record(self, trainer: Any, step: int, metrics: Mapping[str, Any]) -> None:
        # Lightning's sanity check runs a few validation batches before training: not logged.
        if trainer.sanity_checking or not metrics:
            return
        with _warnings_of_logging_code(INTEGRATION):
            log_linked_metrics(self.run_id, _floats(metrics), step=step, model_id=self.model_id)

    @_hook
    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        set_run_tag(self.run_id, "Mode", "training")
        params: dict[str, Any] = {"epochs": trainer.max_epochs}
        optimizers = getattr(trainer, "optimizers", None)
        if optimizers:
            # Lightning increments the global step once per optimizer step.
            self._steps_per_training_step = len(optimizers)
            optimizer = optimizers[0]  # as in MLflow, the first optimizer's only
            params["optimizer_name"] = _optimizer_name(optimizer)
            params.update(getattr(optimizer, "defaults", None) or {})
        _fluent.log_params(params, run_id=self.run_id)
        if self.log_models and self.log_model_signatures:
            self._watch_forward(trainer.strategy.lightning_module)

    def _watch_forward(self, module: Any) -> None:
        """Save the first (input, output) of ``module.forward`` (patched on the instance here,
        in the process that trains, which a spawning strategy makes anew)."""
        own = module.__dict__.get("forward")
        forward = module.forward

        def watched_forward(*inputs: Any, **kwargs: Any) -> Any:
            result = forward(*inputs, **kwargs)
            if not self._first_batch_seen:
                self._first_batch_seen = True
                try:
                    if (
                        len(inputs) == 1
                        and isinstance(inputs[0], torch.Tensor)
                        and isinstance(result, torch.Tensor)
                    ):
                        torch.save(
                            (inputs[0].detach().cpu(), result.detach().cpu()),
                            os.path.join(self.signature_dir, SIGNATURE_TENSORS_FILE),
                        )
                except Exception as exc:
                    log_warning(INTEGRATION, f"the model's signature will be missing: {exc!r}")
            return result

        module.forward = watched_forward
        self._forward_patch = (module, own)

    def restore_forward(self) -> None:
        if self._forward_patch is None:
            return
        module, own = self._forward_patch
        self._forward_patch = None
        if own is None:
            module.__dict__.pop("forward", None)
        else:
            module.forward = own

    def _log_epoch_metrics(self, trainer: Any, pl_module: Any) -> None:
        metrics = {
            name: value
            for name, value in trainer.callback_metrics.items()
            if name not in self._step_metrics
        }
        self._epoch_metrics.update(metrics)
        if (pl_module.current_epoch + 1) % self.log_every_n_epoch == 0:
            self._record(trainer, pl_module.current_epoch, metrics)

    @_hook
    def on_train_epoch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        # Validation runs inside the training epoch: its metrics are there too.
        self._log_epoch_metrics(trainer, pl_module)

    @_batch_hook
    def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        if not self.log_every_n_step:
            return
        current = trainer.callback_metrics
        # A metric logged on steps and epochs ("loss" with "loss_step" and "loss_epoch") is
        # logged here under its "_step" name only.
        metrics = {
            name: value
            for name, value in current.items()
            if name not in self._epoch_metrics and f"{name}_step" not in current
        }
        self._step_metrics.update(metrics)
        step = trainer.global_step
        if ((step // self._steps_per_training_step) + 1) % self.log_every_n_step == 0:
            self._record(trainer, step, metrics)

    @_hook
    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        # A `trainer.test` after `fit` logs the test metrics into the run of the fit.
        set_run_tag(self.run_id, "Mode", "testing")
        metrics = _floats(trainer.callback_metrics)
        log_linked_metrics(self.run_id, metrics, model_id=self.model_id)
        _fluent.flush()


class CheckpointHooks(_Picklable):
    """Checkpoints logged as MLflow's ``MlflowModelCheckpointCallback`` logs them, into run
    *run_id* (the active run when None, as the public callback logs)."""

    def __init__(
        self,
        run_id: str | None,
        *,
        monitor: str | None,
        mode: str,
        save_best_only: bool,
        save_weights_only: bool,
        save_freq: str | int,
    ) -> None:
        if save_best_only and monitor is None:
            raise MltrailError(
                "Invalid checkpoint monitor: save_best_only=True compares a monitored metric, "
                "so monitor must name one"
            )
        if save_best_only and mode not in ("min", "max"):
            raise MltrailError(
                f"Invalid checkpoint mode {mode!r}: with save_best_only=True it must be 'min' "
                "or 'max'"
            )
        if save_freq != "epoch" and not (
            isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0
        ):
            raise MltrailError(
                f"Invalid checkpoint save_freq {save_freq!r}: must be 'epoch' or a positive "
                "number of steps"
            )
        self.run_id = run_id
        self.monitor = monitor
        self.mode = mode
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.last_monitor_value: float | None = None
        self.trainer: Any = None

    @_hook
    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self.trainer = trainer

    @_batch_hook
    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if isinstance(self.save_freq, int) and step > 0 and step % self.save_freq == 0:
            with _warnings_of_logging_code(INTEGRATION):
                self.trainer = trainer
                self.check_and_save_checkpoint_if_needed(
                    trainer.current_epoch, step, _floats(trainer.callback_metrics)
                )

    @_hook
    def on_train_epoch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        if self.save_freq == "epoch":
            self.trainer = trainer
            self.check_and_save_checkpoint_if_needed(
                trainer.current_epoch, trainer.global_step, _floats(trainer.callback_metrics)
            )

    def _improves(self, value: float) -> bool:
        if self.last_monitor_value is None:
            return True
        if self.mode == "min":
            return value < self.last_monitor_value
        return value > self.last_monitor_value

    def save_checkpoint(self, filepath: str) -> None:
        """Write the trainer's checkpoint (the weights alone with *save_weights_only*)."""
        # Not trainer.save_checkpoint: its barrier would wait for the other ranks forever.
        checkpoint = self.trainer._checkpoint_connector.dump_checkpoint(self.save_weights_only)
        self.trainer.strategy.save_checkpoint(checkpoint, filepath)

    def check_and_save_checkpoint_if_needed(
        self, current_epoch: int, global_step: int, metric_dict: Mapping[str, float]
    ) -> None:
        """Log a checkpoint of this epoch or step, unless *save_best_only* and the monitored
        metric of *metric_dict* did not improve."""
        if self.save_best_only:
            if self.monitor is None or self.monitor not in metric_dict:
                log_warning(
                    INTEGRATION,
                    f"no checkpoint logged: save_best_only=True compares the monitored metric "
                    f"{self.monitor!r}, which the module did not log",
                )
                return
            value = metric_dict[self.monitor]
            if not self._improves(value):
                return
            self.last_monitor_value = value
        weights = _WEIGHTS_ONLY if self.save_weights_only else ""
        if self.save_best_only:
            directory = _CHECKPOINT_DIR
            model_file = f"{_LATEST}{_CHECKPOINT_FILE}{weights}{_CHECKPOINT_SUFFIX}"
            metrics_file = f"{_LATEST}{_CHECKPOINT_METRICS_FILE}"
        else:
            sub = (
                f"{EPOCH_PREFIX}{current_epoch}"
                if self.save_freq == "epoch"
                else f"{GLOBAL_STEP_PREFIX}{global_step}"
            )
            directory = f"{_CHECKPOINT_DIR}/{sub}"
            model_file = f"{_CHECKPOINT_FILE}{weights}{_CHECKPOINT_SUFFIX}"
            metrics_file = _CHECKPOINT_METRICS_FILE
        run_id = self.run_id or _fluent._active_or_start().info.run_id
        set_run_tag(run_id, LATEST_CHECKPOINT_TAG, f"{directory}/{model_file}")
        _fluent.log_dict(
            {**metric_dict, "epoch": current_epoch, "global_step": global_step},
            f"{directory}/{metrics_file}",
            run_id=run_id,
        )
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, model_file)
            self.save_checkpoint(local)
            _fluent.log_artifact(local, directory, run_id=run_id)


@functools.cache
def callback_classes(namespace: ModuleType) -> tuple[type[MetricsHooks], type[CheckpointHooks]]:
    """The ``Callback`` subclasses of *namespace* (``lightning.pytorch`` or
    ``pytorch_lightning``) with the hooks above."""
    base = namespace.Callback
    where = {"_namespace": namespace.__name__, "__module__": __name__}
    metrics = type("MltrailAutologCallback", (MetricsHooks, base), {**where, "_kind": 0})
    checkpoints = type(
        "MltrailModelCheckpointCallback", (CheckpointHooks, base), {**where, "_kind": 1}
    )
    return metrics, checkpoints
