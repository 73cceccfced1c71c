"""Experiment endpoints: create, get, get-by-name, search, update, delete, restore, tags."""

from __future__ import annotations

from typing import Any

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import ExperimentTag, ViewType
from mltrail.entities._auth import ResourceType
from mltrail.search import MAX_ORDER_BY_ITEMS
from mltrail.server._access import (
    AUTHENTICATED,
    EXPERIMENT_ID,
    EXPERIMENT_IDS,
    EXPERIMENT_NAME,
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
    enum,
    int64,
    key_value,
    numeric_id,
    obj,
    string,
)
from mltrail.server._shapes import EXPERIMENT, paged
from mltrail.server.auth._runtime import visible
from mltrail.validation import MAX_EXPERIMENT_TAG_VALUE_LENGTH

__all__ = ["VIEW_TYPES", "experiment_endpoints", "experiment_tags"]

VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
_EXPERIMENT_ID = numeric_id("The experiment's id.")
_ONE = obj({"experiment": EXPERIMENT})


def experiment_tags(items: list[dict[str, Any]] | None) -> list[ExperimentTag]:
    return [ExperimentTag(t["key"], t.get("value", "")) for t in items or []]


def _create(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    location = ctx.check_artifact_location(args.get("artifact_location"))
    experiment_id = ctx.backend.experiments.create_experiment(
        args["name"], location, experiment_tags(args.get("tags"))
    )
    return {"experiment_id": experiment_id}


def _get(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"experiment": ctx.backend.experiments.get_experiment(args["experiment_id"]).to_dict()}


def _get_by_name(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    name = args["experiment_name"]
    experiment = ctx.backend.experiments.get_experiment_by_name(name)
    if experiment is None:
        raise NotFound(f"Could not find experiment with name '{name}'")
    return {"experiment": experiment.to_dict()}


def _search(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.backend.experiments.search_experiments(
        view_type=ViewType.from_string(args.get("view_type", "ACTIVE_ONLY")),
        max_results=args.get("max_results", 1000),
        filter_string=args.get("filter") or None,
        order_by=args.get("order_by") or None,
        page_token=args.get("page_token") or None,
        visible=visible(ctx, ResourceType.EXPERIMENT),
    )
    out: dict[str, Any] = {"experiments": [e.to_dict() for e in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def _delete(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.experiments.delete_experiment(args["experiment_id"])
    return {}


def _restore(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.experiments.restore_experiment(args["experiment_id"])
    return {}


def _update(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    if "new_name" in args:
        ctx.backend.experiments.rename_experiment(args["experiment_id"], args["new_name"])
    else:
        ctx.backend.experiments.get_experiment(args["experiment_id"])  # 404 for an unknown id
    return {}


def _set_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    tag = ExperimentTag(args["key"], args.get("value", ""))
    ctx.backend.experiments.set_experiment_tag(args["experiment_id"], tag)
    return {}


def _delete_tag(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.experiments.delete_experiment_tag(args["experiment_id"], args["key"])
    return {}


_ID_ONLY = obj({"experiment_id": _EXPERIMENT_ID}, ["experiment_id"])
_SEARCH = obj(
    {
        "max_results": int64("Page size (1..50000, default 1000).", minimum=1, maximum=50000),
        "page_token": string("Token from the previous page."),
        "filter": string("Filter, e.g. \"name LIKE 'a%'\" or \"tags.team = 'x'\"."),
        "order_by": array(
            string(),
            "Sort keys such as 'name ASC' or 'creation_time DESC'.",
            max_items=MAX_ORDER_BY_ITEMS,
        ),
        "view_type": enum(VIEW_TYPES, "Which lifecycle stages to include."),
    }
)


#: MLflow's limit on the experiments one search-datasets request names.
MAX_DATASET_SEARCH_EXPERIMENTS = 20


def _search_datasets(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    what = "SearchDatasets request"
    ids = args.get("experiment_ids") or []
    if not ids:
        raise InvalidArgument(f"{what} must specify at least one experiment_id.")
    if len(ids) > MAX_DATASET_SEARCH_EXPERIMENTS:
        raise InvalidArgument(
            f"{what} cannot specify more than {MAX_DATASET_SEARCH_EXPERIMENTS} experiment_ids. "
            f"Received {len(ids)} experiment_ids."
        )
    found = ctx.backend.runs.search_dataset_summaries(ids)
    return {"dataset_summaries": [d.to_dict() for d in found]}


_DATASET_SUMMARY = obj(
    {"experiment_id": string(), "name": string(), "digest": string(), "context": string()}
)


def experiment_endpoints() -> list[Endpoint]:
    ex = "/mlflow/experiments"
    return [
        Endpoint(
            "POST",
            f"{ex}/search-datasets",
            "The datasets the runs of up to 20 experiments logged, with their context (the "
            "filters of MLflow's UI)",
            # at least one id, at most MAX_DATASET_SEARCH_EXPERIMENTS, checked by the handler
            obj({"experiment_ids": array(string(max_length=32), max_items=10_000)}),
            obj({"dataset_summaries": array(_DATASET_SUMMARY)}),
            _search_datasets,
            access=read(EXPERIMENT_IDS),
        ),
        Endpoint(
            "POST",
            f"{ex}/create",
            "Create an experiment",
            obj(
                {
                    "name": string("A unique name.", max_length=500),
                    "artifact_location": string(
                        "Where its runs' artifacts go (an mlflow-artifacts:/ URI when the server "
                        "serves artifacts)."
                    ),
                    "tags": array(
                        key_value(MAX_EXPERIMENT_TAG_VALUE_LENGTH), max_items=MAX_LIST_ITEMS
                    ),
                },
                ["name"],
            ),
            obj({"experiment_id": string()}),
            _create,
            access=AUTHENTICATED,
            effect=Effect(
                "experiment.create", ResourceType.EXPERIMENT, "experiment_id", creator_manages=True
            ),
        ),
        Endpoint(
            "GET",
            f"{ex}/get",
            "Get an experiment by id",
            _ID_ONLY,
            _ONE,
            _get,
            access=read(EXPERIMENT_ID),
        ),
        Endpoint(
            "GET",
            f"{ex}/get-by-name",
            "Get an experiment by name",
            obj({"experiment_name": string(max_length=500)}, ["experiment_name"]),
            _ONE,
            _get_by_name,
            access=read(EXPERIMENT_NAME),
        ),
        Endpoint(
            "GET",
            f"{ex}/search",
            "Search experiments",
            _SEARCH,
            paged("experiments", EXPERIMENT),
            _search,
            access=searchable(ResourceType.EXPERIMENT),
        ),
        Endpoint(
            "POST",
            f"{ex}/search",
            "Search experiments",
            _SEARCH,
            paged("experiments", EXPERIMENT),
            _search,
            access=searchable(ResourceType.EXPERIMENT),
        ),
        Endpoint(
            "POST",
            f"{ex}/delete",
            "Delete an experiment (and its runs)",
            _ID_ONLY,
            handler=_delete,
            access=manage(EXPERIMENT_ID),
            effect=Effect("experiment.delete", ResourceType.EXPERIMENT, "experiment_id"),
        ),
        Endpoint(
            "POST",
            f"{ex}/restore",
            "Restore a deleted experiment (and its runs)",
            _ID_ONLY,
            handler=_restore,
            access=manage(EXPERIMENT_ID),
            effect=Effect("experiment.restore", ResourceType.EXPERIMENT, "experiment_id"),
        ),
        Endpoint(
            "POST",
            f"{ex}/update",
            "Rename an experiment",
            obj(
                {"experiment_id": _EXPERIMENT_ID, "new_name": string(max_length=500)},
                ["experiment_id"],
            ),
            handler=_update,
            access=edit(EXPERIMENT_ID),
            effect=Effect(
                "experiment.rename",
                ResourceType.EXPERIMENT,
                "experiment_id",
                detail_keys=("new_name",),
            ),
        ),
        Endpoint(
            "POST",
            f"{ex}/set-experiment-tag",
            "Set a tag on an experiment",
            obj(
                {
                    "experiment_id": _EXPERIMENT_ID,
                    "key": string(max_length=250),
                    "value": string(max_length=MAX_EXPERIMENT_TAG_VALUE_LENGTH),
                },
                ["experiment_id", "key"],
            ),
            handler=_set_tag,
            access=edit(EXPERIMENT_ID),
        ),
        Endpoint(
            "POST",
            f"{ex}/delete-experiment-tag",
            "Delete a tag of an experiment",
            obj(
                {"experiment_id": _EXPERIMENT_ID, "key": string(max_length=250)},
                ["experiment_id", "key"],
            ),
            handler=_delete_tag,
            access=edit(EXPERIMENT_ID),
        ),
    ]
