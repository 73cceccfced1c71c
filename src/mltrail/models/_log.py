"""Logging a model, as every flavor's ``log_model`` does it: the flavors' import point.

A flavor's ``log_model`` takes the model, its ``save_model``'s arguments and MLflow 3's logging
arguments; :func:`log_flavor_model` splits them.  :func:`log_model`
(``mltrail.models._model.log_saved_model``, which ``Model.log`` uses too) checks the model's
name and builds the ``Model`` and its ``ModelInfo``; the tracking half (MLflow 3's logged model,
linking it to the run, uploading the files to the logged model's location, registering a
version) belongs to the tracking layer (:mod:`mltrail.tracking._log_model`), reached through
:mod:`mltrail._model_tracking` so that the flavors never import upward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mltrail.models._model import Model, ModelInfo, log_saved_model, resolve_artifact_path

__all__ = ["LOGGING_ARGUMENTS", "log_flavor_model", "log_model", "resolve_artifact_path"]

log_model = log_saved_model

#: The arguments of every flavor's ``log_model`` that say how and where the model is logged
#: (the rest say what is saved, and go to the flavor's ``save_model``).
LOGGING_ARGUMENTS = (
    "artifact_path",
    "name",
    "registered_model_name",
    "run_id",
    "params",
    "tags",
    "model_type",
    "step",
    "model_id",
    "await_registration_for",
)


def log_flavor_model(save_model: Callable[..., Model], arguments: Mapping[str, Any]) -> ModelInfo:
    """Log the model of a flavor's ``log_model`` call from the call's *arguments* (a copy of
    its ``locals()`` taken first thing, so that they hold its parameters only).

    The first argument is the model; it and every argument outside :data:`LOGGING_ARGUMENTS`
    go to ``save_model(model, local_dir, mlflow_model=..., ...)`` (``kwargs`` spread out), so
    a flavor's ``log_model`` takes exactly its ``save_model``'s arguments besides the logging
    ones; those go to :func:`log_model`.
    """
    rest = dict(arguments)
    extra = rest.pop("kwargs", None) or {}
    logging = {key: rest.pop(key) for key in LOGGING_ARGUMENTS if key in rest}
    model = rest.pop(next(iter(rest)))

    def save(local: str, mlmodel: Model) -> Model:
        return save_model(model, local, mlflow_model=mlmodel, **rest, **extra)

    return log_saved_model(save, model_config=rest.get("model_config"), **logging)
