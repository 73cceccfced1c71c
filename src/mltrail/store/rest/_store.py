"""The REST store's experiments, runs and metrics over a tracking server's HTTP API.

Every method is one call (or a few, for paging and for batches beyond one request's limits) to
MLflow's REST API under ``<tracking URI>/api/2.0/mlflow/``, with MLflow's JSON shapes, so the
store talks to an mltrail server and to an MLflow server alike.  Errors come back as the same
exception classes a local store raises.

Which calls are resent after a failure that may have reached the server (see ``_http``):
reads; sets (tags, run updates, renames, params: the same value again is accepted); deletes and
restores of runs and experiments (a second one changes nothing); ``log-inputs`` (an upsert); and
``log-batch``.  A resent batch carries the same points with the same explicit timestamps and
steps, params with the same values and tags with the same values; the logger sends one batch
at a time, so no later write of a tag can be overtaken by a resent earlier one.  The one visible
effect of a resend after the server had stored the batch and its answer was lost is that each
of its metric points is stored twice, identically (same key, value, timestamp, step): latest,
min and max do not change.  That is the price of never losing a point.  Not resent:
``experiments/create`` and ``runs/create`` (a second one creates a second object or fails),
``delete-tag`` and ``delete-experiment-tag`` (the second one finds nothing and fails).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, MltrailError, NotFound
from mltrail.entities import (
    DatasetInput,
    DatasetSummary,
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
from mltrail.entities._metric import metric_value_to_json
from mltrail.store._base import (
    ExperimentStore,
    MetricStore,
    PagedList,
    RunStore,
    series_from_histories,
)
from mltrail.store._batches import MLFLOW_BATCH_LIMITS, split_batch
from mltrail.store._series import MetricSeries
from mltrail.store._visibility import Visibility
from mltrail.store.rest._context import MLTRAIL_API, RestContext, refuse_visibility
from mltrail.validation import (
    MAX_EXPERIMENT_TAG_VALUE_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    validate_experiment_name,
    validate_int,
    validate_key,
    validate_metric_value,
    validate_param_value,
    validate_tag_value,
)

__all__ = ["RestExperiments", "RestMetrics", "RestRuns"]

HISTORY_PAGE = 25_000  # points per get-history request when reading a whole series
#: The limits of a tracking server's get-history-bulk-interval (MLflow's): runs, points per run.
_MAX_SAMPLE_RUNS = 100
_MAX_SAMPLE_RESULTS = 2500


def _metrics_json(metrics: Sequence[Metric]) -> list[dict[str, Any]]:
    """Metrics in MLflow's JSON shape, checked as a local store checks them."""
    out = []
    for m in metrics:
        key, value, timestamp, step = m.key, m.value, m.timestamp, m.step
        validate_key(key, "metric")  # cached: cheap for keys seen before
        if type(value) is not float:
            value = validate_metric_value(key, value)
        out.append(
            {
                "key": key,
                "value": value if value - value == 0 else metric_value_to_json(value),
                "timestamp": timestamp
                if type(timestamp) is int
                else validate_int("timestamp", timestamp),
                "step": step if type(step) is int else validate_int("step", step or 0),
            }
        )
    return out


def _params_json(params: Sequence[Param]) -> list[dict[str, Any]]:
    seen: dict[str, str] = {}
    for p in params:
        validate_key(p.key, "param")
        value = validate_param_value(p.key, p.value)
        if seen.setdefault(p.key, value) != value:
            raise InvalidArgument(
                f"Duplicate parameter key '{p.key}' with different values "
                f"('{seen[p.key]}' and '{value}') in one batch"
            )
    return [{"key": p.key, "value": str(p.value)} for p in params]


def _tags_json(
    tags: Sequence[RunTag] | Sequence[ExperimentTag], kind: str, limit: int
) -> list[dict[str, Any]]:
    out = []
    for t in tags:
        validate_key(t.key, kind)
        out.append({"key": t.key, "value": validate_tag_value(t.key, t.value, limit)})
    return out


def _view_type(value: int) -> str:
    return ViewType.to_string(ViewType.coerce(value))


class RestExperiments(ExperimentStore):
    """A tracking server's experiments."""

    def __init__(self, ctx: RestContext) -> None:
        self._ctx = ctx

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] | None = None,
    ) -> str:
        validate_experiment_name(name)
        body: dict[str, Any] = {
            "name": name,
            "tags": _tags_json(tags or (), "experiment tag", MAX_EXPERIMENT_TAG_VALUE_LENGTH),
        }
        if artifact_location:
            body["artifact_location"] = artifact_location
        return str(self._ctx.post("experiments/create", body, idempotent=False)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        data = self._ctx.get("experiments/get", experiment_id=str(experiment_id))
        return Experiment.from_dict(data["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            data = self._ctx.get("experiments/get-by-name", experiment_name=name)
        except NotFound as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise  # ENDPOINT_NOT_FOUND: not a tracking server
        return Experiment.from_dict(data["experiment"])

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Experiment]:
        refuse_visibility("search_experiments", visible)
        body: dict[str, Any] = {"view_type": _view_type(view_type), "max_results": max_results}
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        data = self._ctx.post("experiments/search", body, idempotent=True)
        return PagedList(
            [Experiment.from_dict(e) for e in data.get("experiments", [])],
            data.get("next_page_token") or None,
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._ctx.post("experiments/delete", {"experiment_id": experiment_id}, idempotent=True)

    def restore_experiment(self, experiment_id: str) -> None:
        self._ctx.post("experiments/restore", {"experiment_id": experiment_id}, idempotent=True)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        body = {"experiment_id": experiment_id, "new_name": new_name}
        self._ctx.post("experiments/update", body, idempotent=True)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        (checked,) = _tags_json([tag], "experiment tag", MAX_EXPERIMENT_TAG_VALUE_LENGTH)
        body = {"experiment_id": experiment_id, **checked}
        self._ctx.post("experiments/set-experiment-tag", body, idempotent=True)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        body = {"experiment_id": experiment_id, "key": key}
        self._ctx.post("experiments/delete-experiment-tag", body, idempotent=False)

    def deleted_experiments(self, older_than_ms: int | None = None) -> list[Experiment]:
        raise self._ctx.refused("Listing deleted experiments for garbage collection")

    def hard_delete_experiment(self, experiment_id: str) -> None:
        raise self._ctx.refused("Permanently deleting an experiment")


class RestRuns(RunStore):
    """A tracking server's runs."""

    def __init__(self, ctx: RestContext) -> None:
        self._ctx = ctx

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
        run_id: str | None = None,
    ) -> Run:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": _tags_json(tags, "tag", MAX_TAG_VALUE_LENGTH),
        }
        if run_name is not None:
            body["run_name"] = run_name
        if run_id is not None:
            body["run_id"] = run_id  # an mltrail extension of runs/create
        run = Run.from_dict(self._ctx.post("runs/create", body, idempotent=False)["run"])
        if run_id is not None and run.info.run_id != run_id:
            raise MltrailError(
                f"The tracking server at {self._ctx.base_url} does not let a client choose the "
                f"run id (asked for {run_id}, got {run.info.run_id})"
            )
        return run

    def get_run(self, run_id: str) -> Run:
        return Run.from_dict(self._ctx.get("runs/get", run_id=run_id)["run"])

    def update_run_info(
        self,
        run_id: str,
        run_status: int | str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        body: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id}
        if run_status is not None:
            body["status"] = RunStatus.to_string(
                run_status if isinstance(run_status, int) else RunStatus.from_string(run_status)
            )
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        data = self._ctx.post("runs/update", body, idempotent=True)
        return RunInfo.from_dict(data["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._ctx.post("runs/delete", {"run_id": run_id}, idempotent=True)

    def restore_run(self, run_id: str) -> None:
        self._ctx.post("runs/restore", {"run_id": run_id}, idempotent=True)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """One ``log-batch`` request, stored whole or not at all, when the batch is within
        ``MLFLOW_BATCH_LIMITS`` (the backend's ``batch_limits``); a larger one goes as several
        requests in order (as MLflow's client sends it), each of them whole or not at all."""
        # Everything is checked before anything is sent (a bad value in a later request
        # must not leave the earlier ones stored), with the local store's rules and messages.
        m_json = _metrics_json(metrics)
        p_json = _params_json(params)
        t_json = _tags_json(tags, "tag", MAX_TAG_VALUE_LENGTH)
        for m, p, t in split_batch(m_json, p_json, t_json, MLFLOW_BATCH_LIMITS):
            body = {"run_id": run_id, "metrics": m, "params": p, "tags": t}
            self._ctx.post("runs/log-batch", body, idempotent=True)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._ctx.post("runs/delete-tag", {"run_id": run_id, "key": key}, idempotent=False)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        body = {"run_id": run_id, "datasets": [d.to_dict() for d in datasets]}
        self._ctx.post("runs/log-inputs", body, idempotent=True)

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        found = self._ctx.post(
            "experiments/search-datasets", {"experiment_ids": list(experiment_ids)}, idempotent=True
        )
        return [DatasetSummary.from_dict(d) for d in found.get("dataset_summaries", [])]

    def search_runs(
        self,
        experiment_ids: Sequence[str] | None,
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Run]:
        refuse_visibility("search_runs", visible)
        body: dict[str, Any] = {
            "run_view_type": _view_type(run_view_type),
            "max_results": max_results,
        }
        if experiment_ids is not None:
            body["experiment_ids"] = [str(e) for e in experiment_ids]
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        data = self._ctx.post("runs/search", body, idempotent=True)
        return PagedList(
            [Run.from_dict(r) for r in data.get("runs", [])], data.get("next_page_token") or None
        )

    # -- mltrail's extensions (not in MLflow's API) ----------------------------------------
    def move_runs(self, run_ids: Sequence[str], experiment_id: str) -> None:
        body = {"run_ids": list(run_ids), "experiment_id": experiment_id}
        self._ctx.client.call("POST", MLTRAIL_API + "runs/move", body=body, idempotent=True)

    def deleted_runs(self, older_than_ms: int | None = None) -> list[RunInfo]:
        raise self._ctx.refused("Listing deleted runs for garbage collection")

    def hard_delete_run(self, run_id: str) -> None:
        raise self._ctx.refused("Permanently deleting a run")


class RestMetrics(MetricStore):
    """A tracking server's metric histories."""

    def __init__(self, ctx: RestContext) -> None:
        self._ctx = ctx

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        if max_results is not None:
            return self._history_page(run_id, metric_key, max_results, page_token)
        out: list[Metric] = []
        token = page_token
        while True:
            page = self._history_page(run_id, metric_key, HISTORY_PAGE, token)
            out.extend(page)
            token = page.token
            if not token:
                return PagedList(out, None)

    def _history_page(
        self, run_id: str, key: str, max_results: int, page_token: str | None
    ) -> PagedList[Metric]:
        data = self._ctx.get(
            "metrics/get-history",
            run_id=run_id,
            metric_key=key,
            max_results=max_results,
            page_token=page_token,
        )
        return PagedList(
            [
                Metric(
                    key,
                    float(m["value"]),
                    int(m.get("timestamp") or 0),
                    int(m.get("step") or 0),
                )
                for m in data.get("metrics", [])
            ],
            data.get("next_page_token") or None,
        )

    def sample_metric_history(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """The server samples (``metrics/get-history-bulk-interval``, mltrail's or MLflow's)
        within its limits (100 runs, 1 to 2500 points); beyond them, from whole histories."""
        if not run_ids:
            return []
        within = len(run_ids) <= _MAX_SAMPLE_RUNS and 1 <= max_results <= _MAX_SAMPLE_RESULTS
        if not within:
            return super().sample_metric_history(
                run_ids, metric_key, max_results, start_step, end_step
            )
        ranged = start_step is not None and end_step is not None
        data = self._ctx.get(
            "metrics/get-history-bulk-interval",
            run_ids=list(run_ids),
            metric_key=metric_key,
            max_results=max_results,
            start_step=start_step if ranged else None,
            end_step=end_step if ranged else None,
        )
        return [
            Metric(
                metric_key,
                float(m["value"]),
                int(m.get("timestamp") or 0),
                int(m.get("step") or 0),
                run_id=m.get("run_id"),
            )
            for m in data.get("metrics", [])
        ]

    def get_metric_series(
        self,
        run_ids: Sequence[str],
        metric_keys: Sequence[str],
        max_buckets: int = 1000,
        start_step: int | None = None,
        end_step: int | None = None,
        *,
        timestamps: bool = True,
    ) -> list[MetricSeries]:
        return series_from_histories(
            self, run_ids, metric_keys, max_buckets, start_step, end_step, timestamps
        )
