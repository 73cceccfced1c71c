"""The tracking library's backends: one per tracking URI, per process, until closed.

The fluent API and every :class:`~mltrail.MlflowClient` of a process share the backend of a
URI (one connection pool, one webhook dispatcher).  :func:`close_backends` closes them all
(tests between cases, an application before it forks); the next use opens them again.  A
tracking server does not use this cache: ``create_app`` opens and closes its own backend.
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING

from mltrail.store import Backend, open_backend

if TYPE_CHECKING:
    from mltrail.registry.webhooks import WebhookDispatcher

__all__ = ["backend_for", "close_backends"]

_lock = threading.Lock()
_backends: dict[str, tuple[Backend, WebhookDispatcher]] = {}


def backend_for(uri: str) -> Backend:
    """The process's backend for a resolved tracking URI (opened on first use).

    Webhook deliveries its registry writes are sent in the background by a dispatcher under
    the environment's :class:`~mltrail.registry.webhooks.WebhookSettings`.
    """
    found = _backends.get(uri)
    if found is not None:
        return found[0]
    with _lock:
        found = _backends.get(uri)
        if found is None:
            # The webhook machinery (sender, signing, destinations: socket, hmac, secrets)
            # loads with the first backend, not with `import mltrail`.
            from mltrail.registry.webhooks import WebhookDispatcher

            backend = open_backend(uri)
            dispatcher = WebhookDispatcher(backend.webhooks)  # the environment's settings
            dispatcher.start()
            found = _backends[uri] = (backend, dispatcher)
    return found[0]


def close_backends() -> None:
    """Close every backend the library opened (and stop their webhook dispatchers)."""
    with _lock:
        opened = list(_backends.values())
        _backends.clear()
    for backend, dispatcher in opened:
        dispatcher.stop()
        backend.close()


# Registered when this module is first imported, before the value logger's own exit handler
# (mltrail.tracking._batching, imported after it): handlers run in reverse, so at exit the
# runs still active end, queued values are written, and then the connections close.
atexit.register(close_backends)
