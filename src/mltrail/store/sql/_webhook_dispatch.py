"""The background thread that sends webhook deliveries.

One dispatcher per store.  It is started when a transaction has written deliveries (or when
due ones are noticed), sends every due delivery, sleeps until the next retry is due, and ends
when nothing is pending.  Deliveries live in the database, not in the thread: a process that
exits with retries outstanding leaves them PENDING, and the next dispatcher of any process
using the same database sends them.  Several processes may run dispatchers at once: each
delivery is claimed (a lease in ``claimed_until``) before it is sent.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable

__all__ = ["WebhookDispatcher"]

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


class WebhookDispatcher:
    """Runs ``work()`` on a daemon thread whenever kicked, until it reports nothing pending.

    ``work()`` sends what is due and returns the seconds until the next delivery is due, or
    None when nothing is pending.
    """

    def __init__(self, work: Callable[[], float | None]) -> None:
        self._work = work
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._exiting = False
        _live.add(self)

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
        """Stop the thread after the attempt in flight, waiting up to *timeout* seconds."""
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
