"""An ASGI app served in process to synchronous httpx clients: no socket, no uvicorn.

``httpx.ASGITransport`` is async only; :class:`SyncASGITransport` runs the app on an event
loop in a helper thread (its lifespan started at construction, ended by :meth:`close`) and
hands each request to it, so a synchronous client (the REST backend) drives the app as it
would a server.  Fixture ``asgi_backend`` (registered in ``tests/conftest.py``): a function
``asgi_backend(app)`` returning a :class:`~mltrail.store.rest.RestBackend` on such a
transport; transports and backends are closed at the end of the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette

from mltrail.store.rest import RestBackend

__all__ = ["SyncASGITransport", "asgi_backend"]

T = TypeVar("T")
BASE_URL = "http://127.0.0.1"  # the Host header the server accepts by default


class SyncASGITransport(httpx.BaseTransport):
    """A synchronous transport to a Starlette app running on its own event-loop thread."""

    def __init__(self, app: Starlette) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="asgi-transport", daemon=True
        )
        self._thread.start()
        self._inner = httpx.ASGITransport(app=app)
        self._lifespan: AbstractAsyncContextManager[Any] = app.router.lifespan_context(app)
        self._closed = False
        self._run(self._lifespan.__aenter__())

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _send(self, request: httpx.Request, body: bytes) -> httpx.Response:
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )
        response = await self._inner.handle_async_request(forwarded)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("The in-process app is closed", request=request)
        return self._run(self._send(request, request.read()))

    def close(self) -> None:
        """End the app's lifespan (its backend closes) and stop the loop; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._run(self._lifespan.__aexit__(None, None, None))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()


@pytest.fixture
def asgi_backend() -> Iterator[Callable[[Starlette], RestBackend]]:
    opened: list[tuple[RestBackend, SyncASGITransport]] = []

    def open_on(app: Starlette) -> RestBackend:
        transport = SyncASGITransport(app)
        backend = RestBackend(BASE_URL, transport=transport)
        opened.append((backend, transport))
        return backend

    yield open_on
    for backend, transport in opened:
        backend.close()
        transport.close()
