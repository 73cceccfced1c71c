"""The background thread that sends webhook deliveries out of a store's outbox.

One dispatcher per backend, started by its owner (the server in its lifespan, the tracking
library for the backends it opens) with that owner's :class:`WebhookSettings`.  It listens to
the store: when a transaction has written deliveries (or due ones are noticed) its thread
claims every due delivery, sends it (:func:`send_delivery`), records the attempt (retries with
exponential backoff), sleeps until the next retry is due, and ends when nothing is pending.
Deliveries live in the database, not in the thread: a process that exits with retries
outstanding leaves them PENDING, and the next dispatcher of any process using the same
database sends them.  Several processes may run dispatchers at once: each delivery is claimed
(a lease) before it is sent.
"""

from __future__ import annotations

import atexit
import logging
import random
import threading
import time
import uuid
import weakref

from mltrail.entities._webhook import (
    DeliveryClaim,
    DeliveryOutcome,
    DeliveryStatus,
    Webhook,
    WebhookEvent,
    WebhookTestResult,
    delivery_body,
    example_data,
)
from mltrail.registry.webhooks._destinations import WebhookSettings
from mltrail.registry.webhooks._sender import send_delivery
from mltrail.store import WebhookSender, WebhookStore

__all__ = ["WebhookDispatcher", "example_sender"]

_log = logging.getLogger("mltrail.webhooks")

# How long an idle dispatcher waits for more work before its thread ends.
IDLE_LINGER_SECONDS = 0.5
# The longest single sleep; the thread re-checks the database at least this often.
MAX_SLEEP_SECONDS = 30.0
# Consecutive failures of the work function (database gone) before the thread gives up.
MAX_ERRORS = 3
# How long interpreter exit waits for a delivery in flight.
EXIT_GRACE_SECONDS = 5.0

_live: weakref.WeakSet[WebhookDispatcher] = weakref.WeakSet()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def example_sender(settings: WebhookSettings) -> WebhookSender:
    """What ``test_webhook`` sends with: the example payload of an event, now, under
    *settings*' destination policy; nothing is logged."""

    def send(hook: Webhook, event: WebhookEvent) -> WebhookTestResult:
        chosen = str(event)
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

    return send


class WebhookDispatcher:
    """Sends the deliveries of *store*'s outbox on a daemon thread whenever there are some.

    :meth:`start` subscribes it to the store (from then on, deliveries written by the store's
    transactions are sent in the background); :meth:`stop` unsubscribes it and ends the thread.
    :meth:`deliver_due` sends what is due now, in the calling thread.  Without *settings*,
    the environment's apply (read at each attempt).
    """

    def __init__(self, store: WebhookStore, settings: WebhookSettings | None = None) -> None:
        self._store = store
        self._settings = settings
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._exiting = False
        _live.add(self)

    def start(self) -> None:
        """Listen to the store: its pending deliveries start the thread (a store whose
        deliveries another process sends, a tracking server's, never does)."""
        self._store.add_pending_listener(self.kick)

    @property
    def settings(self) -> WebhookSettings:
        """The settings given, else the environment's as they are now (the library's case:
        ``MLTRAIL_WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS`` may be set after a backend opened)."""
        return self._settings or WebhookSettings.from_env()

    def deliver_due(self) -> int:
        """Send every delivery that is due now, in this thread; the number of attempts made."""
        made = 0
        while True:
            claims = self._claim()
            if not claims:
                return made
            for claim in claims:
                self._attempt(claim)
                made += 1

    def _claim(self) -> list[DeliveryClaim]:
        return self._store.claim_due_deliveries(self.settings.timeout_seconds + 30)

    def _attempt(self, claim: DeliveryClaim) -> None:
        settings = self.settings
        result = send_delivery(
            url=claim.url,
            delivery_id=claim.delivery_id,
            payload=claim.payload,
            secret=claim.secret,
            allow_private=settings.allow_private_destinations,
            timeout=settings.timeout_seconds,
        )
        attempts = claim.attempts + 1
        now = _now_ms()
        status, next_at = DeliveryStatus.PENDING, None
        if result.success:
            status = DeliveryStatus.SUCCEEDED
        elif not result.retryable or attempts >= settings.max_attempts:
            status = DeliveryStatus.FAILED
        else:
            delay = min(
                settings.max_backoff_seconds, settings.backoff_seconds * 2 ** (attempts - 1)
            )
            delay *= 0.8 + 0.4 * random.random()
            next_at = now + int(delay * 1000)
        outcome = DeliveryOutcome(
            status=status,
            attempts=attempts,
            attempt_timestamp=now,
            next_attempt_timestamp=next_at,
            status_code=result.status_code,
            error=result.error,
        )
        self._store.record_delivery_attempt(claim.delivery_id, outcome)

    def _work(self) -> float | None:
        """One batch; the seconds until the next due delivery (None: nothing is pending)."""
        claims = self._claim()
        for claim in claims:
            self._attempt(claim)
        if claims:
            return 0.0
        due = self._store.next_delivery_due()
        return None if due is None else max(0.0, (due - _now_ms()) / 1000)

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def kick(self) -> None:
        """Look for due deliveries now (starting the thread when needed)."""
        with self._lock:
            self._stopping = False
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="mltrail-webhooks", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop listening, and stop the thread after the attempt in flight (waiting up to
        *timeout* seconds); pending deliveries stay in the outbox."""
        self._store.remove_pending_listener(self.kick)
        with self._lock:
            self._stopping = True
            self._wake.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def finish(self, timeout: float) -> None:
        """Send what is due now (not later retries), waiting up to *timeout* seconds."""
        with self._lock:
            self._exiting = True
            self._wake.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _finish_if_idle(self) -> bool:
        with self._lock:
            if self._wake.is_set() and not self._stopping:
                return False
            self._thread = None
            return True

    def _run(self) -> None:
        errors = 0
        while not self._stopping:
            self._wake.clear()
            try:
                delay = self._work()
                errors = 0
            except Exception:
                errors += 1
                _log.warning("Sending webhook deliveries failed", exc_info=True)
                if errors >= MAX_ERRORS:
                    self._finish_if_idle()
                    return
                delay = float(errors)
            if self._stopping or (self._exiting and (delay is None or delay > 0)):
                break
            if delay is None:
                if not self._wake.wait(IDLE_LINGER_SECONDS) and self._finish_if_idle():
                    return
                continue
            if delay > 0:
                self._wake.wait(min(delay, MAX_SLEEP_SECONDS))
        with self._lock:
            self._thread = None


@atexit.register
def _stop_all_at_exit() -> None:
    """Send the deliveries that are due (briefly) before the interpreter exits."""
    for dispatcher in list(_live):
        dispatcher.finish(EXIT_GRACE_SECONDS)
