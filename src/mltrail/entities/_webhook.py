"""Webhooks, the events they subscribe to, and the log of their deliveries.

Events are ``<entity>.<action>`` strings.  MLflow 3's registry events are supported with the
same names; mltrail adds events for registered-model tags and stage transitions::

    registered_model.created          model_version.created
    model_version_tag.set             model_version_tag.deleted
    model_version_alias.created       model_version_alias.deleted
    registered_model_tag.set          registered_model_tag.deleted      (mltrail)
    model_version.stage_changed                                         (mltrail)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.entities._workspace import DEFAULT_WORKSPACE_NAME
from mltrail.validation import MAX_URL_LENGTH, DestinationRefused, validate_destination_url

__all__ = [
    "EVENTS",
    "MAX_WEBHOOK_URL_LENGTH",
    "DeliveryClaim",
    "DeliveryOutcome",
    "DeliveryStatus",
    "DestinationRefused",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookStatus",
    "WebhookTestResult",
    "delivery_body",
    "example_data",
    "validate_webhook_url",
]

EVENTS: tuple[str, ...] = (
    "registered_model.created",
    "registered_model_tag.set",
    "registered_model_tag.deleted",
    "model_version.created",
    "model_version.stage_changed",
    "model_version_tag.set",
    "model_version_tag.deleted",
    "model_version_alias.created",
    "model_version_alias.deleted",
)


MAX_WEBHOOK_URL_LENGTH = MAX_URL_LENGTH


def validate_webhook_url(url: Any) -> tuple[str, str, int]:
    """The scheme, host and port of a webhook URL: ``http(s)``, a host, no credentials.

    Whether the host may be contacted (public addresses only, unless allowed) is decided
    where deliveries are sent (:func:`mltrail.registry.webhooks.check_destination`).
    """
    return validate_destination_url(url, what="webhook URL", credentials_hint=" (use a secret)")


class WebhookStatus:
    """ACTIVE webhooks receive deliveries; DISABLED ones are kept but skipped."""

    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"
    ALL = (ACTIVE, DISABLED)

    @classmethod
    def coerce(cls, value: Any) -> str:
        text = str(getattr(value, "value", value) or cls.ACTIVE).upper()
        if text not in cls.ALL:
            raise InvalidArgument(f"Invalid webhook status {value!r}: expected ACTIVE or DISABLED")
        return text


class DeliveryStatus:
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """An event a webhook subscribes to: ``WebhookEvent("model_version", "created")``."""

    entity: str
    action: str

    def __post_init__(self) -> None:
        if str(self) not in EVENTS:
            raise InvalidArgument(
                f"Invalid webhook event '{self}': expected one of {', '.join(EVENTS)}"
            )

    def __str__(self) -> str:
        return f"{self.entity}.{self.action}"

    @classmethod
    def from_str(cls, event_str: str) -> WebhookEvent:
        entity, dot, action = str(event_str).strip().partition(".")
        if not dot:
            raise InvalidArgument(
                f"Invalid webhook event {event_str!r}: expected '<entity>.<action>', one of "
                + ", ".join(EVENTS)
            )
        return cls(entity, action)

    @classmethod
    def coerce(cls, value: Any) -> WebhookEvent:
        if isinstance(value, WebhookEvent):
            return value
        if isinstance(value, dict):  # the wire form: {"entity": "MODEL_VERSION", ...}
            return cls(str(value.get("entity")).lower(), str(value.get("action")).lower())
        entity, action = getattr(value, "entity", None), getattr(value, "action", None)
        if entity is not None and action is not None:  # an MLflow WebhookEvent
            return cls(str(getattr(entity, "value", entity)), str(getattr(action, "value", action)))
        return cls.from_str(str(value))

    def to_dict(self) -> dict[str, str]:
        """The wire form (MLflow's proto enum names): ``{"entity": "MODEL_VERSION",
        "action": "CREATED"}``."""
        return {"entity": self.entity.upper(), "action": self.action.upper()}


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered HTTP endpoint; ``secret`` (if any) signs each delivery and is never
    included in :meth:`to_dict`."""

    webhook_id: str
    name: str
    url: str
    events: list[WebhookEvent]
    description: str | None = None
    status: str = WebhookStatus.ACTIVE
    secret: str | None = field(default=None, repr=False)
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    #: The workspace it belongs to (not part of its REST shape, as in MLflow).
    workspace: str = DEFAULT_WORKSPACE_NAME

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "webhook_id": self.webhook_id,
            "name": self.name,
            "url": self.url,
            "events": [e.to_dict() for e in self.events],
            "status": self.status,
        }
        for key in ("description", "creation_timestamp", "last_updated_timestamp"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Webhook:
        return cls(
            webhook_id=str(d["webhook_id"]),
            name=str(d.get("name", "")),
            url=str(d.get("url", "")),
            events=[WebhookEvent.coerce(e) for e in d.get("events") or []],
            description=d.get("description"),
            status=WebhookStatus.coerce(d.get("status")),
            secret=d.get("secret"),
            creation_timestamp=d.get("creation_timestamp"),
            last_updated_timestamp=d.get("last_updated_timestamp"),
        )


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event sent (or being sent) to one webhook, with the outcome of its last attempt.

    ``status`` is PENDING (waiting for its next attempt), SUCCEEDED (a 2xx answer) or FAILED
    (every attempt failed).  ``payload`` is the JSON document sent.
    """

    delivery_id: str
    webhook_id: str
    event: str
    payload: str
    status: str
    attempts: int
    creation_timestamp: int
    next_attempt_timestamp: int | None = None
    last_attempt_timestamp: int | None = None
    last_status_code: int | None = None
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "delivery_id": self.delivery_id,
            "webhook_id": self.webhook_id,
            "event": self.event,
            "payload": json.loads(self.payload),
            "status": self.status,
            "attempts": self.attempts,
            "creation_timestamp": self.creation_timestamp,
        }
        for key in (
            "next_attempt_timestamp",
            "last_attempt_timestamp",
            "last_status_code",
            "last_error",
        ):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WebhookDelivery:
        payload = d.get("payload", {})
        return cls(
            delivery_id=str(d["delivery_id"]),
            webhook_id=str(d["webhook_id"]),
            event=str(d["event"]),
            payload=payload if isinstance(payload, str) else json.dumps(payload),
            status=str(d["status"]),
            attempts=int(d.get("attempts", 0)),
            creation_timestamp=int(d.get("creation_timestamp", 0)),
            next_attempt_timestamp=d.get("next_attempt_timestamp"),
            last_attempt_timestamp=d.get("last_attempt_timestamp"),
            last_status_code=d.get("last_status_code"),
            last_error=d.get("last_error"),
        )


@dataclass(frozen=True, slots=True)
class WebhookTestResult:
    """The outcome of ``test_webhook``: one synchronous delivery of an example payload."""

    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"success": self.success}
        for key in ("response_status", "response_body", "error_message"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


_EXAMPLES: dict[str, dict[str, Any]] = {
    "registered_model.created": {
        "name": "example_model",
        "tags": {"example_key": "example_value"},
        "description": "An example registered model",
    },
    "registered_model_tag.set": {"name": "example_model", "key": "k", "value": "v"},
    "registered_model_tag.deleted": {"name": "example_model", "key": "k"},
    "model_version.created": {
        "name": "example_model",
        "version": "1",
        "source": "runs:/0123456789abcdef0123456789abcdef/model",
        "run_id": "0123456789abcdef0123456789abcdef",
        "tags": {"example_key": "example_value"},
        "description": "An example model version",
    },
    "model_version.stage_changed": {
        "name": "example_model",
        "version": "1",
        "from_stage": "Staging",
        "to_stage": "Production",
        "archived_versions": [],
    },
    "model_version_tag.set": {"name": "example_model", "version": "1", "key": "k", "value": "v"},
    "model_version_tag.deleted": {"name": "example_model", "version": "1", "key": "k"},
    "model_version_alias.created": {"name": "example_model", "alias": "champion", "version": "1"},
    "model_version_alias.deleted": {"name": "example_model", "alias": "champion"},
}


def example_data(event: str) -> dict[str, Any]:
    return dict(_EXAMPLES[event])


def delivery_body(event: str, data: dict[str, Any], at_ms: int | None = None) -> str:
    """The JSON document a delivery carries: ``{"entity", "action", "timestamp", "data"}``."""
    entity, _, action = event.partition(".")
    when = datetime.fromtimestamp(
        (at_ms if at_ms is not None else int(time.time() * 1000)) / 1000, timezone.utc
    )
    return json.dumps(
        {"entity": entity, "action": action, "timestamp": when.isoformat(), "data": data}
    )


@dataclass(frozen=True, slots=True)
class DeliveryClaim:
    """A due delivery claimed for one attempt (leased to its claimer for a while)."""

    delivery_id: str
    webhook_id: str
    url: str
    secret: str | None
    payload: str
    attempts: int


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What an attempt left: the delivery's new status (PENDING again when it is to be retried
    at ``next_attempt_timestamp``), its attempt count and the answer or error."""

    status: str
    attempts: int
    attempt_timestamp: int
    next_attempt_timestamp: int | None
    status_code: int | None
    error: str | None
