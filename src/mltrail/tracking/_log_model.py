"""``log_model``'s tracking half: MLflow 3's logged model, its run, its files, its version.

Every flavor's ``log_model`` (through :func:`mltrail.models._log.log_model`, which builds the
``Model`` and its ``ModelInfo``) ends here, through :mod:`mltrail._model_tracking`, and does
what MLflow 3's ``Model.log`` does:

- a PENDING logged model is created (``models:/m-...``) in the active run's experiment (else
  the current one), named after the model, with the run's params and the given ones, the given
  tags and the run context tags (or the existing model ``model_id=`` names is taken);
- when a run is given or active (none is started) the model becomes one of the run's outputs
  at ``step``, and the run's metric values at that step are linked to it;
- the model is saved into a private temporary directory and uploaded to the logged model's
  own location (``<experiment artifacts>/models/<model_id>/artifacts``), not into the run's
  artifacts; ``runs:/<run_id>/<name>`` still finds it through the run's outputs;
- the model's ``model_config`` becomes the run's params (nested keys joined with ``/``; a
  failure is a warning, as in MLflow);
- the model is marked READY, or FAILED when saving or uploading fails;
- with a registered model name, a version is created from ``models:/<model_id>`` with the
  given tags.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mltrail._exceptions import MltrailError
from mltrail._model_tracking import LoggedModelResult, LogModelRequest, TaggedModel
from mltrail.entities._logged_model import LoggedModelMetric, LoggedModelOutput
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent import active_run, log_params, start_run
from mltrail.tracking._fluent_logged_models import initialize_logged_model
from mltrail.tracking._fluent_registry import register_model

__all__ = ["log_files", "log_model"]

M = TypeVar("M", bound=TaggedModel)

_logger = logging.getLogger(__name__)


def _run(run_id: str | None) -> tuple[MlflowClient, str]:
    """The client and id of the run to log to: *run_id*, or the active run (started if none)."""
    if run_id is not None:
        return MlflowClient(), run_id
    active = active_run() or start_run()
    return active.client, active.info.run_id


def _target_run(run_id: str | None) -> str | None:
    """The run a model is logged from: *run_id*, else the active run, else none (MLflow 3's
    ``log_model`` starts no run)."""
    if run_id:
        return run_id
    active = active_run()
    return None if active is None else active.info.run_id


def _logged_model(client: MlflowClient, request: LogModelRequest, run_id: str | None) -> Any:
    """The logged model to store the files in: the one *request.model_id* names, else a new
    PENDING one carrying the run's params beside the given ones (the run's win, as in
    MLflow), the given tags and the run context tags."""
    if request.model_id is not None:
        return client.get_logged_model(request.model_id)
    params = {str(k): str(v) for k, v in (request.params or {}).items()}
    if run_id is not None:
        params.update(client.get_run(run_id).data.params)
    tags = None if request.tags is None else {str(k): str(v) for k, v in request.tags.items()}
    return initialize_logged_model(
        name=request.name,
        source_run_id=run_id,
        tags=tags,
        params=params,
        model_type=request.model_type,
    )


def _link_step_metrics(client: MlflowClient, model_id: str, run_id: str, step: int) -> None:
    """Link the run's metric values at *step* (those not measured for a model already) to the
    new model, as MLflow 3's ``log_model`` does; the run's histories gain no point."""
    points = [
        LoggedModelMetric(
            key=m.key,
            value=m.value,
            timestamp=m.timestamp,
            step=m.step,
            model_id=model_id,
            run_id=run_id,
            dataset_name=m.dataset_name,
            dataset_digest=m.dataset_digest,
        )
        for key in client.get_run(run_id).data.metrics
        for m in client.get_metric_history(run_id, key)
        if m.step == step and m.model_id is None
    ]
    if points:
        client.log_model_metrics(run_id, points)


def _log_run_params(run_id: str, params: Mapping[str, str]) -> None:
    """Log the model's config as the run's params; as in MLflow, a refusal (a param already
    logged with another value, say) is a warning, and the model is logged all the same."""
    try:
        log_params(params, run_id=run_id)
    except MltrailError as exc:
        _logger.warning("Failed to log model config as params: %s", exc.message)


def log_model(
    save: Callable[[str, dict[str, Any]], M], request: LogModelRequest
) -> LoggedModelResult[M]:
    """Log a model as MLflow 3 does (:meth:`mltrail._model_tracking.ModelTracking.log_model`)."""
    client = MlflowClient()
    run_id = _target_run(request.run_id)
    logged = _logged_model(client, request, run_id)
    model_id = str(logged.model_id)
    try:
        if run_id is not None:
            client.log_outputs(run_id, [LoggedModelOutput(model_id, request.step)])
            _link_step_metrics(client, model_id, run_id, request.step)
        tmp = tempfile.mkdtemp(prefix="mltrail-log-model-")  # mode 0o700
        try:
            local = os.path.join(tmp, "model")
            fields = {
                "artifact_path": str(logged.artifact_location),
                "run_id": run_id,
                "model_uuid": model_id,
                "model_id": model_id,
            }
            model = save(local, fields)
            client.log_model_artifacts(model_id, local)
            if run_id is not None and request.run_params:
                _log_run_params(run_id, request.run_params)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        with contextlib.suppress(Exception):
            client.finalize_logged_model(model_id, "FAILED")
        raise
    client.finalize_logged_model(model_id, "READY")
    version = None
    if request.registered_model_name:
        registered = register_model(
            f"models:/{model_id}", request.registered_model_name, tags=request.tags
        )
        version = int(registered.version)
    return LoggedModelResult(model, run_id, logged, version)


def log_files(local_dir: str, artifact_path: str, run_id: str | None) -> str:
    """Log the files of *local_dir* below *artifact_path* of the run (the active one, started
    if none, when *run_id* is None); returns the URI of *artifact_path* in the run."""
    client, run_id = _run(run_id)
    client.log_artifacts(run_id, local_dir, artifact_path)
    root = str(client.get_run(run_id).info.artifact_uri).rstrip("/")
    return f"{root}/{artifact_path.strip('/')}" if artifact_path else root
