"""MLflow 3's logged-model endpoints (``/mlflow/logged-models/...``) and ``runs/outputs``.

MLflow 3 clients create a logged model whenever a model is logged (``log_model``, autologging),
upload its files through the artifact proxy below the model's own artifact location
(``mlflow-artifacts:/<experiment>/models/<model_id>/artifacts``), link it to the run
(``runs/outputs``), copy the run's metrics to it (``log-batch`` with ``model_id``) and finalize
it; ``models:/<model_id>`` URIs are resolved through ``get``.  Endpoints whose path carries the
model id are raw routes (see :func:`_model_route`) so the id comes from the path as in MLflow;
their request fields are still checked against a schema, which the OpenAPI document shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import validate_artifact_path
from mltrail.entities._auth import ResourceType
from mltrail.entities._logged_model import LoggedModelOutput, LoggedModelStatus
from mltrail.search import MAX_ORDER_BY_ITEMS
from mltrail.server._access import (
    EXPERIMENT_ID,
    LOGGED_MODEL_ID,
    MODELS_OF_REQUEST,
    RUN_ID,
    SOURCE_RUN_ID,
    Access,
    Effect,
    edit,
    manage,
    read,
    searchable,
)
from mltrail.server._artifacts import stream_file
from mltrail.server._context import ServerContext
from mltrail.server._errors import json_response
from mltrail.server._routing import Endpoint, RawHandler, read_json_body
from mltrail.server._schema import (
    array,
    boolean,
    double,
    enum,
    int32,
    int64,
    key_value,
    numeric_id,
    obj,
    parse_body,
    parse_query,
    string,
)
from mltrail.server._shapes import FILE_INFO
from mltrail.server.auth._runtime import visible_logged_models
from mltrail.store._logged_models_base import MAX_LOGGED_MODELS_RESULTS, LoggedModelStore

__all__ = ["LOGGED_MODEL", "logged_model_endpoints"]

_BASE = "/mlflow/logged-models"
_MODEL_ID = string("The logged model's id (m-<hex>).", max_length=64)
_TAG_VALUE_MAX = 100_000
_PARAM_VALUE_MAX = 6000

LOGGED_MODEL_METRIC = obj(
    {
        "key": string(),
        "value": double(),
        "timestamp": int64(),
        "step": int64(),
        "model_id": string(),
        "run_id": string(),
        "dataset_name": string(),
        "dataset_digest": string(),
    }
)
LOGGED_MODEL = obj(
    {
        "info": obj(
            {
                "model_id": string(),
                "experiment_id": string(),
                "name": string(),
                "creation_timestamp_ms": int64(),
                "last_updated_timestamp_ms": int64(),
                "artifact_uri": string(),
                "status": enum(LoggedModelStatus.WIRE),
                "model_type": string(),
                "source_run_id": string(),
                "status_message": string(),
                "tags": array(key_value()),
            }
        ),
        "data": obj({"params": array(key_value()), "metrics": array(LOGGED_MODEL_METRIC)}),
    }
)
_MODEL_RESPONSE = obj({"model": LOGGED_MODEL})


def _pairs(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {p["key"]: p.get("value", "") for p in items or []}


# -- JSON endpoints -----------------------------------------------------------------------------


def _create(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    model = ctx.backend.logged_models.create_logged_model(
        experiment_id=args["experiment_id"],
        name=args.get("name") or None,
        source_run_id=args.get("source_run_id") or None,
        tags=_pairs(args.get("tags")),
        params=_pairs(args.get("params")),
        model_type=args.get("model_type") or None,
    )
    return {"model": model.to_dict()}


def _search(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.backend.logged_models.search_logged_models(
        experiment_ids=args.get("experiment_ids") or [],
        filter_string=args.get("filter") or None,
        datasets=args.get("datasets") or None,
        max_results=args.get("max_results") or 100,
        order_by=args.get("order_by") or None,
        page_token=args.get("page_token") or None,
        visible=visible_logged_models(ctx),
    )
    out: dict[str, Any] = {"models": [m.to_dict() for m in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def _log_outputs(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    models = [LoggedModelOutput(m["model_id"], m.get("step", 0)) for m in args.get("models", [])]
    store = ctx.backend.logged_models
    if models:
        store.log_outputs(args["run_id"], models)
    else:
        ctx.backend.runs.get_run(args["run_id"])
    return {}


# -- endpoints with the model id in the path ----------------------------------------------------

_Call = Callable[[ServerContext, LoggedModelStore, str, dict[str, Any]], Any]


def _model_route(schema: dict[str, Any], call: _Call) -> RawHandler:
    """A raw handler: path parameters, then the query (GET, DELETE) or JSON body, checked
    against *schema*; *call* runs in a worker thread and returns a JSON body or a Response."""

    async def handle(ctx: ServerContext, request: Request) -> Response:
        path = dict(request.path_params)
        model_id = str(path.pop("model_id"))
        if request.method in ("GET", "DELETE"):
            args = parse_query(request.query_params, schema)
        else:
            body = await read_json_body(request, ctx.settings.max_json_body_bytes)
            args = parse_body(body, schema)
        args.update(path)
        store = ctx.backend.logged_models
        result = await run_in_threadpool(call, ctx, store, model_id, args)
        if isinstance(result, Response):
            return result
        return json_response(result)

    return handle


def _get(ctx: ServerContext, store: LoggedModelStore, model_id: str, args: dict[str, Any]) -> Any:
    model = store.get_logged_model(model_id, allow_deleted=args.get("allow_deleted", False))
    return {"model": model.to_dict()}


def _finalize(
    ctx: ServerContext, store: LoggedModelStore, model_id: str, args: dict[str, Any]
) -> Any:
    if "status" not in args:
        raise InvalidArgument(
            "Missing value for required parameter 'status'. See the API docs for more "
            "information about request parameters."
        )
    model = store.finalize_logged_model(model_id, LoggedModelStatus.parse(args["status"]))
    return {"model": model.to_dict()}


def _delete(
    ctx: ServerContext, store: LoggedModelStore, model_id: str, args: dict[str, Any]
) -> Any:
    store.delete_logged_model(model_id)
    return {}


def _set_tags(
    ctx: ServerContext, store: LoggedModelStore, model_id: str, args: dict[str, Any]
) -> Any:
    store.set_logged_model_tags(model_id, _pairs(args.get("tags")))
    return {"model": store.get_logged_model(model_id).to_dict()}


def _delete_tag(
    ctx: ServerContext, store: LoggedModelStore, model_id: str, args: dict[str, Any]
) -> Any:
    store.delete_logged_model_tag(model_id, str(args["tag_key"]))
    return {}


def _log_params(
    ctx: ServerContext, store: LoggedModelStore, model_id: str, args: dict[str, Any]
) -> Any:
    store.log_logged_model_params(model_id, _pairs(args.get("params")))
    return {}


def _list_artifacts(
    ctx: ServerContext, store: LoggedModelStore, model_id: str, args: dict[str, Any]
) -> Any:
    model = store.get_logged_model(model_id)
    rel = validate_artifact_path(args.get("artifact_directory_path") or "")
    repo = ctx.repo_for_uri(model.artifact_location)
    files = [f.to_dict() for f in repo.list_artifacts(rel or None)]
    return {"root_uri": model.artifact_location, "files": files}


async def _download(ctx: ServerContext, request: Request) -> Response:
    model_id = str(request.path_params["model_id"])
    args = parse_query(request.query_params, _FILE_QUERY)
    rel = validate_artifact_path(args.get("artifact_file_path") or "")
    if not rel:
        raise InvalidArgument(
            "Missing value for required parameter 'artifact_file_path'. See the API docs for "
            "more information about request parameters."
        )
    store = ctx.backend.logged_models
    model = await run_in_threadpool(store.get_logged_model, model_id)
    return await stream_file(ctx.repo_for_uri(model.artifact_location), rel, inline=True)


_FILE_QUERY = obj({"artifact_file_path": string(max_length=4096)})


def _path_params(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names
    ]


def _query_params(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": False, "schema": field}
        for name, field in schema["properties"].items()
    ]


def _json_ok(response: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": response}}}}


def _raw(
    method: str,
    path: str,
    summary: str,
    schema: dict[str, Any],
    call: _Call,
    response: dict[str, Any],
    *,
    access: Access,
    effect: Effect | None = None,
) -> Endpoint:
    params = _path_params("model_id", *(["tag_key"] if "{tag_key" in path else []))
    openapi: dict[str, Any] = {"responses": _json_ok(response)}
    if method in ("GET", "DELETE"):
        openapi["parameters"] = params + _query_params(schema)
    else:
        openapi["parameters"] = params
        openapi["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    return Endpoint(
        method,
        path,
        summary,
        raw=_model_route(schema, call),
        openapi=openapi,
        access=access,
        effect=effect,
    )


def logged_model_endpoints() -> list[Endpoint]:
    one = f"{_BASE}/{{model_id}}"
    tags = array(key_value(_TAG_VALUE_MAX), max_items=1000)
    params = array(key_value(_PARAM_VALUE_MAX), max_items=1000)
    listing = obj({"root_uri": string(), "files": array(FILE_INFO), "next_page_token": string()})
    return [
        Endpoint(
            "POST",
            _BASE,
            "Create a logged model (PENDING) in an experiment",
            obj(
                {
                    "experiment_id": numeric_id(),
                    "name": string(max_length=500),
                    "model_type": string(max_length=500),
                    "source_run_id": string(max_length=256),
                    "params": params,
                    "tags": tags,
                },
                ["experiment_id"],
            ),
            _MODEL_RESPONSE,
            _create,
            access=edit(EXPERIMENT_ID) & read(SOURCE_RUN_ID),
            effect=Effect(
                "logged_model.create",
                ResourceType.LOGGED_MODEL,
                ("model", "info", "model_id"),
                creator_manages=True,
            ),
        ),
        Endpoint(
            "POST",
            f"{_BASE}/search",
            "Search logged models (filter on name, status, params, tags, metrics; order_by)",
            obj(
                {
                    "experiment_ids": array(numeric_id(), max_items=1000),
                    "filter": string(),
                    "datasets": array(
                        obj(
                            {
                                "dataset_name": string(max_length=500),
                                "dataset_digest": string(max_length=64),
                            },
                            ["dataset_name"],
                        ),
                        max_items=100,
                    ),
                    "max_results": int32(minimum=1, maximum=MAX_LOGGED_MODELS_RESULTS),
                    "order_by": array(
                        obj(
                            {
                                "field_name": string(max_length=500),
                                "ascending": boolean(),
                                "dataset_name": string(max_length=500),
                                "dataset_digest": string(max_length=64),
                            },
                            ["field_name"],
                        ),
                        max_items=MAX_ORDER_BY_ITEMS,
                    ),
                    "page_token": string(),
                },
                ["experiment_ids"],
            ),
            obj({"models": array(LOGGED_MODEL), "next_page_token": string()}),
            _search,
            access=searchable(ResourceType.LOGGED_MODEL),
        ),
        _raw(
            "GET",
            one,
            "Get a logged model",
            obj({"allow_deleted": boolean()}),
            _get,
            _MODEL_RESPONSE,
            access=read(LOGGED_MODEL_ID),
        ),
        _raw(
            "PATCH",
            one,
            "Finalize a logged model: set its status (READY after a successful upload)",
            obj(
                {
                    "model_id": _MODEL_ID,
                    "status": enum(LoggedModelStatus.WIRE + LoggedModelStatus.ALL),
                },
                ["status"],
            ),
            _finalize,
            _MODEL_RESPONSE,
            access=edit(LOGGED_MODEL_ID),
        ),
        _raw(
            "DELETE",
            one,
            "Delete a logged model",
            obj({}),
            _delete,
            obj({}),
            access=manage(LOGGED_MODEL_ID),
            effect=Effect(
                "logged_model.delete", ResourceType.LOGGED_MODEL, "model_id", deletes=True
            ),
        ),
        _raw(
            "PATCH",
            f"{one}/tags",
            "Set tags on a logged model",
            obj({"model_id": _MODEL_ID, "tags": tags}),
            _set_tags,
            _MODEL_RESPONSE,
            access=edit(LOGGED_MODEL_ID),
        ),
        _raw(
            "DELETE",
            f"{one}/tags/{{tag_key:path}}",
            "Delete a tag of a logged model",
            obj({}),
            _delete_tag,
            obj({}),
            access=manage(LOGGED_MODEL_ID),
        ),
        _raw(
            "POST",
            f"{one}/params",
            "Log params of a logged model (immutable once logged)",
            obj({"model_id": _MODEL_ID, "params": params}),
            _log_params,
            obj({}),
            access=edit(LOGGED_MODEL_ID),
        ),
        _raw(
            "GET",
            f"{one}/artifacts/directories",
            "List a logged model's artifacts (direct children of artifact_directory_path)",
            obj({"artifact_directory_path": string(max_length=4096)}),
            _list_artifacts,
            listing,
            access=read(LOGGED_MODEL_ID),
        ),
        Endpoint(
            "GET",
            f"{one}/artifacts/files",
            "Download one file of a logged model (artifact_file_path)",
            raw=_download,
            tag="artifacts",
            openapi={
                "parameters": _path_params("model_id") + _query_params(_FILE_QUERY),
                "responses": {
                    "200": {
                        "description": "The file, streamed",
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    }
                },
            },
            access=read(LOGGED_MODEL_ID),
        ),
        Endpoint(
            "POST",
            "/mlflow/runs/outputs",
            "Record the logged models a run produced",
            obj(
                {
                    "run_id": string(max_length=256),
                    "models": array(
                        obj({"model_id": _MODEL_ID, "step": int64()}, ["model_id"]),
                        max_items=1000,
                    ),
                },
                ["run_id"],
            ),
            handler=_log_outputs,
            access=edit(RUN_ID) & edit(MODELS_OF_REQUEST),
        ),
    ]
