"""Webhooks in the SQL store: the webhooks and the outbox of their deliveries.

A registry change writes one delivery row per subscribed active webhook in its own
transaction (so an event is logged exactly when the change commits), then tells the listeners
(:meth:`SqlWebhooks.add_pending_listener`) that deliveries are pending.  Sending is not the
store's business: a dispatcher above it (:mod:`mltrail.registry.webhooks`) claims due rows
(:meth:`SqlWebhooks.claim_due_deliveries`, a lease in ``claimed_until`` so that several
processes may send at once), sends them and records each attempt
(:meth:`SqlWebhooks.record_delivery_attempt`).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities._webhook import (
    DeliveryClaim,
    DeliveryOutcome,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
    delivery_body,
    validate_webhook_url,
)
from mltrail.store._base import PagedList
from mltrail.store._registry_base import DeliveryFilter, UrlCheck, WebhookSender, WebhookStore
from mltrail.store._visibility import Visibility
from mltrail.store.sql._codec import decode_token, encode_token
from mltrail.store.sql._core import SqlContext, now_ms
from mltrail.store.sql._paging import SortColumn, after_condition, order_clauses
from mltrail.store.sql._registry_schema import webhook_deliveries_table, webhooks_table
from mltrail.store.sql._visible import visibility_condition
from mltrail.validation import validate_max_results

__all__ = ["SqlWebhooks"]

_W = webhooks_table.c
_D = webhook_deliveries_table.c
_log = logging.getLogger(__name__)
MAX_WEBHOOK_NAME_LENGTH = 256
MAX_SECRET_LENGTH = 1000


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
        workspace=row.workspace,
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


def _url(url: Any, check_url: UrlCheck | None) -> str:
    validate_webhook_url(url)
    if check_url is not None:
        check_url(url)
    return str(url)


def _secret(secret: Any) -> str | None:
    if secret is None or secret == "":
        return None
    if not isinstance(secret, str) or len(secret) > MAX_SECRET_LENGTH:
        raise InvalidArgument(f"Invalid webhook secret: at most {MAX_SECRET_LENGTH} characters")
    return secret


class SqlWebhooks(WebhookStore):
    """Webhooks, and the outbox of their deliveries."""

    def __init__(self, ctx: SqlContext) -> None:
        self._ctx = ctx
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        self._admits: DeliveryFilter | None = None

    # -- the outbox --------------------------------------------------------------------------
    def add_pending_listener(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_pending_listener(self, listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def set_delivery_filter(self, admits: DeliveryFilter | None) -> None:
        self._admits = admits

    def _admitted(self, webhook_id: str, event: str, data: dict[str, Any]) -> bool:
        admits = self._admits
        if admits is None:
            return True
        try:
            return admits(webhook_id, event, data)
        except Exception:  # a filter that cannot decide sends nothing, and fails no change
            _log.warning("webhook %s: no delivery of %s (its filter failed)", webhook_id, event)
            return False

    def notify_pending(self) -> None:
        """Tell the listeners that deliveries are pending (after the transaction's commit)."""
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def enqueue(self, conn: Connection, event: str, data: dict[str, Any]) -> bool:
        """Write deliveries of *event* for subscribed active webhooks, in the transaction of
        the change (see :class:`~mltrail.store.sql._registry_core.EventOutbox`)."""
        query = select(_W.webhook_id, _W.events).where(_W.status == WebhookStatus.ACTIVE)
        workspace = self._ctx.workspace()
        if workspace is not None:  # an event reaches the webhooks of its own workspace
            query = query.where(_W.workspace == workspace)
        hooks = conn.execute(query).all()
        targets = [
            h.webhook_id
            for h in hooks
            if event in json.loads(h.events) and self._admitted(h.webhook_id, event, data)
        ]
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

    def claim_due_deliveries(self, lease_seconds: float, limit: int = 16) -> list[DeliveryClaim]:
        return self._ctx.write(lambda conn: self._claim_due(conn, lease_seconds, limit))

    def _claim_due(self, conn: Connection, lease_seconds: float, limit: int) -> list[DeliveryClaim]:
        now = now_ms()
        lease = now + int(lease_seconds * 1000)
        rows = conn.execute(
            select(
                _D.delivery_id, _D.webhook_id, _D.payload, _D.attempts, _W.url, _W.secret, _W.status
            )
            .join(webhooks_table, _W.webhook_id == _D.webhook_id)
            .where(
                _D.status == DeliveryStatus.PENDING,
                _D.next_attempt_time <= now,
                or_(_D.claimed_until.is_(None), _D.claimed_until < now),
            )
            .order_by(_D.next_attempt_time)
            .limit(limit)
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
                    DeliveryClaim(
                        row.delivery_id,
                        row.webhook_id,
                        row.url,
                        row.secret,
                        row.payload,
                        row.attempts,
                    )
                )
        return claims

    def record_delivery_attempt(self, delivery_id: str, outcome: DeliveryOutcome) -> None:
        values: dict[str, Any] = {
            "status": outcome.status,
            "attempts": outcome.attempts,
            "claimed_until": None,
            "last_attempt_time": outcome.attempt_timestamp,
            "next_attempt_time": outcome.next_attempt_timestamp,
            "last_status_code": outcome.status_code,
            "last_error": None if outcome.error is None else outcome.error[:1000],
        }
        self._ctx.write(
            lambda conn: conn.execute(
                update(webhook_deliveries_table)
                .where(_D.delivery_id == delivery_id)
                .values(**values)
            )
        )

    def next_delivery_due(self) -> int | None:
        def next_due(conn: Connection) -> int | None:
            value = conn.execute(
                select(func.min(_D.next_attempt_time)).where(_D.status == DeliveryStatus.PENDING)
            ).scalar()
            return None if value is None else int(value)

        return self._ctx.read(next_due)

    # -- webhooks ----------------------------------------------------------------------------
    def _webhook_row(self, conn: Connection, webhook_id: str) -> Row[Any]:
        row = conn.execute(select(webhooks_table).where(_W.webhook_id == str(webhook_id))).first()
        workspace = self._ctx.workspace()
        if row is None or (workspace is not None and row.workspace != workspace):
            raise NotFound(f"Webhook with ID {webhook_id} not found.")
        return row

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
        webhook_id = uuid.uuid4().hex
        values: dict[str, Any] = {
            "webhook_id": webhook_id,
            "name": _name(name),
            "url": _url(url, check_url),
            "events": json.dumps(_events(events)),
            "description": description,
            "secret": _secret(secret),
            "status": WebhookStatus.coerce(status),
            "creation_time": now_ms(),
            "workspace": self._ctx.new_row_workspace(),
        }
        values["last_updated_time"] = values["creation_time"]

        def create(conn: Connection) -> Webhook:
            conn.execute(insert(webhooks_table).values(**values))
            return _webhook(self._webhook_row(conn, webhook_id))

        return self._ctx.write(create)

    def get_webhook(self, webhook_id: str) -> Webhook:
        return self._ctx.read(lambda c: _webhook(self._webhook_row(c, webhook_id)))

    def list_webhooks(
        self,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Webhook]:
        limit = validate_max_results(max_results or 100, 1000)
        sort = [
            SortColumn(_W.creation_time, nullable=False),
            SortColumn(_W.webhook_id, nullable=False),
        ]
        query = select(webhooks_table)
        workspace = self._ctx.workspace()
        if workspace is not None:
            query = query.where(_W.workspace == workspace)
        shown = visibility_condition(_W.webhook_id, visible, length=32)  # Str(32)
        if shown is not None:
            query = query.where(shown)
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

        return self._ctx.read(get)

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
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _name(name)
        if description is not None:
            values["description"] = description
        if url is not None:
            values["url"] = _url(url, check_url)
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

        return self._ctx.write(apply)

    def delete_webhook(self, webhook_id: str) -> None:
        def apply(conn: Connection) -> None:
            self._webhook_row(conn, webhook_id)
            conn.execute(delete(webhooks_table).where(_W.webhook_id == str(webhook_id)))

        self._ctx.write(apply)

    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | None, send: WebhookSender
    ) -> WebhookTestResult:
        hook = self.get_webhook(webhook_id)
        chosen = WebhookEvent.coerce(event) if event is not None else hook.events[0]
        return send(hook, chosen)

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

        page = self._ctx.read(get)
        if any(d.status == DeliveryStatus.PENDING for d in page):
            self.notify_pending()
        return page
