"""The fluent tracking API: module-level functions working on the active run."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.entities import DatasetInput, InputTag, LoggedModelInput, Run
from mltrail.tracking import _background
from mltrail.tracking._active import ActiveRun, run_stack, state
from mltrail.tracking._client import PARENT_RUN_TAG, MlflowClient
from mltrail.tracking._system_metrics import (
    check_monitor,
    start_monitor,
    stop_monitor,
    system_metrics_enabled,
)
from mltrail.tracking._uri import get_tracking_uri
from mltrail.validation import (
    validate_int,
    validate_key,
    validate_metric_value,
    validate_param_value,
)

__all__ = [
    "active_run",
    "current_experiment_id",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "flush_artifact_async_logging",
    "flush_async_logging",
    "get_artifact_uri",
    "get_parent_run",
    "get_run",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_outputs",
    "log_param",
    "log_params",
    "log_stream",
    "log_text",
    "restore_run",
    "set_tag",
    "set_tags",
    "start_run",
]

DESCRIPTION_TAG = "mlflow.note.content"
#: The run a parent process asks start_run to resume (``mltrail run`` sets both).
RUN_ID_ENV_VARS = ("MLTRAIL_RUN_ID", "MLFLOW_RUN_ID")
_logger = logging.getLogger("mltrail")


def _client() -> MlflowClient:
    """A client for the current tracking URI (reused while the URI stays the same)."""
    uri = get_tracking_uri()
    client = state.last_client
    if client is None or client.tracking_uri != uri:
        client = state.last_client = MlflowClient(uri)
    return client


def current_experiment_id(client: MlflowClient) -> str:
    """The experiment a new run goes to: set_experiment's, else MLFLOW_EXPERIMENT_ID or
    _NAME (the named one created if missing), else the default experiment "0"."""
    if state.experiment_id is not None:
        return state.experiment_id
    eid, name = state.env_experiment()
    if eid:
        return eid
    if name:
        exp = client.get_experiment_by_name(name)
        return exp.experiment_id if exp else client.create_experiment(name)
    return "0"


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run, or resume *run_id*, and make it the active run of this thread.

    Without *run_id*, the run named by ``MLTRAIL_RUN_ID`` or ``MLFLOW_RUN_ID`` is resumed (the
    run ``mltrail run`` made for a project's command); the variables are removed once read, so
    the next ``start_run`` makes a new run, as in MLflow.  A start that fails leaves no active
    run; a run it created or resumed ends FAILED.
    """
    stack = run_stack()
    if stack and not nested:
        raise InvalidArgument(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a nested run, "
            "call start_run with nested=True; to start another run, call end_run() first"
        )
    if not run_id:
        run_id = _run_id_from_environment()
    client = _client()
    monitor = log_system_metrics or (log_system_metrics is None and system_metrics_enabled())
    if monitor:
        check_monitor()  # psutil missing, a bad interval: refused before a run exists
    if run_id:
        run = client.get_run(run_id)
        if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
            raise InvalidArgument(
                f"Run {run_id} belongs to experiment {run.info.experiment_id}, not {experiment_id}"
            )
        client.update_run(run_id, status="RUNNING", name=run_name)
        try:
            extra = {k: str(v) for k, v in (tags or {}).items()}
            if description is not None:
                extra[DESCRIPTION_TAG] = description
            for key, value in extra.items():
                client.set_tag(run_id, key, value)
            run = client.get_run(run_id)
        except BaseException:
            _end_failed(client, run_id)
            raise
    else:
        from mltrail._run_context import resolve_run_context_tags

        all_tags: dict[str, Any] = {**resolve_run_context_tags(), **(tags or {})}
        parent = parent_run_id or (stack[-1].info.run_id if stack and nested else None)
        if parent:
            all_tags[PARENT_RUN_TAG] = parent
        if description is not None:
            all_tags[DESCRIPTION_TAG] = description
        exp_id = str(experiment_id) if experiment_id is not None else current_experiment_id(client)
        run = client.create_run(exp_id, tags=all_tags, run_name=run_name)
    active = ActiveRun(run, client, end_run)
    _register_exit_handler()
    stack.append(active)
    state.last_run_id = run.info.run_id
    if monitor:
        try:
            start_monitor(active.info.run_id, client)
        except BaseException:
            stack.remove(active)
            _end_failed(client, active.info.run_id)
            raise
    return active


def _run_id_from_environment() -> str | None:
    """The run id in MLTRAIL_RUN_ID (else MLFLOW_RUN_ID); both variables are removed."""
    found = [os.environ.pop(name, "") for name in RUN_ID_ENV_VARS]
    return next((value for value in found if value), None)


_exit_handler_registered = False


def _register_exit_handler() -> None:
    """At interpreter exit, runs still active end FINISHED (as in MLflow)."""
    global _exit_handler_registered
    if not _exit_handler_registered:
        import atexit

        atexit.register(_end_runs_at_exit)
        _exit_handler_registered = True


def _end_runs_at_exit() -> None:
    while run_stack():
        run_id = run_stack()[-1].info.run_id
        try:
            end_run()
        except Exception as exc:  # at exit there is nobody left to raise to: report it
            print(f"mltrail: run {run_id} failed at exit: {exc}", file=sys.stderr)


def end_run(status: str = "FINISHED") -> None:
    """End the active run (if any) with *status*; waits until all its values are stored.

    A value the store refused in the background is raised here, and the run ends FAILED.
    """
    for name in RUN_ID_ENV_VARS:  # a run id given to this process is used once (as MLflow)
        os.environ.pop(name, None)
    stack = run_stack()
    if not stack:
        return
    active = stack.pop()
    run_id = active.info.run_id
    stop_monitor(run_id)
    try:
        active.client.flush()
    except BaseException as exc:
        _end_failed(active.client, run_id, "KILLED" if isinstance(exc, KeyboardInterrupt) else None)
        raise
    active.client.set_terminated(run_id, status)


def end_run_in_background(status: str = "FINISHED") -> None:
    """End the active run without waiting (autologging's managed runs): its queued values,
    the work submitted before for it (training plots) and its end are written by the
    background worker; ``flush``, reads through the client and exit wait for them."""
    stack = run_stack()
    if not stack:
        return
    active = stack.pop()
    run_id = active.info.run_id
    stop_monitor(run_id)
    client = active.client

    def finish() -> None:
        try:
            client.flush()
        except Exception as exc:
            _logger.warning("mltrail: run %s ends FAILED: a value was not stored: %s", run_id, exc)
            _end_failed(client, run_id)
            return
        client.set_terminated(run_id, status)

    _background.submit(finish)


def _end_failed(client: MlflowClient, run_id: str, status: str | None = None) -> None:
    """End a run FAILED (or *status*) while an error is on its way to the user, who gets
    that error rather than one from this attempt (say, the store is down)."""
    with contextlib.suppress(Exception):
        client.set_terminated(run_id, status or "FAILED")


def active_run() -> ActiveRun | None:
    stack = run_stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the most recently started one in this process."""
    run = active_run()
    run_id = run.info.run_id if run is not None else state.last_run_id
    return None if run_id is None else _client().get_run(run_id)


def _active_or_start() -> ActiveRun:
    stack = run_stack()
    return stack[-1] if stack else start_run()


def _target(run_id: str | None) -> tuple[MlflowClient, str]:
    if run_id:
        return _client(), run_id
    active = _active_or_start()
    return active.client, active.info.run_id


def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    """Bring a deleted run back (before the garbage collector removes it for good)."""
    _client().restore_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    """The run whose child *run_id* is (its ``mlflow.parentRunId`` tag); None for a run
    started outside any other."""
    return _client().get_parent_run(run_id)


def flush() -> None:
    """Wait until every value logged so far is stored (raises the first failure)."""
    seen = set()
    for active in run_stack():
        seen.add(id(active.client))
        active.client.flush()
    if state.last_client is not None and id(state.last_client) not in seen:
        state.last_client.flush()


def flush_async_logging() -> None:
    """MLflow's name for :func:`flush`: wait until every metric, param and tag logged so far
    (mltrail sends them in the background by default) is stored."""
    flush()


def flush_artifact_async_logging() -> None:
    """Wait until the artifacts handed to the background are stored (autologging's plots and
    models); the logging calls themselves store their files before they return."""
    _background.wait()


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log a metric value; returns at once (the write happens in the background).

    With *model_id* (a logged model's id) and/or *dataset* (from ``mltrail.data``), the point
    is written at once, linked to that model and dataset, and the run records the model and
    the dataset as inputs when it has not yet (as MLflow's)."""
    client, rid = _target(run_id)
    validate_key(key, "metric")
    number = value if type(value) is float else validate_metric_value(key, value)
    ts = time.time_ns() // 1_000_000 if timestamp is None else validate_int("timestamp", timestamp)
    st = 0 if step is None else (step if type(step) is int else validate_int("step", step))
    if model_id is not None or dataset is not None:
        _log_linked_metrics(client, rid, {key: number}, st, ts, model_id, dataset)
    elif synchronous:
        client.log_metric(rid, key, number, ts, st)
    else:
        client._async.log_metric(rid, key, number, ts, st)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    ts = time.time_ns() // 1_000_000 if timestamp is None else timestamp
    if model_id is not None or dataset is not None:
        client, rid = _target(run_id)
        checked = {}
        for key, value in metrics.items():
            validate_key(key, "metric")
            checked[key] = validate_metric_value(key, value)
        st = 0 if step is None else validate_int("step", step)
        _log_linked_metrics(
            client, rid, checked, st, validate_int("timestamp", ts), model_id, dataset
        )
        return
    for key, value in metrics.items():
        log_metric(key, value, step, synchronous, ts, run_id)


def _log_linked_metrics(
    client: MlflowClient,
    run_id: str,
    metrics: Mapping[str, float],
    step: int,
    timestamp: int,
    model_id: str | None,
    dataset: Any,
) -> None:
    """Metrics measured for a logged model and/or on a dataset: the run first records the
    model and the dataset as its inputs (unless it has them), then the points are written."""
    name = digest = None
    entry = None
    if dataset is not None:
        entry = _dataset_input(dataset, None, None)
        name, digest = entry.dataset.name, entry.dataset.digest
    run = client.get_run(run_id)
    inputs, outputs = run.inputs, run.outputs
    known_models = {m.model_id for m in inputs.model_inputs} | {
        m.model_id for m in outputs.model_outputs
    }
    new_models = [LoggedModelInput(model_id)] if model_id and model_id not in known_models else []
    known_data = {(d.dataset.name, d.dataset.digest) for d in inputs.dataset_inputs}
    new_data = [entry] if entry is not None and (name, digest) not in known_data else []
    if new_models or new_data:
        client.log_inputs(run_id, new_data, models=new_models)
    for key, number in metrics.items():
        client.log_metric(run_id, key, number, timestamp, step, True, name, digest, model_id)


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    client, rid = _target(None)
    validate_key(key, "param")
    text = validate_param_value(key, value)
    if synchronous:
        client._async.check_param(rid, key, text)
        client.log_param(rid, key, text)
    else:
        client._async.log_param(rid, key, text)
    return value


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    client, rid = _target(run_id)
    for key, value in params.items():
        validate_key(key, "param")
        text = validate_param_value(key, value)
        if synchronous:
            client._async.check_param(rid, key, text)
            client.log_param(rid, key, text)
        else:
            client._async.log_param(rid, key, text)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    client, rid = _target(None)
    validate_key(key, "tag")
    text = "" if value is None else str(value)
    if synchronous:
        client.set_tag(rid, key, text)
    else:
        client._async.set_tag(rid, key, text)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    for key, value in tags.items():
        set_tag(key, value, synchronous)


def delete_tag(key: str) -> None:
    client, rid = _target(None)
    client.delete_tag(rid, key)


def log_artifact(
    local_path: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    client, rid = _target(run_id)
    client.log_artifact(rid, local_path, artifact_path)


def log_artifacts(
    local_dir: str, artifact_path: str | None = None, run_id: str | None = None
) -> None:
    client, rid = _target(run_id)
    client.log_artifacts(rid, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    client, rid = _target(run_id)
    client.log_text(rid, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    client, rid = _target(run_id)
    client.log_dict(rid, dictionary, artifact_file)


def log_figure(
    figure: Any,
    artifact_file: str,
    *,
    save_kwargs: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    client, rid = _target(run_id)
    client.log_figure(rid, figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    client, rid = _target(run_id)
    client.log_image(rid, image, artifact_file, key, step, timestamp, synchronous)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    active = _active_or_start()
    return active.client.get_artifact_uri(active.info.run_id, artifact_path)


def _dataset_input(dataset: Any, context: str | None, tags: Mapping[str, Any] | None) -> Any:
    to_entity = getattr(dataset, "_to_mlflow_entity", None)
    if to_entity is None:
        raise InvalidArgument(
            f"Invalid dataset {type(dataset).__name__}: log_input takes a dataset from "
            "mltrail.data (e.g. mltrail.data.from_pandas(df))"
        )
    input_tags = [InputTag(k, str(v)) for k, v in (tags or {}).items()]
    if context:
        input_tags.append(InputTag("mlflow.data.context", context))
    return DatasetInput(to_entity(), input_tags)


def log_input(
    dataset: Any,
    context: str | None = None,
    tags: Mapping[str, str] | None = None,
    model: Any = None,
    run_id: str | None = None,
) -> None:
    """Record that the run used *dataset* (from ``mltrail.data``), e.g. with context "training",
    and/or the logged model *model* (a ``LoggedModelInput``)."""
    entries = [] if dataset is None else [_dataset_input(dataset, context, tags)]
    client, rid = _target(run_id)
    client.log_inputs(rid, entries, models=[model] if model is not None else None)


def log_inputs(
    datasets: Sequence[Any] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[Mapping[str, str] | None] | None = None,
    models: Sequence[Any] | None = None,
) -> None:
    """Record several datasets at once, each with its context and tags (three lists of the
    same length, as MLflow's), and the logged models the run used (``LoggedModelInput``; MLflow
    takes these on Databricks only)."""
    given = [list(datasets or []), list(contexts or []), list(tags_list or [])]
    if len({len(items) for items in given}) != 1:
        raise InvalidArgument(
            "Invalid log_inputs arguments: datasets, contexts and tags_list must have the same "
            f"length (got {', '.join(str(len(items)) for items in given)})"
        )
    entries = [_dataset_input(d, c, t) for d, c, t in zip(*given, strict=True)]
    active = _active_or_start()
    active.client.log_inputs(active.info.run_id, entries, models=list(models or []) or None)


def log_outputs(models: Sequence[Any] | None = None) -> None:
    """Record the logged models (``LoggedModelOutput``: a model id and a step) the active run
    produced (a run is started when none is active)."""
    active = _active_or_start()
    active.client.log_outputs(active.info.run_id, list(models or []))


def log_stream(stream: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Store what a binary stream holds (an open file, ``io.BytesIO``) as *artifact_file* of
    the run (the active one when *run_id* is None, started when none is)."""
    client, rid = _target(run_id)
    client.log_stream(rid, stream, artifact_file)
