"""transformers autologging (``mltrail.transformers.autolog``), as MLflow's: it logs no model
itself.  It patches ``train`` of ``transformers.Trainer`` and ``Seq2SeqTrainer`` (and of
setfit's ``Trainer``, ``SetFitTrainer`` before setfit 1.0) so that, while one trains, the
scikit-learn and PyTorch (Lightning) autologging integrations are off: the helper models
and metric computations a trainer runs (setfit fits a scikit-learn head, evaluation builds
scikit-learn estimators) start no runs of their own.  Unlike MLflow, which turns those
integrations off process-wide and back on with their default options afterwards, the
switch applies to the training call alone, and their configuration is kept.

From transformers 5 on, a ``Trainer`` reports to no tracker unless asked (``report_to``
defaults to ``"none"``), so, as MLflow does, ``train`` adds transformers' ``MLflowCallback``
when the trainer has none, here logging through mltrail instead of the ``mlflow`` package:
the training arguments and the model's config as params, and the trainer's logs as metrics
(step = the global step), into the active run or one it starts and ends.
"""

from __future__ import annotations

import functools
import importlib
import types
from types import ModuleType
from typing import Any

from mltrail import pyfunc
from mltrail._version import __version__
from mltrail.tracking import _fluent, _fluent_experiments, _uri
from mltrail.tracking.autolog._config import suspended
from mltrail.tracking.autolog._safety import safe_patch

__all__ = ["patch"]

INTEGRATION = "transformers"
#: The integrations whose autologging is off while a trainer trains (MLflow's list, less
#: TensorFlow, which mltrail has no integration for).
SUSPENDED = ("sklearn", "pytorch")
#: Model and metric logging as transformers' MLflowCallback asks for it of the ``mlflow``
#: module, served by mltrail's tracking functions.
_TRACKING = types.SimpleNamespace(
    __version__=__version__,
    is_tracking_uri_set=_uri.is_tracking_uri_set,
    set_tracking_uri=_uri.set_tracking_uri,
    get_tracking_uri=_uri.get_tracking_uri,
    set_experiment=_fluent_experiments.set_experiment,
    start_run=_fluent.start_run,
    end_run=_fluent.end_run,
    active_run=_fluent.active_run,
    log_params=_fluent.log_params,
    log_metrics=_fluent.log_metrics,
    set_tags=_fluent.set_tags,
    pyfunc=pyfunc,
)
# MLflow's limits, which transformers' callback reads from mlflow.utils.validation.
_MAX_PARAM_VALUE_LENGTH = 6000
_MAX_PARAMS_PER_BATCH = 100


def _train(original: Any, trainer: Any, *args: Any, **kwargs: Any) -> Any:
    with suspended(SUSPENDED):
        return original(trainer, *args, **kwargs)


@functools.cache
def _callback_class(integrations: ModuleType) -> type:
    base = integrations.MLflowCallback

    class MltrailTrainerCallback(base):  # type: ignore[misc, valid-type]
        """transformers' ``MLflowCallback`` logging through mltrail."""

        def __init__(self) -> None:  # the base's needs the mlflow package
            self._MAX_PARAM_VAL_LENGTH = _MAX_PARAM_VALUE_LENGTH
            self._MAX_PARAMS_TAGS_PER_BATCH = _MAX_PARAMS_PER_BATCH
            self._initialized = False
            self._auto_end_run = False
            self._log_artifacts = False
            self._ml_flow = _TRACKING

    return MltrailTrainerCallback


def _train_reporting(
    transformers: ModuleType, original: Any, trainer: Any, *args: Any, **kwargs: Any
) -> Any:
    major = int(str(transformers.__version__).split(".")[0])
    if major >= 5:
        integrations = importlib.import_module("transformers.integrations")
        callbacks = trainer.callback_handler.callbacks
        if not any(isinstance(c, integrations.MLflowCallback) for c in callbacks):
            trainer.add_callback(_callback_class(integrations)())
    return _train(original, trainer, *args, **kwargs)


def patch(framework: ModuleType) -> None:
    """Patch the trainers' ``train`` of *framework* (``transformers`` or ``setfit``)."""
    if framework.__name__ == "setfit":
        major = int(str(framework.__version__).split(".")[0])
        trainer = framework.SetFitTrainer if major < 1 else framework.Trainer
        safe_patch(INTEGRATION, trainer, "train", _train)
        return
    for trainer in (framework.Trainer, framework.Seq2SeqTrainer):
        safe_patch(
            INTEGRATION,
            trainer,
            "train",
            functools.partial(_train_reporting, framework),
        )
