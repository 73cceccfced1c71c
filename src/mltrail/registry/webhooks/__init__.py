"""Webhooks for registry events: signed JSON deliveries, retried in the background.

A webhook subscribes an ``http(s)`` endpoint to events such as ``model_version.created``.
Every event is written to a delivery log (the store's outbox) in the same transaction as the
change itself, then sent by a :class:`WebhookDispatcher` (the server starts one for its
backend, the tracking library one per backend it opens): signed with HMAC-SHA256 (see
:func:`verify_signature` for receivers), retried with exponential backoff, and kept with its
outcome (``list_webhook_deliveries`` in the client, ``mltrail webhooks deliveries`` on the
command line).  Private and
loopback destinations are refused unless :class:`WebhookSettings` allows them.

The body of a delivery is ``{"entity", "action", "timestamp", "data"}`` as in MLflow.
"""

from mltrail.entities._webhook import (
    EVENTS,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from mltrail.registry.webhooks._destinations import (
    DestinationRefused,
    WebhookSettings,
    check_destination,
    destination_check,
    is_public_address,
)
from mltrail.registry.webhooks._dispatcher import WebhookDispatcher, example_sender
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
    "DestinationRefused",
    "Webhook",
    "WebhookDelivery",
    "WebhookDispatcher",
    "WebhookEvent",
    "WebhookSettings",
    "WebhookStatus",
    "WebhookTestResult",
    "check_destination",
    "destination_check",
    "example_sender",
    "is_public_address",
    "sign_payload",
    "verify_signature",
]
