"""``mltrail.keras.MlflowCallback``: a Keras 3 callback logging a ``fit`` into the active run,
as MLflow's ``mlflow.keras.MlflowCallback`` does (Keras autologging adds one to every ``fit``).

When training begins it logs the optimizer's config as params (``optimizer_<key>``) and the
model's ``summary()`` as ``model_summary.txt``; then the metrics Keras reports, at the end of
every epoch (step = the epoch) or every *log_every_n_steps* optimizer steps (step = the
optimizer's iteration count), and the metrics of each evaluation Keras runs with the callback
(validation during ``fit`` included) as ``validation_<name>`` at step 0.  With a *model_id*
(autologging's logged model) the metrics are linked to that model too.

A hook that fails warns (unless Keras autologging is silent) and lets training go on, as
MLflow's exception-safe callback does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import keras

from mltrail.tracking import _fluent
from mltrail.tracking.autolog._safety import log_warning

__all__ = ["MLflowCallback", "MlflowCallback"]

F = TypeVar("F", bound=Callable[..., None])


def _exception_safe(method: F) -> F:
    @functools.wraps(method)
    def hook(*args: Any, **kwargs: Any) -> None:
        try:
            method(*args, **kwargs)
        except Exception as exc:  # unless Keras autologging is silent
            log_warning("keras", f"Encountered unexpected error during autologging: {exc}")

    return hook  # type: ignore[return-value]


def _numbers(logs: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in logs.items()}


class MlflowCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Log a Keras ``fit`` to the active run (one is started when none is).

    *log_every_epoch*: log the metrics at the end of each epoch; else *log_every_n_steps*
    (which must be None when *log_every_epoch* is True, and set when it is False) logs them
    every that many optimizer steps.  *model_id*: a logged model the metrics are linked to.
    """

    def __init__(
        self,
        log_every_epoch: bool = True,
        log_every_n_steps: int | None = None,
        model_id: str | None = None,
    ) -> None:
        super().__init__()
        self.log_every_epoch = log_every_epoch
        self.log_every_n_steps = log_every_n_steps
        self.model_id = model_id
        if log_every_epoch and log_every_n_steps is not None:
            raise ValueError(
                "`log_every_n_steps` must be None if `log_every_epoch=True`, received "
                f"`log_every_epoch={log_every_epoch}` and `log_every_n_steps="
                f"{log_every_n_steps}`."
            )
        if not log_every_epoch and log_every_n_steps is None:
            raise ValueError(
                "`log_every_n_steps` must be specified if `log_every_epoch=False`, received "
                "`log_every_epoch=False` and `log_every_n_steps=None`."
            )

    def _log(self, metrics: Mapping[str, Any], step: int | None) -> None:
        _fluent.log_metrics(_numbers(metrics), step=step, model_id=self.model_id)

    @_exception_safe
    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        """Log the optimizer's config as params and the model's summary as a text file."""
        config = self.model.optimizer.get_config()
        _fluent.log_params({f"optimizer_{key}": value for key, value in config.items()})
        lines: list[str] = []

        def print_fn(line: str, *args: Any, **kwargs: Any) -> None:
            lines.append(line)

        self.model.summary(print_fn=print_fn)
        _fluent.log_text("\n".join(lines), artifact_file="model_summary.txt")

    @_exception_safe
    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Log the epoch's metrics (step = the epoch)."""
        if not self.log_every_epoch or logs is None:
            return
        self._log(logs, epoch)

    @_exception_safe
    def on_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Log the metrics every *log_every_n_steps* optimizer steps (step = the iteration)."""
        if self.log_every_n_steps is None or logs is None:
            return
        iteration = int(self.model.optimizer.iterations.value)
        if iteration % self.log_every_n_steps == 0:
            self._log(logs, iteration)

    @_exception_safe
    def on_test_end(self, logs: Mapping[str, Any] | None = None) -> None:
        """Log an evaluation's metrics as ``validation_<name>`` (step 0)."""
        if logs is None:
            return
        self._log({f"validation_{name}": value for name, value in logs.items()}, None)


#: MLflow's older spelling, kept as an alias there too.
MLflowCallback = MlflowCallback
