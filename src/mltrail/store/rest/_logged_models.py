"""MLflow 3's logged models over a tracking server's REST API (``/mlflow/logged-models/...``).

Reads, finalizations, tag sets, deletes, param logs (the same value again is accepted) and run
links (set semantics) are resent after a failure that may have reached the server; creating a
model and deleting a tag are not.  Linked metrics travel in ``runs/log-batch`` with their
``model_id`` (the server drops points the run already has), in requests of at most 1000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from mltrail.entities._logged_model import (
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
    validate_model_id,
)
from mltrail.entities._metric import metric_value_to_json
from mltrail.store._base import PagedList
from mltrail.store._logged_models_base import LoggedModelStore, OrderBy
from mltrail.store._visibility import LoggedModelVisibility
from mltrail.store.rest._context import API, RestContext, refuse_visibility
from mltrail.validation import validate_int, validate_key, validate_metric_value

__all__ = ["RestLoggedModels"]

_METRICS_PER_REQUEST = 1000


def _pairs(mapping: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": "" if v is None else str(v)} for k, v in (mapping or {}).items()]


def _order_item(item: OrderBy) -> dict[str, Any]:
    if isinstance(item, str):
        field, _, direction = item.strip().rpartition(" ")
        if direction.upper() in ("ASC", "DESC") and field:
            return {"field_name": field.strip(), "ascending": direction.upper() == "ASC"}
        return {"field_name": item.strip(), "ascending": True}
    return {k: v for k, v in item.items() if v is not None}


def _metric_json(m: LoggedModelMetric) -> dict[str, Any]:
    validate_key(m.key, "metric")
    out: dict[str, Any] = {
        "key": m.key,
        "value": metric_value_to_json(validate_metric_value(m.key, m.value)),
        "timestamp": validate_int("timestamp", m.timestamp),
        "step": validate_int("step", m.step or 0),
        "model_id": validate_model_id(m.model_id),
    }
    if m.dataset_name:
        out["dataset_name"] = m.dataset_name
    if m.dataset_digest:
        out["dataset_digest"] = m.dataset_digest
    return out


class RestLoggedModels(LoggedModelStore):
    """A tracking server's logged models."""

    def __init__(self, ctx: RestContext) -> None:
        self._ctx = ctx

    def _lm_call(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        if method in ("GET", "DELETE") and body is None:
            return self._ctx.client.call(
                method, API + endpoint, params=params, idempotent=idempotent
            )
        return self._ctx.client.call(method, API + endpoint, body=body or {}, idempotent=idempotent)

    @staticmethod
    def _path(model_id: str) -> str:
        return f"logged-models/{quote(validate_model_id(model_id), safe='')}"

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "tags": _pairs(tags),
            "params": _pairs(params),
        }
        for field, value in (("name", name), ("source_run_id", source_run_id)):
            if value is not None:
                body[field] = value
        if model_type is not None:
            body["model_type"] = model_type
        data = self._lm_call("POST", "logged-models", body, idempotent=False)
        return LoggedModel.from_dict(data["model"])

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        params = {"allow_deleted": "true"} if allow_deleted else None
        data = self._lm_call("GET", self._path(model_id), params=params)
        return LoggedModel.from_dict(data["model"])

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        body = {
            "model_id": model_id,
            "status": LoggedModelStatus.to_wire(LoggedModelStatus.parse(status)),
        }
        data = self._lm_call("PATCH", self._path(model_id), body)
        return LoggedModel.from_dict(data["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self._lm_call("DELETE", self._path(model_id))

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        body = {"model_id": model_id, "tags": _pairs(tags)}
        self._lm_call("PATCH", self._path(model_id) + "/tags", body)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        path = f"{self._path(model_id)}/tags/{quote(str(key), safe='')}"
        self._lm_call("DELETE", path, idempotent=False)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        body = {"model_id": model_id, "params": _pairs(params)}
        self._lm_call("POST", self._path(model_id) + "/params", body)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[OrderBy] | None = None,
        page_token: str | None = None,
        *,
        visible: LoggedModelVisibility | None = None,
    ) -> PagedList[LoggedModel]:
        refuse_visibility("search_logged_models", visible)
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "max_results": max_results,
        }
        if filter_string:
            body["filter"] = filter_string
        if datasets:
            body["datasets"] = [dict(d) for d in datasets]
        if order_by:
            body["order_by"] = [_order_item(o) for o in order_by]
        if page_token:
            body["page_token"] = page_token
        data = self._lm_call("POST", "logged-models/search", body)
        return PagedList(
            [LoggedModel.from_dict(m) for m in data.get("models", [])],
            data.get("next_page_token") or None,
        )

    def log_model_metrics(self, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        points = [_metric_json(m) for m in metrics]
        for start in range(0, len(points), _METRICS_PER_REQUEST):
            body = {"run_id": run_id, "metrics": points[start : start + _METRICS_PER_REQUEST]}
            self._lm_call("POST", "runs/log-batch", body)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        body = {"run_id": run_id, "models": [m.to_dict() for m in models]}
        self._lm_call("POST", "runs/outputs", body)

    def log_model_inputs(self, run_id: str, models: Sequence[LoggedModelInput]) -> None:
        body = {"run_id": run_id, "models": [m.to_dict() for m in models]}
        self._lm_call("POST", "runs/log-inputs", body)

    def deleted_logged_models(self, older_than_ms: int | None = None) -> list[LoggedModel]:
        raise self._ctx.refused("Listing deleted logged models for garbage collection")

    def hard_delete_logged_model(self, model_id: str) -> None:
        raise self._ctx.refused("Permanently deleting a logged model")
