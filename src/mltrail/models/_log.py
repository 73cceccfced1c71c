"""Logging a model to a run, as every flavor's ``log_model`` does it.

The artifact path is checked here and the ``Model`` and its ``ModelInfo`` are built here; the
run handling (the active run, uploading the files, the run's ``mlflow.log-model.history`` tag,
registering a version) belongs to the tracking layer (:mod:`mltrail.tracking._log_model`),
reached through :mod:`mltrail._model_tracking` so that the flavors never import upward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mltrail._exceptions import InvalidArgument, NotImplementedYet
from mltrail._model_tracking import model_tracking
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
    """Save with ``save(local_dir, Model(artifact_path, run_id))`` and log it to the run.

    *params*, *tags*, *model_type*, *step* and *model_id* are MLflow 3's logged-model arguments
    of every flavor's ``log_model``; *await_registration_for* is accepted as MLflow's (versions
    are created ready here)."""
    del await_registration_for
    logged_model_args: dict[str, object] = {
        "params": params,
        "tags": tags,
        "model_type": model_type,
        "step": step or None,
        "model_id": model_id,
    }
    for arg, value in logged_model_args.items():
        if value is not None:
            raise NotImplementedYet(
                f"log_model's {arg!r} argument (MLflow 3's logged-model entity) is not "
                "supported yet: log params and tags to the run instead"
            )
    path = resolve_artifact_path(artifact_path, name)
    model, run_id, version = model_tracking().log_model(
        lambda local, run: save(local, Model(artifact_path=path, run_id=run)),
        path,
        registered_model_name=registered_model_name,
        run_id=run_id,
    )
    model_uri = f"runs:/{run_id}/{path}"
    return ModelInfo(
        artifact_path=path,
        flavors=model.flavors,
        model_uri=model_uri,
        model_uuid=model.model_uuid,
        run_id=run_id,
        saved_input_example_info=model.saved_input_example_info,
        signature=model.signature,
        utc_time_created=model.utc_time_created,
        mlflow_version=str(model.extra.get("mltrail_version", "")),
        metadata=model.metadata,
        registered_model_version=version,
    )
