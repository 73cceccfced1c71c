"""Webhook endpoints: MLflow's ``/mlflow/webhooks...`` paths and JSON shapes, and mltrail's
``GET /mlflow/webhooks/{webhook_id}/deliveries`` (the delivery log with each outcome).

Handlers use the ``webhooks`` part of the app's backend.  The server's webhook policy applies
here: a webhook's URL must be a destination the server may send to (checked at creation and
change), and ``test`` sends through the server's own sender.  With authentication, a user
manages the webhooks they created; such a webhook is sent only the events of registered
models its holders may MANAGE (:mod:`mltrail.server.auth._webhooks`).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mltrail.entities._auth import ResourceType
from mltrail.registry.webhooks import WebhookEvent
from mltrail.server._access import AUTHENTICATED, WEBHOOK_ID, Effect, manage, searchable
from mltrail.server._context import ServerContext
from mltrail.server._errors import json_response
from mltrail.server._registry_routes import paged_response
from mltrail.server._routing import EMPTY, Endpoint, Handler, RawHandler, read_json_body
from mltrail.server._schema import (
    array,
    boolean,
    enum,
    int32,
    int64,
    obj,
    parse_body,
    parse_query,
    string,
)
from mltrail.server.auth._runtime import visible

__all__ = ["WEBHOOK", "webhook_endpoints"]

_EVENT = obj({"entity": string(), "action": string()}, ["entity", "action"])
WEBHOOK = obj(
    {
        "webhook_id": string(),
        "name": string(),
        "description": string(),
        "url": string(),
        "events": array(_EVENT),
        "status": string(),
        "creation_timestamp": int64(),
        "last_updated_timestamp": int64(),
    }
)
_DELIVERY = obj(
    {
        "delivery_id": string(),
        "webhook_id": string(),
        "event": string(),
        "payload": obj({}),
        "status": enum(("PENDING", "SUCCEEDED", "FAILED")),
        "attempts": int32(),
        "creation_timestamp": int64(),
        "next_attempt_timestamp": int64(),
        "last_attempt_timestamp": int64(),
        "last_status_code": int32(),
        "last_error": string(),
    }
)
_ONE_WEBHOOK = obj({"webhook": WEBHOOK})


# -- webhooks -------------------------------------------------------------------------------
def _events(items: list[dict[str, Any]] | None) -> list[WebhookEvent] | None:
    return None if items is None else [WebhookEvent.coerce(e) for e in items]


def _create_webhook(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    hook = ctx.backend.webhooks.create_webhook(
        args["name"],
        args["url"],
        _events(args.get("events")) or [],
        args.get("description"),
        args.get("secret"),
        args.get("status"),
        check_url=ctx.check_webhook_url,
    )
    return {"webhook": hook.to_dict()}


def _list_webhooks(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.backend.webhooks.list_webhooks(
        args.get("max_results"),
        args.get("page_token") or None,
        visible=visible(ctx, ResourceType.WEBHOOK),
    )
    return paged_response("webhooks", page, page.token)


def _get_webhook(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"webhook": ctx.backend.webhooks.get_webhook(args["webhook_id"]).to_dict()}


def _update_webhook(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    hook = ctx.backend.webhooks.update_webhook(
        args["webhook_id"],
        name=args.get("name"),
        description=args.get("description"),
        url=args.get("url"),
        events=_events(args.get("events")),
        secret=args.get("secret"),
        status=args.get("status"),
        check_url=ctx.check_webhook_url,
    )
    return {"webhook": hook.to_dict()}


def _delete_webhook(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    ctx.backend.webhooks.delete_webhook(args["webhook_id"])
    return {}


def _test_webhook(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    event = args.get("event")
    chosen = None if event is None else WebhookEvent.coerce(event)
    result = ctx.backend.webhooks.test_webhook(args["webhook_id"], chosen, ctx.webhook_sender)
    return {"result": result.to_dict()}


def _deliveries(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = ctx.backend.webhooks.list_webhook_deliveries(
        args["webhook_id"], args.get("max_results"), args.get("page_token") or None
    )
    return paged_response("deliveries", page, page.token)


def _with_webhook_id(handler: Handler, schema: dict[str, Any], method: str) -> RawHandler:
    """A raw handler for ``/mlflow/webhooks/{webhook_id}...``: the id comes from the path,
    the other fields from the query (GET) or the JSON body."""

    async def call(ctx: ServerContext, request: Request) -> Response:
        if method == "GET":
            args = parse_query(request.query_params, schema)
        else:
            body = await read_json_body(request, ctx.settings.max_json_body_bytes)
            args = parse_body(body, schema)
        args["webhook_id"] = request.path_params["webhook_id"]
        return json_response(await run_in_threadpool(handler, ctx, args))

    return call


def _webhook_openapi(schema: dict[str, Any], response: dict[str, Any], method: str) -> Any:
    path_param = {"name": "webhook_id", "in": "path", "required": True, "schema": string()}
    spec: dict[str, Any] = {"parameters": [path_param]}
    if method == "GET":
        spec["parameters"] += [
            {"name": n, "in": "query", "required": False, "schema": s}
            for n, s in schema.get("properties", {}).items()
        ]
    else:
        spec["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    spec["responses"] = {
        "200": {"description": "OK", "content": {"application/json": {"schema": response}}}
    }
    return spec


def _webhook_endpoint(
    method: str,
    suffix: str,
    summary: str,
    schema: dict[str, Any],
    response: dict[str, Any],
    handler: Handler,
    effect: Effect | None = None,
) -> Endpoint:
    return Endpoint(
        method,
        "/mlflow/webhooks/{webhook_id}" + suffix,
        summary,
        raw=_with_webhook_id(handler, schema, method),
        tag="webhooks",
        openapi=_webhook_openapi(schema, response, method),
        # MLflow keeps webhooks to admins.  Here their creator manages them too (and whoever an
        # admin grants them to); such a webhook is sent only the events of registered models
        # its holders may MANAGE (server/auth/_webhooks.py).
        access=manage(WEBHOOK_ID),
        effect=effect,
    )


_WEBHOOK_FIELDS = {
    "name": string(max_length=256),
    "description": string(max_length=100_000),
    "url": string(max_length=2000),
    "events": array(_EVENT, max_items=100),
    "secret": string(max_length=1000),
    "status": enum(("ACTIVE", "DISABLED")),
}
_PAGE_ARGS = {
    "max_results": int64("Page size (1..1000, default 100).", minimum=1, maximum=1000),
    "page_token": string("Token from the previous page."),
}


def webhook_endpoints() -> list[Endpoint]:
    """Every webhook endpoint, for the app's endpoint table."""
    hooks = "/mlflow/webhooks"
    return [
        Endpoint(
            "POST",
            hooks,
            "Create a webhook (private and loopback URLs are refused unless allowed)",
            obj(_WEBHOOK_FIELDS, ["name", "url", "events"]),
            _ONE_WEBHOOK,
            _create_webhook,
            tag="webhooks",
            access=AUTHENTICATED,
            effect=Effect(
                "webhook.create",
                ResourceType.WEBHOOK,
                ("webhook", "webhook_id"),
                creator_manages=True,
            ),
        ),
        Endpoint(
            "GET",
            hooks,
            "List webhooks",
            obj(_PAGE_ARGS),
            obj({"webhooks": array(WEBHOOK), "next_page_token": string()}),
            _list_webhooks,
            tag="webhooks",
            access=searchable(ResourceType.WEBHOOK),
        ),
        _webhook_endpoint("GET", "", "Get a webhook", EMPTY, _ONE_WEBHOOK, _get_webhook),
        _webhook_endpoint(
            "PATCH",
            "",
            "Update a webhook",
            obj(_WEBHOOK_FIELDS),
            _ONE_WEBHOOK,
            _update_webhook,
            Effect("webhook.update", ResourceType.WEBHOOK, "webhook_id"),
        ),
        _webhook_endpoint(
            "DELETE",
            "",
            "Delete a webhook",
            EMPTY,
            EMPTY,
            _delete_webhook,
            Effect("webhook.delete", ResourceType.WEBHOOK, "webhook_id", deletes=True),
        ),
        _webhook_endpoint(
            "POST",
            "/test",
            "Send an example event to a webhook now",
            obj({"event": _EVENT}),
            obj(
                {
                    "result": obj(
                        {
                            "success": boolean(),
                            "response_status": int32(),
                            "response_body": string(),
                            "error_message": string(),
                        }
                    )
                }
            ),
            _test_webhook,
        ),
        _webhook_endpoint(
            "GET",
            "/deliveries",
            "The deliveries to a webhook, newest first, with their outcome (mltrail)",
            obj(_PAGE_ARGS),
            obj({"deliveries": array(_DELIVERY), "next_page_token": string()}),
            _deliveries,
        ),
    ]
