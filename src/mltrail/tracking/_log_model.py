"""``log_model``'s run handling: upload a saved model, record it in the run, register it.

Every flavor's ``log_model`` (through :func:`mltrail.models._log.log_model`, which builds the
``Model`` and its ``ModelInfo``) ends here, through :mod:`mltrail._model_tracking`.  The model
is saved into a private temporary directory, uploaded below its artifact path in the active
run's artifacts (a run is started when none is active, as in MLflow), and recorded in the run's
``mlflow.log-model.history`` tag (a JSON list with one entry per logged model: run id, artifact
path, creation time, model uuid, flavors and signature).  With a registered model name a new
version of that registered model is created from ``runs:/<run_id>/<artifact_path>``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from mltrail._model_tracking import TaggedModel
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent import active_run, start_run
from mltrail.tracking._fluent_registry import register_model
from mltrail.validation import MAX_TAG_VALUE_LENGTH

__all__ = ["LOGGED_MODELS_TAG", "log_files", "log_model", "logged_models"]

LOGGED_MODELS_TAG = "mlflow.log-model.history"

M = TypeVar("M", bound=TaggedModel)


def logged_models(tags: dict[str, str]) -> list[dict[str, Any]]:
    """The models recorded in a run's tags (its ``mlflow.log-model.history``), oldest first."""
    import json  # this module loads with mltrail, json when a model is logged

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
    import json

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
    return int(register_model(model_uri, name).version)


def _run(run_id: str | None) -> tuple[MlflowClient, str]:
    """The client and id of the run to log to: *run_id*, or the active run (started if none)."""
    if run_id is not None:
        return MlflowClient(), run_id
    active = active_run() or start_run()
    return active.client, active.info.run_id


def log_model(
    save: Callable[[str, str], M],
    artifact_path: str,
    *,
    registered_model_name: str | None,
    run_id: str | None,
) -> tuple[M, str, int | None]:
    """Save with ``save(local_dir, run_id)``, log it below *artifact_path* (already checked)
    of the run, record it and register it: (the saved model, the run id, the version)."""
    client, run_id = _run(run_id)
    tmp = tempfile.mkdtemp(prefix="mltrail-log-model-")  # mode 0o700
    try:
        local = os.path.join(tmp, "model")
        model = save(local, run_id)
        client.log_artifacts(run_id, local, artifact_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    history = logged_models(client.get_run(run_id).data.tags)
    history.append(model.get_tags_dict())
    client.set_tag(run_id, LOGGED_MODELS_TAG, _history_value(history))
    model_uri = f"runs:/{run_id}/{artifact_path}"
    version = _register(model_uri, registered_model_name) if registered_model_name else None
    return model, run_id, version


def log_files(local_dir: str, artifact_path: str, run_id: str | None) -> None:
    """Log the files of *local_dir* below *artifact_path* of the run (the active one, started
    if none, when *run_id* is None)."""
    client, run_id = _run(run_id)
    client.log_artifacts(run_id, local_dir, artifact_path)
