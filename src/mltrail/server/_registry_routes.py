"""Model registry endpoints: registered models, versions, tags, aliases, stages.

MLflow's paths and JSON shapes (``/mlflow/registered-models/...``, ``/mlflow/model-versions/
...``); version numbers travel as strings, as in MLflow.  Handlers use the ``registry`` part
of the app's backend.  Webhooks are :mod:`mltrail.server._webhook_routes`.
"""

from __future__ import annotations

from typing import Any

from mltrail.entities import ModelVersionTag, RegisteredModelTag
from mltrail.entities._auth import ResourceType
from mltrail.registry import MAX_REGISTRY_TAG_VALUE_LENGTH
from mltrail.search import MAX_ORDER_BY_ITEMS
from mltrail.server._access import (
    AUTHENTICATED,
    LOGGED_MODEL_ID,
    MODEL_VERSION_NAME,
    REGISTERED_MODEL_NAME,
    RUN_ID,
    VERSION_SOURCE,
    Effect,
    edit,
    manage,
    read,
    searchable,
)
from mltrail.server._context import ServerContext
from mltrail.server._routing import Endpoint
from mltrail.server._schema import (
    MAX_LIST_ITEMS,
    array,
    boolean,
    int64,
    key_value,
    obj,
    string,
)
from mltrail.server.auth._runtime import visible

__all__ = ["MODEL_VERSION", "REGISTERED_MODEL", "paged_response", "registry_endpoints"]

_TAGS = array(key_value(MAX_REGISTRY_TAG_VALUE_LENGTH), max_items=MAX_LIST_ITEMS)
MODEL_VERSION = obj(
    {
        "name": string(),
        "version": string(),
        "creation_timestamp": int64(),
        "last_updated_timestamp": int64(),
        "user_id": string(),
        "current_stage": string(),
        "description": string(),
        "source": string(),
        "run_id": string(),
        "status": string(),
        "status_message": string(),
        "tags": _TAGS,
        "run_link": string(),
        "aliases": array(string()),
        "model_id": string(),
    }
)
REGISTERED_MODEL = obj(
    {
        "name": string(),
        "creation_timestamp": int64(),
        "last_updated_timestamp": int64(),
        "description": string(),
        "latest_versions": array(MODEL_VERSION),
        "tags": _TAGS,
        "aliases": array(obj({"alias": string(), "version": string()})),
    }
)


_NAME = string("The registered model's name.", max_length=256)
_VERSION = string('The version number (as a string, e.g. "1").', max_length=20)
_ALIAS = string("An alias such as 'champion'.", max_length=255)
_KEY = string(max_length=250)
_VALUE = string(max_length=MAX_REGISTRY_TAG_VALUE_LENGTH)
_DESCRIPTION = string(max_length=100_000)
_STAGE = string("None, Staging, Production or Archived (any capitalisation).", max_length=20)
_ONE_MODEL = obj({"registered_model": REGISTERED_MODEL})
_ONE_VERSION = obj({"model_version": MODEL_VERSION})


def paged_response(name: str, items: list[Any], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {name: [i.to_dict() for i in items]}
    if token:
        out["next_page_token"] = token
    return out


# -- registered models ------------------------------------------------------------------------
def _create_model(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    tags = [RegisteredModelTag(t["key"], t.get("value", "")) for t in args.get("tags") or []]
    model = ctx.backend.registry.create_registered_model(
        args["name"], tags, args.get("description")
    )
    return {"registered_model": model.to_dict()}


def _get_model(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"registered_model": ctx.backend.registry.get_registered_model(args["name"]).to_dict()}


def _rename_model(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    model = ctx.backend.registry.rename_registered_model(args["name"], args["new_name"])
    return {"registered_model": model.to_dict()}


def _update_model(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    store = ctx.backend.registry
    if "description" not in args:
        return {"registered_model": store.get_registered_model(args["name"]).to_dict()}
    model = store.update_registered_model(args["name"], args["description"])
    return {"registered_model": model.to_dict()}


def _delete_model(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.registry.delete_registered_model(args["name"])
    return {}


def _search_models(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.backend.registry.search_registered_models(
        args.get("filter") or None,
        args.get("max_results", 100),
        args.get("order_by") or None,
        args.get("page_token") or None,
        visible=visible(ctx, ResourceType.REGISTERED_MODEL),
    )
    return paged_response("registered_models", page, page.token)


def _latest_versions(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    versions = ctx.backend.registry.get_latest_versions(args["name"], args.get("stages") or None)
    return {"model_versions": [v.to_dict() for v in versions]}


def _set_model_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    tag = RegisteredModelTag(args["key"], args.get("value", ""))
    ctx.backend.registry.set_registered_model_tag(args["name"], tag)
    return {}


def _delete_model_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.registry.delete_registered_model_tag(args["name"], args["key"])
    return {}


def _set_alias(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.registry.set_registered_model_alias(args["name"], args["alias"], args["version"])
    return {}


def _delete_alias(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.registry.delete_registered_model_alias(args["name"], args["alias"])
    return {}


def _get_by_alias(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    version = ctx.backend.registry.get_model_version_by_alias(args["name"], args["alias"])
    return {"model_version": version.to_dict()}


# -- versions -------------------------------------------------------------------------------
def _create_version(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    tags = [ModelVersionTag(t["key"], t.get("value", "")) for t in args.get("tags") or []]
    version = ctx.backend.registry.create_model_version(
        args["name"],
        args["source"],
        run_id=args.get("run_id") or None,
        tags=tags,
        run_link=args.get("run_link") or None,
        description=args.get("description"),
        model_id=args.get("model_id") or None,
    )
    return {"model_version": version.to_dict()}


def _get_version(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    version = ctx.backend.registry.get_model_version(args["name"], args["version"])
    return {"model_version": version.to_dict()}


def _update_version(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    store = ctx.backend.registry
    if "description" not in args:
        return {"model_version": store.get_model_version(args["name"], args["version"]).to_dict()}
    version = store.update_model_version(args["name"], args["version"], args["description"])
    return {"model_version": version.to_dict()}


def _delete_version(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.registry.delete_model_version(args["name"], args["version"])
    return {}


def _transition(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    version = ctx.backend.registry.transition_model_version_stage(
        args["name"],
        args["version"],
        args["stage"],
        bool(args.get("archive_existing_versions", False)),
    )
    return {"model_version": version.to_dict()}


def _search_versions(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.backend.registry.search_model_versions(
        args.get("filter") or None,
        args.get("max_results", 10_000),
        args.get("order_by") or None,
        args.get("page_token") or None,
        visible=visible(ctx, ResourceType.REGISTERED_MODEL),
    )
    return paged_response("model_versions", page, page.token)


def _download_uri(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    uri = ctx.backend.registry.get_model_version_download_uri(args["name"], args["version"])
    return {"artifact_uri": uri}


def _set_version_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    tag = ModelVersionTag(args["key"], args.get("value", ""))
    ctx.backend.registry.set_model_version_tag(args["name"], args["version"], tag)
    return {}


def _delete_version_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.registry.delete_model_version_tag(args["name"], args["version"], args["key"])
    return {}


_SEARCH = {
    "filter": string("A filter such as \"name LIKE 'churn%'\" or \"tags.team = 'risk'\"."),
    "order_by": array(string(), "Sort keys such as 'name ASC'.", max_items=MAX_ORDER_BY_ITEMS),
    "page_token": string("Token from the previous page."),
}
_NAME_ONLY = obj({"name": _NAME}, ["name"])
_NAME_VERSION = obj({"name": _NAME, "version": _VERSION}, ["name", "version"])
_NAME_ALIAS = obj({"name": _NAME, "alias": _ALIAS}, ["name", "alias"])
_LATEST = obj({"name": _NAME, "stages": array(_STAGE, max_items=20)}, ["name"])


def _model_endpoints() -> list[Endpoint]:
    rm = "/mlflow/registered-models"
    tag = "registry"
    return [
        Endpoint(
            "POST",
            f"{rm}/create",
            "Create a registered model",
            obj({"name": _NAME, "tags": _TAGS, "description": _DESCRIPTION}, ["name"]),
            _ONE_MODEL,
            _create_model,
            tag=tag,
            access=AUTHENTICATED,
            effect=Effect(
                "registered_model.create",
                ResourceType.REGISTERED_MODEL,
                "name",
                creator_manages=True,
            ),
        ),
        Endpoint(
            "GET",
            f"{rm}/get",
            "Get a registered model",
            _NAME_ONLY,
            _ONE_MODEL,
            _get_model,
            tag=tag,
            access=read(REGISTERED_MODEL_NAME),
        ),
        Endpoint(
            "POST",
            f"{rm}/rename",
            "Rename a registered model",
            obj({"name": _NAME, "new_name": _NAME}, ["name", "new_name"]),
            _ONE_MODEL,
            _rename_model,
            tag=tag,
            access=edit(REGISTERED_MODEL_NAME),
            effect=Effect(
                "registered_model.rename",
                ResourceType.REGISTERED_MODEL,
                "name",
                renames_to="new_name",
            ),
        ),
        Endpoint(
            "PATCH",
            f"{rm}/update",
            "Update a registered model's description",
            obj({"name": _NAME, "description": _DESCRIPTION}, ["name"]),
            _ONE_MODEL,
            _update_model,
            tag=tag,
            access=edit(REGISTERED_MODEL_NAME),
        ),
        Endpoint(
            "DELETE",
            f"{rm}/delete",
            "Delete a registered model with its versions",
            _NAME_ONLY,
            handler=_delete_model,
            tag=tag,
            access=manage(REGISTERED_MODEL_NAME),
            effect=Effect(
                "registered_model.delete", ResourceType.REGISTERED_MODEL, "name", deletes=True
            ),
        ),
        *(
            Endpoint(
                method,
                f"{rm}/search",
                "Search registered models",
                obj(
                    {
                        **_SEARCH,
                        "max_results": int64(
                            "Page size (1..1000, default 100).", minimum=1, maximum=1000
                        ),
                    }
                ),
                obj({"registered_models": array(REGISTERED_MODEL), "next_page_token": string()}),
                _search_models,
                tag=tag,
                access=searchable(ResourceType.REGISTERED_MODEL),
            )
            for method in ("GET", "POST")
        ),
        *(
            Endpoint(
                method,
                f"{rm}/get-latest-versions",
                "The newest version in each stage",
                _LATEST,
                obj({"model_versions": array(MODEL_VERSION)}),
                _latest_versions,
                tag=tag,
                access=read(REGISTERED_MODEL_NAME),
            )
            for method in ("GET", "POST")
        ),
        Endpoint(
            "POST",
            f"{rm}/set-tag",
            "Set a tag on a registered model",
            obj({"name": _NAME, "key": _KEY, "value": _VALUE}, ["name", "key"]),
            handler=_set_model_tag,
            tag=tag,
            access=edit(REGISTERED_MODEL_NAME),
        ),
        Endpoint(
            "DELETE",
            f"{rm}/delete-tag",
            "Delete a tag of a registered model",
            obj({"name": _NAME, "key": _KEY}, ["name", "key"]),
            handler=_delete_model_tag,
            tag=tag,
            access=edit(REGISTERED_MODEL_NAME),
        ),
        Endpoint(
            "POST",
            f"{rm}/alias",
            "Point an alias at a version",
            obj(
                {"name": _NAME, "alias": _ALIAS, "version": _VERSION}, ["name", "alias", "version"]
            ),
            handler=_set_alias,
            tag=tag,
            access=edit(REGISTERED_MODEL_NAME),
            effect=Effect(
                "registered_model.set_alias",
                ResourceType.REGISTERED_MODEL,
                "name",
                detail_keys=("alias", "version"),
            ),
        ),
        Endpoint(
            "DELETE",
            f"{rm}/alias",
            "Delete an alias",
            _NAME_ALIAS,
            handler=_delete_alias,
            tag=tag,
            access=manage(REGISTERED_MODEL_NAME),
            effect=Effect(
                "registered_model.delete_alias",
                ResourceType.REGISTERED_MODEL,
                "name",
                detail_keys=("alias",),
            ),
        ),
        Endpoint(
            "GET",
            f"{rm}/alias",
            "The version an alias points at",
            _NAME_ALIAS,
            _ONE_VERSION,
            _get_by_alias,
            tag=tag,
            access=read(REGISTERED_MODEL_NAME),
        ),
    ]


def _version_endpoints() -> list[Endpoint]:
    mv = "/mlflow/model-versions"
    tag = "registry"
    return [
        Endpoint(
            "POST",
            f"{mv}/create",
            "Register a new version (its source must lie inside a run's or a version's artifacts)",
            obj(
                {
                    "name": _NAME,
                    "source": string(max_length=10_000),
                    "run_id": string(max_length=256),
                    "tags": _TAGS,
                    "run_link": string(max_length=500),
                    "description": _DESCRIPTION,
                    "model_id": string(max_length=256),
                },
                ["name", "source"],
            ),
            _ONE_VERSION,
            _create_version,
            tag=tag,
            access=edit(MODEL_VERSION_NAME) & read(RUN_ID, LOGGED_MODEL_ID, VERSION_SOURCE),
            effect=Effect(
                "model_version.create",
                ResourceType.REGISTERED_MODEL,
                "name",
                detail_keys=("source",),
            ),
        ),
        Endpoint(
            "GET",
            f"{mv}/get",
            "Get a model version",
            _NAME_VERSION,
            _ONE_VERSION,
            _get_version,
            tag=tag,
            access=read(MODEL_VERSION_NAME),
        ),
        Endpoint(
            "PATCH",
            f"{mv}/update",
            "Update a version's description",
            obj(
                {"name": _NAME, "version": _VERSION, "description": _DESCRIPTION},
                ["name", "version"],
            ),
            _ONE_VERSION,
            _update_version,
            tag=tag,
            access=edit(MODEL_VERSION_NAME),
        ),
        Endpoint(
            "DELETE",
            f"{mv}/delete",
            "Delete a model version",
            _NAME_VERSION,
            handler=_delete_version,
            tag=tag,
            access=manage(MODEL_VERSION_NAME),
            effect=Effect(
                "model_version.delete",
                ResourceType.REGISTERED_MODEL,
                "name",
                detail_keys=("version",),
            ),
        ),
        Endpoint(
            "POST",
            f"{mv}/transition-stage",
            "Move a version to a stage",
            obj(
                {
                    "name": _NAME,
                    "version": _VERSION,
                    "stage": _STAGE,
                    "archive_existing_versions": boolean(
                        "Archive the other versions in that stage."
                    ),
                },
                ["name", "version", "stage"],
            ),
            _ONE_VERSION,
            _transition,
            tag=tag,
            access=edit(MODEL_VERSION_NAME),
            effect=Effect(
                "model_version.transition",
                ResourceType.REGISTERED_MODEL,
                "name",
                detail_keys=("version", "stage"),
            ),
        ),
        *(
            Endpoint(
                method,
                f"{mv}/search",
                "Search model versions",
                obj(
                    {
                        **_SEARCH,
                        "max_results": int64(
                            "Page size (1..200000, default 10000).", minimum=1, maximum=200_000
                        ),
                    }
                ),
                obj({"model_versions": array(MODEL_VERSION), "next_page_token": string()}),
                _search_versions,
                tag=tag,
                access=searchable(ResourceType.REGISTERED_MODEL),
            )
            for method in ("GET", "POST")
        ),
        Endpoint(
            "GET",
            f"{mv}/get-download-uri",
            "Where a version's files are",
            _NAME_VERSION,
            obj({"artifact_uri": string()}),
            _download_uri,
            tag=tag,
            access=read(MODEL_VERSION_NAME),
        ),
        Endpoint(
            "POST",
            f"{mv}/set-tag",
            "Set a tag on a model version",
            obj(
                {"name": _NAME, "version": _VERSION, "key": _KEY, "value": _VALUE},
                ["name", "version", "key"],
            ),
            handler=_set_version_tag,
            tag=tag,
            access=edit(MODEL_VERSION_NAME),
        ),
        Endpoint(
            "DELETE",
            f"{mv}/delete-tag",
            "Delete a tag of a model version",
            obj({"name": _NAME, "version": _VERSION, "key": _KEY}, ["name", "version", "key"]),
            handler=_delete_version_tag,
            tag=tag,
            access=manage(MODEL_VERSION_NAME),
        ),
    ]


def registry_endpoints() -> list[Endpoint]:
    """Every registry endpoint (webhooks: :mod:`._webhook_routes`), for the endpoint table."""
    return [*_model_endpoints(), *_version_endpoints()]
