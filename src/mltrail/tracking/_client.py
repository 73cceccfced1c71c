"""MlflowClient: the explicit, run-id-addressed tracking API (MLflow's names and semantics)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.entities._logged_model import LoggedModelMetric, validate_model_id
from mltrail.store import Backend, PagedList
from mltrail.tracking import _background
from mltrail.tracking._backends import backend_for
from mltrail.tracking._batching import AsyncLogger, wait_for_all
from mltrail.tracking._client_artifacts import ClientArtifacts
from mltrail.tracking._client_logged_models import ClientLoggedModels
from mltrail.tracking._client_registry import ClientRegistry
from mltrail.tracking._client_workspaces import ClientWorkspaces
from mltrail.tracking._uri import get_tracking_uri, resolve_tracking_uri
from mltrail.validation import validate_key, validate_metric_value, validate_param_value

__all__ = ["MlflowClient"]

PARENT_RUN_TAG = "mlflow.parentRunId"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _tag_list(tags: Mapping[str, Any] | Sequence[RunTag] | None) -> list[RunTag]:
    if not tags:
        return []
    if isinstance(tags, Mapping):
        return [RunTag(str(k), "" if v is None else str(v)) for k, v in tags.items()]
    return list(tags)


class MlflowClient(ClientArtifacts, ClientRegistry, ClientLoggedModels, ClientWorkspaces):
    """A client of one tracking backend, addressed by tracking URI (default: the current one)."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        registry_uri: str | None = None,
        workspace_store_uri: str | None = None,
    ) -> None:
        self._tracking_uri = (
            resolve_tracking_uri(tracking_uri) if tracking_uri else get_tracking_uri()
        )
        self._registry_uri = registry_uri or self._tracking_uri
        self._workspace_store_uri = workspace_store_uri
        self._logger: AsyncLogger | None = None

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def _backend(self) -> Backend:
        """The process's backend of the tracking URI (see :mod:`mltrail.tracking._backends`)."""
        return backend_for(self._tracking_uri)

    @property
    def _async(self) -> AsyncLogger:
        if self._logger is None:
            backend = self._backend  # a server has per-request limits (batch_limits)
            self._logger = AsyncLogger(backend.runs.log_batch, backend.batch_limits)
        return self._logger

    def flush(self) -> None:
        """Wait until values logged without waiting (``synchronous=False``) are stored, and the
        work handed to the background before (autologging's plots and run ends) is done."""
        _background.wait()
        wait_for_all(except_for=self._logger)  # what other clients (the fluent API) queued
        if self._logger is not None:
            self._logger.flush()

    # -- experiments ------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        exp_tags = [ExperimentTag(str(k), str(v)) for k, v in (tags or {}).items()]
        return self._backend.experiments.create_experiment(name, artifact_location, exp_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._backend.experiments.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._backend.experiments.get_experiment_by_name(name)

    def _resolve_experiment_id(self, id_or_name: str | int) -> str:
        """An experiment id; a name is accepted too (as users write it) when no id matches."""
        text = str(id_or_name)
        if text.isdigit():
            try:
                return self._backend.experiments.get_experiment(text).experiment_id
            except NotFound:
                pass
        exp = self._backend.experiments.get_experiment_by_name(text)
        if exp is None:
            raise NotFound(f"No experiment with id or name '{text}' exists")
        return exp.experiment_id

    def search_experiments(
        self,
        view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self._backend.experiments.search_experiments(
            ViewType.coerce(view_type), max_results or 1000, filter_string, order_by, page_token
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._backend.experiments.delete_experiment(self._resolve_experiment_id(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        text = str(experiment_id)
        if not text.isdigit():
            exp = self._backend.experiments.get_experiment_by_name(text)
            text = exp.experiment_id if exp else text
        self._backend.experiments.restore_experiment(text)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._backend.experiments.rename_experiment(
            self._resolve_experiment_id(experiment_id), new_name
        )

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        eid = self._resolve_experiment_id(experiment_id)
        self._backend.experiments.set_experiment_tag(eid, ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._backend.experiments.delete_experiment_tag(
            self._resolve_experiment_id(experiment_id), key
        )

    # -- runs -------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """A new RUNNING run with exactly the given tags (the fluent start_run adds context)."""
        from mltrail._run_context import current_user

        all_tags = dict(tags or {})
        user = str(all_tags.get("mlflow.user") or current_user())
        return self._backend.runs.create_run(
            str(experiment_id), user, start_time or _now_ms(), _tag_list(all_tags), run_name
        )

    def get_run(self, run_id: str) -> Run:
        self.flush()
        return self._backend.runs.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        parent = self.get_run(run_id).data.tags.get(PARENT_RUN_TAG)
        return None if parent is None else self.get_run(parent)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        end_time = _now_ms() if status and RunStatus.is_terminated(status) else None
        self._backend.runs.update_run_info(run_id, status, end_time, name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        self.flush()
        if self._logger is not None:
            self._logger.forget_params(run_id)
        self._backend.runs.update_run_info(
            run_id, status or "FINISHED", end_time or _now_ms(), None
        )

    def delete_run(self, run_id: str) -> None:
        self.flush()
        self._backend.runs.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._backend.runs.restore_run(run_id)

    def move_runs(self, run_ids: Sequence[str], experiment_id: str) -> None:
        """Move runs to another experiment (an mltrail extension)."""
        self.flush()
        self._backend.runs.move_runs(list(run_ids), self._resolve_experiment_id(experiment_id))

    def search_runs(
        self,
        experiment_ids: str | Sequence[str] | None,
        filter_string: str = "",
        run_view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs of the given experiments (``None``: every experiment) matching the filter."""
        self.flush()
        ids = [experiment_ids] if isinstance(experiment_ids, (str, int)) else experiment_ids
        return self._backend.runs.search_runs(
            None if ids is None else [str(i) for i in ids],
            filter_string or None,
            ViewType.coerce(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    # -- logging ----------------------------------------------------------------------------
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> None:
        """Log one metric point; with *model_id*, the point is also linked to that logged
        model, and *dataset_name* / *dataset_digest* (both or neither) say which dataset it
        was measured on."""
        validate_key(key, "metric")
        number = validate_metric_value(key, value)
        ts = _now_ms() if timestamp is None else int(timestamp)
        if (dataset_name is None) != (dataset_digest is None):
            raise InvalidArgument(
                "Invalid log_metric arguments: dataset_name and dataset_digest go together "
                f"(got dataset_name={dataset_name!r}, dataset_digest={dataset_digest!r})"
            )
        if model_id is not None:
            point = LoggedModelMetric(
                key, number, ts, int(step or 0), validate_model_id(model_id), run_id,
                dataset_name, dataset_digest,
            )  # fmt: skip
            self._backend.logged_models.log_model_metrics(run_id, [point])
        elif synchronous is False:
            self._async.log_metric(run_id, key, number, ts, int(step or 0))
        else:
            self._backend.runs.log_batch(run_id, metrics=[Metric(key, number, ts, int(step or 0))])

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        validate_key(key, "param")
        text = validate_param_value(key, value)
        if synchronous is False:
            self._async.log_param(run_id, key, text)
        else:
            self._backend.runs.log_batch(run_id, params=[Param(key, text)])
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        validate_key(key, "tag")
        text = "" if value is None else str(value)
        if synchronous is False:
            self._async.set_tag(run_id, key, text)
        else:
            self._backend.runs.log_batch(run_id, tags=[RunTag(key, text)])

    def delete_tag(self, run_id: str, key: str) -> None:
        self.flush()
        self._backend.runs.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log many values in one call; all or nothing is stored."""
        if synchronous is False:
            for m in metrics:
                self._async.log_metric(run_id, m.key, m.value, m.timestamp, m.step)
            for p in params:
                self._async.log_param(run_id, p.key, str(p.value))
            for t in tags:
                self._async.set_tag(run_id, t.key, str(t.value))
            return
        self._backend.runs.log_batch(run_id, list(metrics), list(params), list(tags))

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[Any] | None = None,
    ) -> None:
        """Record the datasets (``DatasetInput``) and logged models (``LoggedModelInput``: a
        model id) the run used."""
        if datasets or not models:
            self._backend.runs.log_inputs(run_id, list(datasets or []))
        if models:
            self.log_model_inputs(run_id, models)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self.flush()
        return list(self._backend.metrics.get_metric_history(run_id, key))

    def _run_info(self, run_id: str) -> RunInfo:
        """The run's info, for where its artifacts are (fixed when the run is created): read
        without waiting for queued values or background work, so that logging an artifact
        never waits for another (autologging logs while its plots upload)."""
        return self._backend.runs.get_run(run_id).info

    def __repr__(self) -> str:
        return f"MlflowClient(tracking_uri={self._tracking_uri!r})"
