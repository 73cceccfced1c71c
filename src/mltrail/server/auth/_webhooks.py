"""Which registry events a webhook held by users may be sent.

MLflow keeps webhooks to admins, because a webhook names no registered model: it is sent the
events of every model.  An authenticating mltrail server also lets a user create one (they are
granted MANAGE on it, as on anything they create) and lets an admin grant one to a user.  Such
a webhook must not carry events its holders could not otherwise see, so an event about a
registered model is written to its outbox only when every non-admin user holding MANAGE on
the webhook (who may point it elsewhere and read its deliveries) holds MANAGE on the model.
A webhook nobody but admins holds is sent every event, as in MLflow.

The rule is applied when the event is recorded, in the transaction of the change
(:meth:`~mltrail.store.WebhookStore.set_delivery_filter`); it reads the grants as the
server's permission checks do (at most ``auth_cache_ttl_seconds`` old).
"""

from __future__ import annotations

from typing import Any

from mltrail.entities._auth import Permission, ResourceType
from mltrail.server.auth._permissions import Permissions
from mltrail.store import DeliveryFilter

__all__ = ["delivery_filter"]


def delivery_filter(permissions: Permissions) -> DeliveryFilter:
    """The filter an authenticating server installs on its webhook store."""
    store = permissions.store

    def admits(webhook_id: str, event: str, data: dict[str, Any]) -> bool:
        grants = store.list_permissions(resource_type=ResourceType.WEBHOOK, resource_id=webhook_id)
        holders = [g.username for g in grants if g.permission.allows(Permission.MANAGE)]
        if not holders:
            return True
        model = data.get("name")
        if not isinstance(model, str):  # every registry event names its model; refuse if not
            return False
        for username in holders:
            user = store.get_user(username)
            if user.is_admin:
                continue
            if not permissions.of(user, ResourceType.REGISTERED_MODEL, model).can_manage:
                return False
        return True

    return admits
