"""Logging a model to a run: save it privately, upload it, record it, register it.

The model is saved into a private temporary directory, uploaded below ``artifact_path`` in the
active run's artifacts (a run is started when none is active, as in MLflow), and recorded in
the run's ``mlflow.log-model.history`` tag (a JSON list with one entry per logged model: run id,
artifact path, creation time, model uuid, flavors and signature).  With
``registered_model_name`` a new version of that registered model is created from
``runs:/<run_id>/<artifact_path>``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models._model import Model, ModelInfo

__all__ = ["LOGGED_MODELS_TAG", "log_model", "logged_models", "resolve_artifact_path"]

LOGGED_MODELS_TAG = "mlflow.log-model.history"


def resolve_artifact_path(artifact_path: str | None, name: str | None) -> str:
    """The artifact path from MLflow's two spellings (positional ``artifact_path``, ``name=``)."""
    from mltrail.artifacts import validate_artifact_path

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


def logged_models(tags: dict[str, str]) -> list[dict[str, Any]]:
    """The models recorded in a run's tags (its ``mlflow.log-model.history``), oldest first."""
    raw = tags.get(LOGGED_MODELS_TAG)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _history_value(entries: list[dict[str, Any]]) -> str:
    """The tag value, kept within the tag length limit (older signatures, then entries, go)."""
    from mltrail.validation import MAX_TAG_VALUE_LENGTH

    entries = list(entries)
    text = json.dumps(entries)
    index = 0
    while len(text) > MAX_TAG_VALUE_LENGTH and index < len(entries) - 1:
        entries[index] = {k: v for k, v in entries[index].items() if k != "signature"}
        index += 1
        text = json.dumps(entries)
    while len(text) > MAX_TAG_VALUE_LENGTH and len(entries) > 1:
        entries.pop(0)
        text = json.dumps(entries)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        entries = [{k: v for k, v in entries[0].items() if k != "signature"}]
        text = json.dumps(entries)
    return text


def _register(model_uri: str, name: str) -> int:
    import mltrail

    return int(mltrail.register_model(model_uri, name).version)


def log_model(
    save: Callable[[str, Model], Model],
    *,
    artifact_path: str | None,
    name: str | None = None,
    registered_model_name: str | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Save with ``save(local_dir, Model(artifact_path, run_id))`` and log it to the run."""
    import mltrail

    path = resolve_artifact_path(artifact_path, name)
    if run_id is None:
        active = mltrail.active_run() or mltrail.start_run()
        client = active.client
        run_id = active.info.run_id
    else:
        client = mltrail.MlflowClient()
    tmp = tempfile.mkdtemp(prefix="mltrail-log-model-")  # mode 0o700
    try:
        local = os.path.join(tmp, "model")
        model = save(local, Model(artifact_path=path, run_id=run_id))
        client.log_artifacts(run_id, local, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    history = logged_models(client.get_run(run_id).data.tags)
    history.append(model.get_tags_dict())
    client.set_tag(run_id, LOGGED_MODELS_TAG, _history_value(history))
    model_uri = f"runs:/{run_id}/{path}"
    version = _register(model_uri, registered_model_name) if registered_model_name else None
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
