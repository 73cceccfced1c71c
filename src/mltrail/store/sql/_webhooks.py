"""Webhooks in the SQL store: the webhooks, the delivery outbox and its sending.

A registry change writes one delivery row per subscribed active webhook in its own
transaction (so an event is logged exactly when the change commits), then kicks the store's
:class:`~mltrail.store.sql._webhook_dispatch.WebhookDispatcher`, which claims due rows, sends
them (:func:`~mltrail.registry.webhooks._sender.send_delivery`) and records each attempt.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.registry.webhooks import (
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookSettings,
    WebhookStatus,
    WebhookTestResult,
    check_destination,
)
from mltrail.registry.webhooks._sender import AttemptResult, send_delivery
from mltrail.store._base import PagedList
from mltrail.store._registry_base import WebhookStore
from mltrail.store.sql._codec import decode_token, encode_token
from mltrail.store.sql._core import now_ms
from mltrail.store.sql._paging import SortColumn, after_condition, order_clauses
from mltrail.store.sql._registry_core import RegistryCore
from mltrail.store.sql._registry_schema import webhook_deliveries_table, webhooks_table
from mltrail.store.sql._webhook_dispatch import WebhookDispatcher
from mltrail.validation import validate_max_results

__all__ = ["SqlWebhooks", "delivery_body", "example_data"]

_W = webhooks_table.c
_D = webhook_deliveries_table.c
MAX_WEBHOOK_NAME_LENGTH = 256
MAX_SECRET_LENGTH = 1000
CLAIM_BATCH = 16

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
    when = datetime.fromtimestamp((at_ms if at_ms is not None else now_ms()) / 1000, timezone.utc)
    return json.dumps(
        {"entity": entity, "action": action, "timestamp": when.isoformat(), "data": data}
    )


@dataclass(frozen=True)
class _Claim:
    delivery_id: str
    url: str
    secret: str | None
    payload: str
    attempts: int


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        webhook_id=row.webhook_id,
        name=row.name,
        url=row.url,
        events=[WebhookEvent.from_str(e) for e in json.loads(row.events)],
        description=row.description,
        status=row.status,
        secret=row.secret,
        creation_timestamp=row.creation_time,
        last_updated_timestamp=row.last_updated_time,
    )


def _delivery(row: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=row.delivery_id,
        webhook_id=row.webhook_id,
        event=row.event,
        payload=row.payload,
        status=row.status,
        attempts=row.attempts,
        creation_timestamp=row.creation_time,
        next_attempt_timestamp=row.next_attempt_time,
        last_attempt_timestamp=row.last_attempt_time,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
    )


def _events(events: Sequence[Any] | None) -> list[str]:
    if not events:
        raise InvalidArgument("A webhook must subscribe to at least one event")
    return list(dict.fromkeys(str(WebhookEvent.coerce(e)) for e in events))


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid webhook name {name!r}: must be a non-empty string")
    if len(name) > MAX_WEBHOOK_NAME_LENGTH:
        raise InvalidArgument(f"Invalid webhook name: longer than {MAX_WEBHOOK_NAME_LENGTH}")
    return name


def _secret(secret: Any) -> str | None:
    if secret is None or secret == "":
        return None
    if not isinstance(secret, str) or len(secret) > MAX_SECRET_LENGTH:
        raise InvalidArgument(f"Invalid webhook secret: at most {MAX_SECRET_LENGTH} characters")
    return secret


class SqlWebhooks(RegistryCore, WebhookStore):
    """Webhooks, their deliveries, and the dispatcher that sends them."""

    _webhook_settings: WebhookSettings | None = None
    _dispatcher: WebhookDispatcher | None = None
    _dispatcher_lock = threading.Lock()

    # -- settings and dispatcher -------------------------------------------------------------
    @property
    def webhook_settings(self) -> WebhookSettings:
        if self._webhook_settings is None:
            self._webhook_settings = WebhookSettings.from_env()
        return self._webhook_settings

    def configure_webhooks(self, settings: WebhookSettings) -> None:
        """Use *settings* for webhooks of this store (a server passes its own)."""
        self._webhook_settings = settings

    def _kick_deliveries(self) -> None:
        with self._dispatcher_lock:
            if self._dispatcher is None:
                self._dispatcher = WebhookDispatcher(self._deliver_due_batch)
            dispatcher = self._dispatcher
        dispatcher.kick()

    def stop_webhook_dispatcher(self, timeout: float | None = 10.0) -> None:
        """Stop sending in the background (pending deliveries stay in the log)."""
        if self._dispatcher is not None:
            self._dispatcher.stop(timeout)

    def deliver_pending_webhooks(self) -> int:
        """Send every delivery that is due now, in this thread; the number of attempts made."""
        made = 0
        while True:
            claims = self._write(self._claim_due)
            if not claims:
                return made
            for claim in claims:
                self._attempt(claim)
                made += 1

    # -- the outbox --------------------------------------------------------------------------
    def _enqueue_event(self, conn: Connection, event: str, data: dict[str, Any]) -> bool:
        hooks = conn.execute(
            select(_W.webhook_id, _W.events).where(_W.status == WebhookStatus.ACTIVE)
        ).all()
        targets = [h.webhook_id for h in hooks if event in json.loads(h.events)]
        if not targets:
            return False
        now = now_ms()
        payload = delivery_body(event, data, now)
        conn.execute(
            insert(webhook_deliveries_table),
            [
                {
                    "delivery_id": str(uuid.uuid4()),
                    "webhook_id": target,
                    "event": event,
                    "payload": payload,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "creation_time": now,
                    "next_attempt_time": now,
                }
                for target in targets
            ],
        )
        return True

    def _claim_due(self, conn: Connection) -> list[_Claim]:
        now = now_ms()
        lease = now + int((self.webhook_settings.timeout_seconds + 30) * 1000)
        rows = conn.execute(
            select(_D.delivery_id, _D.payload, _D.attempts, _W.url, _W.secret, _W.status)
            .join(webhooks_table, _W.webhook_id == _D.webhook_id)
            .where(
                _D.status == DeliveryStatus.PENDING,
                _D.next_attempt_time <= now,
                or_(_D.claimed_until.is_(None), _D.claimed_until < now),
            )
            .order_by(_D.next_attempt_time)
            .limit(CLAIM_BATCH)
        ).all()
        claims = []
        for row in rows:
            mine = (_D.delivery_id == row.delivery_id) & (_D.status == DeliveryStatus.PENDING)
            free = or_(_D.claimed_until.is_(None), _D.claimed_until < now)
            if row.status != WebhookStatus.ACTIVE:
                conn.execute(
                    update(webhook_deliveries_table)
                    .where(mine)
                    .values(
                        status=DeliveryStatus.FAILED,
                        next_attempt_time=None,
                        last_error="The webhook was disabled before this delivery was sent",
                    )
                )
                continue
            taken = conn.execute(
                update(webhook_deliveries_table).where(mine, free).values(claimed_until=lease)
            )
            if taken.rowcount == 1:
                claims.append(
                    _Claim(row.delivery_id, row.url, row.secret, row.payload, row.attempts)
                )
        return claims

    def _attempt(self, claim: _Claim) -> AttemptResult:
        settings = self.webhook_settings
        result = send_delivery(
            url=claim.url,
            delivery_id=claim.delivery_id,
            payload=claim.payload,
            secret=claim.secret,
            allow_private=settings.allow_private_destinations,
            timeout=settings.timeout_seconds,
        )
        attempts = claim.attempts + 1
        now = now_ms()
        values: dict[str, Any] = {
            "attempts": attempts,
            "claimed_until": None,
            "last_attempt_time": now,
            "last_status_code": result.status_code,
            "last_error": None if result.error is None else result.error[:1000],
        }
        if result.success:
            values.update(status=DeliveryStatus.SUCCEEDED, next_attempt_time=None)
        elif not result.retryable or attempts >= settings.max_attempts:
            values.update(status=DeliveryStatus.FAILED, next_attempt_time=None)
        else:
            delay = min(
                settings.max_backoff_seconds, settings.backoff_seconds * 2 ** (attempts - 1)
            )
            delay *= 0.8 + 0.4 * random.random()
            values.update(next_attempt_time=now + int(delay * 1000))
        self._write(
            lambda conn: conn.execute(
                update(webhook_deliveries_table)
                .where(_D.delivery_id == claim.delivery_id)
                .values(**values)
            )
        )
        return result

    def _deliver_due_batch(self) -> float | None:
        """The dispatcher's work: one batch; seconds until the next due delivery."""
        claims = self._write(self._claim_due)
        for claim in claims:
            self._attempt(claim)
        if claims:
            return 0.0

        def next_due(conn: Connection) -> int | None:
            value = conn.execute(
                select(func.min(_D.next_attempt_time)).where(_D.status == DeliveryStatus.PENDING)
            ).scalar()
            return None if value is None else int(value)

        due = self._read(next_due)
        return None if due is None else max(0.0, (due - now_ms()) / 1000)

    # -- webhooks ----------------------------------------------------------------------------
    def _webhook_row(self, conn: Connection, webhook_id: str) -> Row[Any]:
        row = conn.execute(select(webhooks_table).where(_W.webhook_id == str(webhook_id))).first()
        if row is None:
            raise NotFound(f"Webhook with ID {webhook_id} not found.")
        return row

    def _check_url(self, url: str) -> str:
        check_destination(url, allow_private=self.webhook_settings.allow_private_destinations)
        return url

    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent],
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        webhook_id = uuid.uuid4().hex
        values: dict[str, Any] = {
            "webhook_id": webhook_id,
            "name": _name(name),
            "url": self._check_url(url),
            "events": json.dumps(_events(events)),
            "description": description,
            "secret": _secret(secret),
            "status": WebhookStatus.coerce(status),
            "creation_time": now_ms(),
        }
        values["last_updated_time"] = values["creation_time"]

        def create(conn: Connection) -> Webhook:
            conn.execute(insert(webhooks_table).values(**values))
            return _webhook(self._webhook_row(conn, webhook_id))

        return self._write(create)

    def get_webhook(self, webhook_id: str) -> Webhook:
        return self._read(lambda c: _webhook(self._webhook_row(c, webhook_id)))

    def list_webhooks(
        self, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Webhook]:
        limit = validate_max_results(max_results or 100, 1000)
        sort = [
            SortColumn(_W.creation_time, nullable=False),
            SortColumn(_W.webhook_id, nullable=False),
        ]
        query = select(webhooks_table)
        if page_token:
            query = query.where(after_condition(sort, decode_token(page_token, "webhooks")["k"]))
        query = query.order_by(*order_clauses(sort)).limit(limit + 1)

        def get(conn: Connection) -> PagedList[Webhook]:
            rows = conn.execute(query).all()
            token = None
            if len(rows) > limit:
                rows = rows[:limit]
                token = encode_token(
                    {"t": "webhooks", "k": [rows[-1].creation_time, rows[-1].webhook_id]}
                )
            return PagedList([_webhook(r) for r in rows], token)

        return self._read(get)

    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _name(name)
        if description is not None:
            values["description"] = description
        if url is not None:
            values["url"] = self._check_url(url)
        if events is not None:
            values["events"] = json.dumps(_events(events))
        if secret is not None:
            values["secret"] = _secret(secret)
        if status is not None:
            values["status"] = WebhookStatus.coerce(status)

        def apply(conn: Connection) -> Webhook:
            self._webhook_row(conn, webhook_id)
            if values:
                conn.execute(
                    update(webhooks_table)
                    .where(_W.webhook_id == str(webhook_id))
                    .values(**values, last_updated_time=now_ms())
                )
            return _webhook(self._webhook_row(conn, webhook_id))

        return self._write(apply)

    def delete_webhook(self, webhook_id: str) -> None:
        def apply(conn: Connection) -> None:
            self._webhook_row(conn, webhook_id)
            conn.execute(delete(webhooks_table).where(_W.webhook_id == str(webhook_id)))

        self._write(apply)

    def test_webhook(self, webhook_id: str, event: WebhookEvent | None = None) -> WebhookTestResult:
        hook = self.get_webhook(webhook_id)
        chosen = str(WebhookEvent.coerce(event)) if event is not None else str(hook.events[0])
        settings = self.webhook_settings
        result = send_delivery(
            url=hook.url,
            delivery_id=str(uuid.uuid4()),
            payload=delivery_body(chosen, example_data(chosen)),
            secret=hook.secret,
            allow_private=settings.allow_private_destinations,
            timeout=settings.timeout_seconds,
        )
        return WebhookTestResult(
            success=result.success,
            response_status=result.status_code,
            response_body=result.body,
            error_message=None if result.success else result.error,
        )

    def list_webhook_deliveries(
        self,
        webhook_id: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[WebhookDelivery]:
        limit = validate_max_results(max_results or 100, 1000)
        sort = [
            SortColumn(_D.creation_time, ascending=False, nullable=False),
            SortColumn(_D.delivery_id, ascending=False, nullable=False),
        ]
        query = select(webhook_deliveries_table).where(_D.webhook_id == str(webhook_id))
        if page_token:
            query = query.where(after_condition(sort, decode_token(page_token, "deliveries")["k"]))
        query = query.order_by(*order_clauses(sort)).limit(limit + 1)

        def get(conn: Connection) -> PagedList[WebhookDelivery]:
            self._webhook_row(conn, webhook_id)
            rows = conn.execute(query).all()
            token = None
            if len(rows) > limit:
                rows = rows[:limit]
                token = encode_token(
                    {"t": "deliveries", "k": [rows[-1].creation_time, rows[-1].delivery_id]}
                )
            return PagedList([_delivery(r) for r in rows], token)

        page = self._read(get)
        if any(d.status == DeliveryStatus.PENDING for d in page):
            self._kick_deliveries()
        return page
