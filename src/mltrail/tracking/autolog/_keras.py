"""Keras 3 autologging (``mltrail.keras.autolog``): ``keras.Model.fit`` logs what MLflow's
Keras autologging logs.

Into the active run (one is started when none is, tagged ``mlflow.autologging=keras``, and
ended after ``fit``):

- params: ``fit``'s arguments as passed, and the defaults of the others, but for the data,
  the callbacks and ``verbose``; ``batch_size`` as passed, else read from the training data
  (a dataset's ``batch_size``, or the first batch of a generator, which is put back);
- before training, a logged model named ``model`` (when *log_models*), which the datasets and
  the metrics are linked to;
- the datasets (*log_datasets*): the training arrays (features and targets, context
  ``train``) and ``validation_data`` (context ``eval``), as run inputs;
- an :class:`~._keras_callback.MlflowCallback` added to ``fit``'s callbacks: the optimizer's
  config as params, ``model_summary.txt``, the metrics per epoch (or every
  *log_every_n_steps* steps) and the validation metrics;
- after training, the model (``mltrail.keras.log_model`` into that logged model), with the
  signature of its input and output shapes, registered when ``registered_model_name`` is set.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from mltrail.data import CodeDatasetSource, from_numpy
from mltrail.entities import LoggedModelInput
from mltrail.keras import log_model
from mltrail.models import ModelSignature
from mltrail.models._schema import Schema, TensorSpec
from mltrail.tracking import _fluent, _fluent_logged_models
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._keras_callback import MlflowCallback
from mltrail.tracking.autolog._safety import log_warning, safe_patch

__all__ = ["patch"]

INTEGRATION = "keras"
#: ``fit`` arguments that are not run params (MLflow's list).
_UNLOGGED = ("self", "x", "y", "callbacks", "validation_data", "verbose")


def _config(key: str, default: Any = None) -> Any:
    return get_autologging_config(INTEGRATION, key, default)


def patch(framework: ModuleType) -> None:
    """Patch ``keras.Model.fit``."""
    safe_patch(INTEGRATION, framework.Model, "fit", _patched_fit, manage_run=True)


def _arguments(original: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``fit``'s arguments by name (``self`` left out), as the caller passed them."""
    bound = inspect.signature(original).bind_partial(*args, **kwargs)
    arguments = dict(bound.arguments)
    arguments.pop("self", None)
    return arguments


def _peek(iterator: Iterator[Any]) -> tuple[Any, Iterator[Any]]:
    """The first item of *iterator*, and a generator yielding all of them (Keras takes
    generators, not any iterator)."""
    first = next(iterator)

    def replay() -> Iterator[Any]:
        yield first
        yield from iterator

    return first, replay()


def _batch_size(model: Any, arguments: dict[str, Any]) -> Any:
    """The batch size ``fit`` trains with, as MLflow reads it (None when it cannot tell); a
    generator given as ``x`` is replaced by one yielding the same batches."""
    if "batch_size" in arguments:
        return arguments["batch_size"]
    data = arguments.get("x")
    for attribute in ("batch_size", "_batch_size"):
        size = getattr(data, attribute, None)
        if size:
            return size if isinstance(size, int) else int(np.asarray(size))
    if isinstance(data, Iterator):
        first, arguments["x"] = _peek(data)
        single_input = isinstance(model.input_shape, tuple)
        return len(first[0]) if single_input else len(first[0][0])
    return None


def _params(original: Any, model: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run params: ``fit``'s arguments and its other parameters' defaults, minus the data."""
    params: dict[str, Any] = {}
    batch_size = _batch_size(model, arguments)
    unlogged = set(_UNLOGGED)
    if batch_size is not None:
        params["batch_size"] = batch_size
        unlogged.add("batch_size")
    for parameter in inspect.signature(original).parameters.values():
        if parameter.name in unlogged or parameter.kind in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        ):
            continue
        params[parameter.name] = arguments.get(parameter.name, parameter.default)
    return params


def _dataset(data: Any, targets: Any, source: CodeDatasetSource) -> Any:
    if isinstance(data, np.ndarray):
        return from_numpy(data, source=source, targets=targets)
    if isinstance(data, tuple) and len(data) >= 2:
        return from_numpy(data[0], source=source, targets=data[1])
    return None


def _log_datasets(arguments: dict[str, Any], model_id: str | None) -> None:
    source = CodeDatasetSource.from_current_code()
    linked = LoggedModelInput(model_id) if model_id else None
    given = [(arguments.get("x"), arguments.get("y"), "train")]
    if "validation_data" in arguments:
        given.append((arguments["validation_data"], None, "eval"))
    for data, targets, context in given:
        dataset = _dataset(data, targets, source)
        if dataset is None:
            log_warning(
                INTEGRATION, f"Unrecognized dataset type {type(data)}. Dataset logging skipped."
            )
            continue
        _fluent.log_input(dataset, context, model=linked)


def _shape(shape: Any) -> list[int]:
    return [-1 if size is None else size for size in shape]


def _schema(shapes: Any, dtype: Any) -> Schema:
    listed = shapes if isinstance(shapes, list) else [shapes]
    return Schema([TensorSpec(np.dtype(dtype), _shape(shape)) for shape in listed])


def model_signature(model: Any) -> ModelSignature:
    """The signature MLflow gives a Keras model: its input and output tensor shapes (unknown
    sizes as -1), the input dtype and the model's compute dtype."""
    return ModelSignature(
        inputs=_schema(model.input_shape, model.input_dtype),
        outputs=_schema(model.output_shape, model.compute_dtype),
    )


def _log_model(model: Any, model_id: str | None) -> None:
    signature = None
    if _config("log_model_signatures", True):
        try:
            signature = model_signature(model)
        except Exception as exc:
            log_warning(INTEGRATION, f"Failed to get model signature, reason: {exc}")
    log_model(
        model,
        "model",
        save_exported_model=bool(_config("save_exported_model", False)),
        signature=signature,
        registered_model_name=_config("registered_model_name"),
        save_model_kwargs=_config("save_model_kwargs"),
        model_id=model_id,
    )


def _callbacks(given: Any, ours: MlflowCallback) -> list[Any]:
    """The caller's callbacks (left unchanged) with *ours* after them."""
    callbacks = list(given or [])
    if any(isinstance(c, MlflowCallback) for c in callbacks):
        raise ValueError(
            "autologging is on and an MlflowCallback is in the callbacks: turn autologging off "
            "(mltrail.keras.autolog(disable=True)) or leave the callback out"
        )
    return [*callbacks, ours]


def _patched_fit(original: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
    arguments = _arguments(original, (model, *args), kwargs)
    _fluent.log_params(_params(original, model, arguments))
    model_id = None
    if _config("log_models", True):
        model_id = _fluent_logged_models.initialize_logged_model("model").model_id
    if _config("log_datasets", True):
        try:
            _log_datasets(arguments, model_id)
        except Exception as exc:
            log_warning(INTEGRATION, f"Failed to log dataset information to MLflow. Reason: {exc}")
    callback = MlflowCallback(
        log_every_epoch=_config("log_every_epoch", True),
        log_every_n_steps=_config("log_every_n_steps"),
        model_id=model_id,
    )
    arguments["callbacks"] = _callbacks(arguments.get("callbacks"), callback)
    history = original(model, **arguments)
    if model_id is not None:
        try:
            _log_model(model, model_id)
        except Exception:
            # The logged model made before training would stay PENDING.
            _fluent_logged_models.finalize_logged_model(model_id, "FAILED")
            raise
    return history
