"""Logging a model, as every flavor's ``log_model`` does it.

The model's name is checked here and the ``Model`` and its ``ModelInfo`` are built here; the
tracking half (MLflow 3's logged model, linking it to the run, uploading the files to the
logged model's location, registering a version) belongs to the tracking layer
(:mod:`mltrail.tracking._log_model`), reached through :mod:`mltrail._model_tracking` so that
the flavors never import upward.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._model_tracking import LogModelRequest, model_tracking
from mltrail.artifacts._paths import validate_artifact_path
from mltrail.models._model import Model, ModelInfo

__all__ = ["log_model", "resolve_artifact_path"]


def resolve_artifact_path(artifact_path: str | None, name: str | None) -> str:
    """The artifact path from MLflow's two spellings (positional ``artifact_path``, ``name=``)."""
    if artifact_path is not None and name is not None and artifact_path != name:
        raise InvalidArgument(
            f"Both artifact_path={artifact_path!r} and name={name!r} were given: pass only one"
        )
    chosen = artifact_path if artifact_path is not None else name
    if chosen is None:
        chosen = "model"
    if not isinstance(chosen, str):
        raise InvalidArgument(f"Invalid artifact path {chosen!r}: expected a string")
    checked = validate_artifact_path(chosen.strip("/"))
    if not checked:
        raise InvalidArgument("Invalid artifact path '': a model needs a non-empty name")
    return checked


def log_model(
    save: Callable[[str, Model], Model],
    *,
    artifact_path: str | None,
    name: str | None = None,
    registered_model_name: str | None = None,
    run_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    await_registration_for: int | None = 300,
) -> ModelInfo:
    """Save with ``save(local_dir, Model(...))`` and log it as MLflow 3's ``log_model`` does:
    a logged model (``models:/m-...``), an output of the active run (or of *run_id*; no run
    is started), registered as a version of *registered_model_name* when given.

    *params*, *tags*, *model_type* and *step* describe the new logged model; *model_id* names
    an existing one (``initialize_logged_model``) to store the files in instead.
    *await_registration_for* is accepted as MLflow's (versions are created ready here).
    """
    del await_registration_for
    path = resolve_artifact_path(artifact_path, name)
    if model_type is not None and not isinstance(model_type, str):
        raise InvalidArgument(f"Invalid model_type {model_type!r}: expected a string")
    for arg, mapping in (("params", params), ("tags", tags)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise InvalidArgument(f"Invalid {arg} {mapping!r}: expected a dict of names to values")
    if isinstance(step, bool) or not isinstance(step, int):
        raise InvalidArgument(f"Invalid step {step!r}: expected an integer")
    request = LogModelRequest(
        name=path,
        registered_model_name=registered_model_name,
        run_id=run_id,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        model_id=model_id,
    )
    result = model_tracking().log_model(lambda local, fields: save(local, Model(**fields)), request)
    info = result.model.get_model_info(result.logged_model)
    return dataclasses.replace(info, registered_model_version=result.registered_version)
