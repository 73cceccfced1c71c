"""Webhooks for registry events: signed JSON deliveries, retried in the background.

A webhook subscribes an ``http(s)`` endpoint to events such as ``model_version.created``.
Every event is written to a delivery log in the same transaction as the change itself, then
sent by a background dispatcher: signed with HMAC-SHA256 (see :func:`verify_signature` for
receivers), retried with exponential backoff, and kept with its outcome (``list_webhook_
deliveries`` in the client, ``mltrail webhooks deliveries`` on the command line).  Private and
loopback destinations are refused unless :class:`WebhookSettings` allows them.

The body of a delivery is ``{"entity", "action", "timestamp", "data"}`` as in MLflow.
"""

from mltrail.registry.webhooks._destinations import (
    WebhookSettings,
    check_destination,
    is_public_address,
)
from mltrail.registry.webhooks._entities import (
    EVENTS,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from mltrail.registry.webhooks._signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_payload,
    verify_signature,
)

__all__ = [
    "DELIVERY_ID_HEADER",
    "EVENTS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryStatus",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSettings",
    "WebhookStatus",
    "WebhookTestResult",
    "check_destination",
    "is_public_address",
    "sign_payload",
    "verify_signature",
]
