"""Real HTTP servers on 127.0.0.1, in the test process: uvicorn in a thread.

Fixtures (registered for the whole suite through ``pytest_plugins`` in ``tests/conftest.py``):

``serve`` (function)
    ``serve(app, port=None, **uvicorn_options)`` runs any ASGI app with uvicorn on 127.0.0.1 (a
    free port unless one is given) in a daemon thread, waits until it accepts connections and
    returns a :class:`ThreadedServer` (``url``, ``port``, ``stop()``); ``ssl_certfile`` and
    ``ssl_keyfile`` make it an https server.  Every server is stopped at the end.

``free_port`` (function)
    A function returning a port nothing listens on (yet).

``tracking_server`` (function)
    An mltrail tracking server (``create_app``) over a fresh SQLite file in the test's temporary
    folder, artifacts served from a folder beside it.  Yields the :class:`ThreadedServer`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ThreadedServer", "free_port", "serve", "tracking_server"]


def find_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThreadedServer:
    """uvicorn serving *app* on 127.0.0.1:*port* in a daemon thread."""

    def __init__(self, app: Any, port: int, **options: Any) -> None:
        import uvicorn

        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="auto",
            ws="none",
            access_log=False,
            **options,
        )
        self.port = port
        scheme = "https" if options.get("ssl_certfile") else "http"
        self.url = f"{scheme}://127.0.0.1:{port}"
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def free_port() -> Callable[[], int]:
    return find_free_port


@pytest.fixture
def serve() -> Iterator[Callable[..., ThreadedServer]]:
    servers: list[ThreadedServer] = []

    def start(app: Any, port: int | None = None, **options: Any) -> ThreadedServer:
        server = ThreadedServer(app, port or find_free_port(), **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def tracking_server(tmp_path: Path, serve: Callable[..., ThreadedServer]) -> ThreadedServer:
    from mltrail.server import ServerSettings, create_app

    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server' / 'mltrail.db'}",
        artifacts_destination=str(tmp_path / "server" / "artifacts"),
    )
    (tmp_path / "server").mkdir(exist_ok=True)
    return serve(create_app(settings))
