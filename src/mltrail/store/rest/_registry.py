"""The model registry over a tracking server's REST API (MLflow's registry endpoints).

Reads, sets, deletes, renames and stage transitions are resent after a failure that may have
reached the server (doing one twice leaves the same state); creations (models, versions,
webhooks) and webhook tests are not.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from mltrail._exceptions import AlreadyExists, NotImplementedYet
from mltrail.entities import ModelVersion, ModelVersionTag, RegisteredModel, RegisteredModelTag
from mltrail.entities._webhook import (
    DeliveryClaim,
    DeliveryOutcome,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookTestResult,
)
from mltrail.store._base import PagedList
from mltrail.store._registry_base import (
    DeliveryFilter,
    ModelRegistryStore,
    UrlCheck,
    WebhookSender,
    WebhookStore,
)
from mltrail.store._visibility import Visibility
from mltrail.store._workspace_base import active_workspace
from mltrail.store.rest._context import RestContext, refuse_visibility

__all__ = ["RestRegistry", "RestWebhooks"]


def _tags(tags: Sequence[Any] | None) -> list[dict[str, str]]:
    return [{"key": t.key, "value": t.value} for t in tags or []]


def _search_body(
    filter_string: str | None, max_results: int, order_by: Sequence[str] | None, token: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"max_results": max_results}
    if filter_string:
        body["filter"] = filter_string
    if order_by:
        body["order_by"] = list(order_by)
    if token:
        body["page_token"] = token
    return body


class RestRegistry(ModelRegistryStore):
    """A tracking server's model registry."""

    def __init__(self, ctx: RestContext) -> None:
        self._ctx = ctx

    def _call(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        *,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        return self._ctx.send(method, endpoint, body, idempotent=idempotent)

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        body: dict[str, Any] = {"name": name, "tags": _tags(tags)}
        if description is not None:
            body["description"] = description
        data = self._call("POST", "registered-models/create", body, idempotent=False)
        return RegisteredModel.from_dict(data["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        data = self._call("GET", "registered-models/get", {"name": name})
        return RegisteredModel.from_dict(data["registered_model"])

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        body = {"name": name, "description": "" if description is None else description}
        data = self._call("PATCH", "registered-models/update", body)
        return RegisteredModel.from_dict(data["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        data = self._call("POST", "registered-models/rename", {"name": name, "new_name": new_name})
        return RegisteredModel.from_dict(data["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        self._call("DELETE", "registered-models/delete", {"name": name}, idempotent=False)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[RegisteredModel]:
        refuse_visibility("search_registered_models", visible)
        body = _search_body(filter_string, max_results, order_by, page_token)
        data = self._call("POST", "registered-models/search", body)
        return PagedList(
            [RegisteredModel.from_dict(m) for m in data.get("registered_models", [])],
            data.get("next_page_token") or None,
        )

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        body = {"name": name, "key": tag.key, "value": tag.value}
        self._call("POST", "registered-models/set-tag", body)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("DELETE", "registered-models/delete-tag", {"name": name, "key": key})

    # -- versions ----------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        body: dict[str, Any] = {"name": name, "source": source, "tags": _tags(tags)}
        for key, value in (
            ("run_id", run_id),
            ("run_link", run_link),
            ("description", description),
            ("model_id", model_id),
        ):
            if value is not None:
                body[key] = value
        data = self._call("POST", "model-versions/create", body, idempotent=False)
        return ModelVersion.from_dict(data["model_version"])

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        data = self._call("GET", "model-versions/get", {"name": name, "version": str(version)})
        return ModelVersion.from_dict(data["model_version"])

    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "description": "" if description is None else description,
        }
        data = self._call("PATCH", "model-versions/update", body)
        return ModelVersion.from_dict(data["model_version"])

    def delete_model_version(self, name: str, version: int | str) -> None:
        body = {"name": name, "version": str(version)}
        self._call("DELETE", "model-versions/delete", body, idempotent=False)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": bool(archive_existing_versions),
        }
        data = self._call("POST", "model-versions/transition-stage", body)
        return ModelVersion.from_dict(data["model_version"])

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        body: dict[str, Any] = {"name": name, "stages": list(stages or [])}
        data = self._call("POST", "registered-models/get-latest-versions", body)
        return [ModelVersion.from_dict(v) for v in data.get("model_versions", [])]

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[ModelVersion]:
        refuse_visibility("search_model_versions", visible)
        body = _search_body(filter_string, max_results, order_by, page_token)
        data = self._call("POST", "model-versions/search", body)
        return PagedList(
            [ModelVersion.from_dict(v) for v in data.get("model_versions", [])],
            data.get("next_page_token") or None,
        )

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        body = {"name": name, "version": str(version)}
        return str(self._call("GET", "model-versions/get-download-uri", body)["artifact_uri"])

    def set_model_version_tag(self, name: str, version: int | str, tag: ModelVersionTag) -> None:
        body = {"name": name, "version": str(version), "key": tag.key, "value": tag.value}
        self._call("POST", "model-versions/set-tag", body)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        body = {"name": name, "version": str(version), "key": key}
        self._call("DELETE", "model-versions/delete-tag", body)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        body = {"name": name, "alias": alias, "version": str(version)}
        self._call("POST", "registered-models/alias", body)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._call("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        data = self._call("GET", "registered-models/alias", {"name": name, "alias": alias})
        return ModelVersion.from_dict(data["model_version"])

    def copy_model_version(self, src_mv: ModelVersion, dst_name: str) -> ModelVersion:
        with contextlib.suppress(AlreadyExists):
            self.create_registered_model(dst_name)
        return self.create_model_version(
            dst_name,
            f"models:/{src_mv.name}/{src_mv.version}",
            run_id=src_mv.run_id,
            tags=[ModelVersionTag(k, v) for k, v in src_mv.tags.items()],
            run_link=src_mv.run_link,
            description=src_mv.description,
        )


def _webhook(d: dict[str, Any]) -> Webhook:
    """A webhook of the server: its REST shape carries no workspace, so (as MLflow's client
    does) it belongs to the workspace the call was made in."""
    return dataclasses.replace(Webhook.from_dict(d), workspace=active_workspace())


class RestWebhooks(WebhookStore):
    """A tracking server's webhooks.  Their deliveries are the server's to send: the outbox
    is not offered through its API, and a URL is checked by the server's policy (a
    ``check_url`` given here is not used)."""

    def __init__(self, ctx: RestContext) -> None:
        self._ctx = ctx

    def _call(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        *,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        return self._ctx.send(method, endpoint, body, idempotent=idempotent)

    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent],
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
        check_url: UrlCheck | None = None,
    ) -> Webhook:
        body: dict[str, Any] = {
            "name": name,
            "url": url,
            "events": [WebhookEvent.coerce(e).to_dict() for e in events],
        }
        for key, value in (("description", description), ("secret", secret), ("status", status)):
            if value is not None:
                body[key] = value
        return _webhook(self._call("POST", "webhooks", body, idempotent=False)["webhook"])

    def get_webhook(self, webhook_id: str) -> Webhook:
        return _webhook(self._call("GET", f"webhooks/{webhook_id}")["webhook"])

    def list_webhooks(
        self,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Webhook]:
        refuse_visibility("list_webhooks", visible)
        data = self._call("GET", "webhooks", {"max_results": max_results, "page_token": page_token})
        return PagedList(
            [_webhook(w) for w in data.get("webhooks", [])],
            data.get("next_page_token") or None,
        )

    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        secret: str | None = None,
        status: str | None = None,
        check_url: UrlCheck | None = None,
    ) -> Webhook:
        body: dict[str, Any] = {}
        for key, value in (
            ("name", name),
            ("description", description),
            ("url", url),
            ("secret", secret),
            ("status", status),
        ):
            if value is not None:
                body[key] = value
        if events is not None:
            body["events"] = [WebhookEvent.coerce(e).to_dict() for e in events]
        return _webhook(self._call("PATCH", f"webhooks/{webhook_id}", body)["webhook"])

    def delete_webhook(self, webhook_id: str) -> None:
        self._call("DELETE", f"webhooks/{webhook_id}", idempotent=False)

    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | None, send: WebhookSender
    ) -> WebhookTestResult:
        """The server sends the example payload (*send* is not used: the server's own policy
        decides where it may send)."""
        body = {} if event is None else {"event": WebhookEvent.coerce(event).to_dict()}
        data = self._call("POST", f"webhooks/{webhook_id}/test", body, idempotent=False)
        result = data.get("result", {})
        return WebhookTestResult(
            success=bool(result.get("success")),
            response_status=result.get("response_status"),
            response_body=result.get("response_body"),
            error_message=result.get("error_message"),
        )

    def list_webhook_deliveries(
        self,
        webhook_id: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[WebhookDelivery]:
        query = {"max_results": max_results, "page_token": page_token}
        data = self._call("GET", f"webhooks/{webhook_id}/deliveries", query)
        return PagedList(
            [WebhookDelivery.from_dict(d) for d in data.get("deliveries", [])],
            data.get("next_page_token") or None,
        )

    def add_pending_listener(self, listener: Callable[[], None]) -> None:
        """Nothing becomes pending here: the server records and sends deliveries."""

    def remove_pending_listener(self, listener: Callable[[], None]) -> None:
        """See :meth:`add_pending_listener`."""

    def set_delivery_filter(self, admits: DeliveryFilter | None) -> None:
        raise NotImplementedYet(
            f"Webhook deliveries are sent by the tracking server ({self._ctx.base_url})"
        )

    def claim_due_deliveries(self, lease_seconds: float, limit: int = 16) -> list[DeliveryClaim]:
        raise NotImplementedYet(
            f"Webhook deliveries are sent by the tracking server ({self._ctx.base_url})"
        )

    def record_delivery_attempt(self, delivery_id: str, outcome: DeliveryOutcome) -> None:
        raise NotImplementedYet(
            f"Webhook deliveries are sent by the tracking server ({self._ctx.base_url})"
        )

    def next_delivery_due(self) -> int | None:
        raise NotImplementedYet(
            f"Webhook deliveries are sent by the tracking server ({self._ctx.base_url})"
        )
