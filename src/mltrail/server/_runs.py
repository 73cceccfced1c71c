"""Run endpoints: create, get, update, delete, restore, search, logging, tags, inputs, moves."""

from __future__ import annotations

import json
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from mltrail.entities._auth import ResourceType
from mltrail.search import MAX_ORDER_BY_ITEMS
from mltrail.server._access import (
    CREATED_RUN_EXPERIMENT,
    EXPERIMENT_ID,
    LOGGED_MODEL_ID,
    MODELS_OF_METRICS,
    MODELS_OF_REQUEST,
    RUN_ID,
    RUN_IDS,
    Effect,
    edit,
    manage,
    read,
    searchable,
)
from mltrail.server._context import ServerContext
from mltrail.server._experiments import VIEW_TYPES
from mltrail.server._model_links import (
    MODEL_INPUTS,
    MODEL_METRIC_FIELDS,
    model_inputs_of,
    model_metrics_of,
)
from mltrail.server._routing import Endpoint
from mltrail.server._schema import (
    MAX_LIST_ITEMS,
    array,
    double,
    enum,
    int64,
    key_value,
    numeric_id,
    obj,
    string,
)
from mltrail.server._shapes import RUN, RUN_INFO, paged
from mltrail.server.auth._runtime import visible
from mltrail.validation import (
    MAX_PARAM_VALUE_LENGTH,
    MAX_RUN_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    validate_batch_limits,
)

__all__ = ["RUN_ID_FIELDS", "run_endpoints", "run_id_of"]

LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
_RUN_ID = string("The run's id.", max_length=256)
#: ``run_id`` and MLflow's legacy name for it; one of them is required.
RUN_ID_FIELDS: dict[str, Any] = {
    "run_id": _RUN_ID,
    "run_uuid": string("Legacy name of run_id.", max_length=256),
}
_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
_METRIC = obj(
    {
        "key": string(max_length=250),
        "value": double(),
        "timestamp": int64(),
        "step": int64(),
        **MODEL_METRIC_FIELDS,
    },
    ["key", "value", "timestamp"],
)
_DATASET_IN = obj(
    {
        "dataset": obj(
            {
                "name": string(max_length=500),
                "digest": string(max_length=36),
                "source_type": string(max_length=36),
                "source": string(max_length=65535),
                "schema": string(max_length=1048576),
                "profile": string(max_length=16777215),
            },
            ["name", "digest", "source_type", "source"],
        ),
        "tags": array(key_value(500), max_items=MAX_LIST_ITEMS),
    },
    ["dataset"],
)


def run_id_of(args: dict[str, Any]) -> str:
    run_id = args.get("run_id") or args.get("run_uuid")
    if not run_id:
        raise InvalidArgument(
            "Missing value for required parameter 'run_id'. See the API docs for more "
            "information about request parameters."
        )
    return str(run_id)


_new_tuple = tuple.__new__


def _with_run(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return obj({**RUN_ID_FIELDS, **fields}, required)


def _tags(items: list[dict[str, Any]] | None) -> list[RunTag]:
    return [RunTag(t["key"], t.get("value", "")) for t in items or []]


def _metric(m: dict[str, Any]) -> Metric:
    # tuple.__new__ straight from C: a log-batch request makes a thousand of these.
    point = (m["key"], m["value"], m["timestamp"], m.get("step", 0), None, None, None, None)
    return _new_tuple(Metric, point)


def _create(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    run = ctx.backend.runs.create_run(
        experiment_id=args.get("experiment_id", "0"),
        user_id=args.get("user_id", ""),
        start_time=args.get("start_time"),  # type: ignore[arg-type]  # None: now
        tags=_tags(args.get("tags")),
        run_name=args.get("run_name") or None,
    )
    return {"run": run.to_dict()}


def _get(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    run_id = run_id_of(args)
    return {"run": ctx.backend.runs.get_run(run_id).to_dict()}


def _update(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    info = ctx.backend.runs.update_run_info(
        run_id_of(args), args.get("status"), args.get("end_time"), args.get("run_name") or None
    )
    return {"run_info": info.to_dict()}


def _delete(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.runs.delete_run(run_id_of(args))
    return {}


def _restore(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.runs.restore_run(run_id_of(args))
    return {}


def _log_metric(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    run_id = run_id_of(args)
    linked = model_metrics_of(run_id, [args])
    if linked:
        ctx.backend.logged_models.log_model_metrics(run_id, linked)
    else:
        ctx.backend.runs.log_batch(run_id, metrics=[_metric(args)])
    return {}


def _log_param(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.runs.log_batch(run_id_of(args), params=[Param(args["key"], args["value"])])
    return {}


def _set_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.runs.log_batch(run_id_of(args), tags=[RunTag(args["key"], args.get("value", ""))])
    return {}


def _delete_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.runs.delete_tag(run_id_of(args), args["key"])
    return {}


def _log_batch(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    raw_metrics = args.get("metrics", [])
    metrics = [_metric(m) for m in raw_metrics if not m.get("model_id")]
    params = [Param(p["key"], p.get("value", "")) for p in args.get("params", [])]
    tags = _tags(args.get("tags"))
    linked = model_metrics_of(run_id_of(args), raw_metrics)
    validate_batch_limits([*metrics, *linked], params, tags)
    if metrics or params or tags:
        ctx.backend.runs.log_batch(run_id_of(args), metrics, params, tags)
    elif not linked:
        ctx.backend.runs.get_run(run_id_of(args))  # 404 for an unknown run, as MLflow does
    if linked:
        ctx.backend.logged_models.log_model_metrics(run_id_of(args), linked)
    return {}


def _log_inputs(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    inputs = [
        DatasetInput(
            Dataset(**item["dataset"]),
            [InputTag(t["key"], t.get("value", "")) for t in item.get("tags", [])],
        )
        for item in args.get("datasets", [])
    ]
    models = model_inputs_of(args)
    if inputs:
        ctx.backend.runs.log_inputs(run_id_of(args), inputs)
    elif not models:
        ctx.backend.runs.get_run(run_id_of(args))
    if models:
        ctx.backend.logged_models.log_model_inputs(run_id_of(args), models)
    return {}


def _log_model(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    try:
        model = json.loads(args["model_json"])
    except ValueError:
        raise InvalidArgument("Invalid value for parameter 'model_json': not valid JSON") from None
    except RecursionError:
        raise InvalidArgument(
            "Invalid value for parameter 'model_json': JSON nested too deeply"
        ) from None
    if not isinstance(model, dict):
        raise InvalidArgument("Invalid value for parameter 'model_json': must be a JSON object")
    run_id = run_id_of(args)
    run = ctx.backend.runs.get_run(run_id)
    history: list[Any] = []
    previous = run.data.tags.get(LOG_MODEL_HISTORY_TAG)
    if previous:
        try:
            loaded = json.loads(previous)
            history = loaded if isinstance(loaded, list) else []
        except ValueError:
            history = []
    history.append(model)
    value = json.dumps(history, separators=(",", ":"))
    ctx.backend.runs.log_batch(run_id, tags=[RunTag(LOG_MODEL_HISTORY_TAG, value)])
    return {}


def _search(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ids = args.get("experiment_ids")
    page = ctx.backend.runs.search_runs(
        experiment_ids=ids or None,
        filter_string=args.get("filter") or None,
        run_view_type=ViewType.from_string(args.get("run_view_type", "ACTIVE_ONLY")),
        max_results=args.get("max_results", 1000),
        order_by=args.get("order_by") or None,
        page_token=args.get("page_token") or None,
        visible=visible(ctx, ResourceType.EXPERIMENT),
    )
    out: dict[str, Any] = {"runs": [r.to_dict() for r in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def _move(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.runs.move_runs(args["run_ids"], args["experiment_id"])
    return {}


def run_endpoints() -> list[Endpoint]:
    runs = "/mlflow/runs"
    tags = array(key_value(MAX_TAG_VALUE_LENGTH), max_items=MAX_LIST_ITEMS)
    return [
        Endpoint(
            "POST",
            f"{runs}/create",
            "Create a run",
            obj(
                {
                    "experiment_id": numeric_id("The experiment (default 0)."),
                    "user_id": string(max_length=256),
                    "run_name": string(max_length=MAX_RUN_NAME_LENGTH),
                    "start_time": int64("Start time in ms since the epoch (default: now)."),
                    "tags": tags,
                }
            ),
            obj({"run": RUN}),
            _create,
            access=edit(CREATED_RUN_EXPERIMENT),
        ),
        Endpoint(
            "GET",
            f"{runs}/get",
            "Get a run",
            _with_run({}, []),
            obj({"run": RUN}),
            _get,
            access=read(RUN_ID),
        ),
        Endpoint(
            "POST",
            f"{runs}/update",
            "Update a run's status, end time or name",
            _with_run(
                {
                    "status": enum(_STATUSES),
                    "end_time": int64(),
                    "run_name": string(max_length=MAX_RUN_NAME_LENGTH),
                },
                [],
            ),
            obj({"run_info": RUN_INFO}),
            _update,
            access=edit(RUN_ID),
        ),
        Endpoint(
            "POST",
            f"{runs}/delete",
            "Delete a run",
            _with_run({}, []),
            handler=_delete,
            access=manage(RUN_ID),
            effect=Effect("run.delete", None, "run_id"),
        ),
        Endpoint(
            "POST",
            f"{runs}/restore",
            "Restore a deleted run",
            _with_run({}, []),
            handler=_restore,
            access=manage(RUN_ID),
            effect=Effect("run.restore", None, "run_id"),
        ),
        Endpoint(
            "POST",
            f"{runs}/log-metric",
            "Log one metric point",
            _with_run(dict(_METRIC["properties"]), ["key", "value", "timestamp"]),
            handler=_log_metric,
            access=edit(RUN_ID, LOGGED_MODEL_ID),
        ),
        Endpoint(
            "POST",
            f"{runs}/log-parameter",
            "Log a param (immutable once logged)",
            _with_run(
                {"key": string(max_length=250), "value": string(max_length=MAX_PARAM_VALUE_LENGTH)},
                ["key", "value"],
            ),
            handler=_log_param,
            access=edit(RUN_ID),
        ),
        Endpoint(
            "POST",
            f"{runs}/set-tag",
            "Set a run tag",
            _with_run(
                {"key": string(max_length=250), "value": string(max_length=MAX_TAG_VALUE_LENGTH)},
                ["key"],
            ),
            handler=_set_tag,
            access=edit(RUN_ID),
        ),
        Endpoint(
            "POST",
            f"{runs}/delete-tag",
            "Delete a run tag",
            _with_run({"key": string(max_length=250)}, ["key"]),
            handler=_delete_tag,
            access=edit(RUN_ID),
        ),
        Endpoint(
            "POST",
            f"{runs}/log-batch",
            "Log metrics, params and tags in one transaction",
            _with_run(
                {
                    "metrics": array(_METRIC, max_items=1000),
                    "params": array(key_value(MAX_PARAM_VALUE_LENGTH), max_items=100),
                    "tags": array(key_value(MAX_TAG_VALUE_LENGTH), max_items=100),
                },
                [],
            ),
            handler=_log_batch,
            access=edit(RUN_ID, MODELS_OF_METRICS),
        ),
        Endpoint(
            "POST",
            f"{runs}/log-inputs",
            "Record datasets used by a run",
            _with_run({"datasets": array(_DATASET_IN, max_items=1000), "models": MODEL_INPUTS}, []),
            handler=_log_inputs,
            access=edit(RUN_ID, MODELS_OF_REQUEST),
        ),
        Endpoint(
            "POST",
            f"{runs}/log-model",
            "Record a logged model's MLmodel on the run (legacy)",
            _with_run({"model_json": string(max_length=1_000_000)}, ["model_json"]),
            handler=_log_model,
            access=edit(RUN_ID),
        ),
        Endpoint(
            "POST",
            f"{runs}/search",
            "Search runs",
            obj(
                {
                    "experiment_ids": array(
                        numeric_id(),
                        "Experiments to search (all if empty).",
                        max_items=MAX_LIST_ITEMS,
                    ),
                    "filter": string("Filter, e.g. \"metrics.rmse < 1 and params.a = '1'\"."),
                    "run_view_type": enum(VIEW_TYPES),
                    "max_results": int64(minimum=1, maximum=50000),
                    "order_by": array(string(), max_items=MAX_ORDER_BY_ITEMS),
                    "page_token": string(),
                }
            ),
            paged("runs", RUN),
            _search,
            access=searchable(ResourceType.EXPERIMENT),
        ),
        Endpoint(
            "POST",
            "/mltrail/runs/move",
            "Move runs to another experiment (mltrail extension)",
            obj(
                {
                    "run_ids": array(string(max_length=256), max_items=1000),
                    "experiment_id": numeric_id(),
                },
                ["run_ids", "experiment_id"],
            ),
            handler=_move,
            tag="mltrail",
            access=manage(RUN_IDS) & edit(EXPERIMENT_ID),
            effect=Effect(
                "run.move", ResourceType.EXPERIMENT, "experiment_id", detail_keys=("run_ids",)
            ),
        ),
    ]
