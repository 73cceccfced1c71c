"""Running the app with uvicorn: one process, or N worker processes sharing one socket.

With one worker uvicorn gets the application object.  With ``workers > 1`` each worker must
import the app, so :func:`run_server` writes the settings to a private JSON file (mode 0600, in a
fresh 0700 temporary directory removed at exit) and names it in ``MLTRAIL_SERVER_SETTINGS_FILE``;
uvicorn then calls the factory :func:`app_from_settings_file` in each worker.  That variable
is the only configuration that travels through the environment.

Every accepted connection gets ``TCP_NODELAY``: with several workers uvicorn hands each one a
socket rebuilt from a file descriptor, on which asyncio no longer recognises TCP and skips the
option, so small responses on a kept-alive connection waited ~40 ms for Nagle's algorithm
(MLflow's server shows exactly that).  :class:`NoDelayHttpToolsProtocol` sets it explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mltrail._exceptions import InvalidArgument
from mltrail.server._app import create_app
from mltrail.server._settings import SETTINGS_FILE_ENV, ServerSettings

__all__ = ["NoDelayHttpToolsProtocol", "app_from_settings_file", "run_server", "set_nodelay"]


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with TCP_NODELAY on every connection."""

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport, prefix: bytes | None = None
    ) -> None:
        set_nodelay(transport)
        if prefix is None:
            super().connection_made(transport)
        else:  # pragma: no cover - newer uvicorn passes bytes already read
            super().connection_made(transport, prefix)  # type: ignore[call-arg]


def app_from_settings_file() -> Any:
    """The uvicorn factory of worker processes: ``create_app`` with the settings file's content."""
    path = os.environ.get(SETTINGS_FILE_ENV)
    if not path:
        raise InvalidArgument(
            f"{SETTINGS_FILE_ENV} is not set: this factory is for worker processes started by "
            "`mltrail server --workers N`"
        )
    return create_app(ServerSettings.read_file(path))


def run_server(
    settings: ServerSettings,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = False,
) -> None:
    """Serve until interrupted (blocks)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": NoDelayHttpToolsProtocol,
        "loop": "auto",
        "log_level": log_level,
        "access_log": access_log,
        "lifespan": "on",
        "server_header": False,
    }
    if workers <= 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Fail early, in the parent, on a bad configuration (e.g. an outdated schema). (With
    # authentication, the parent and each worker may each start the admin's creation at a
    # first start: one creates it, the others find it created.)
    create_app(settings)
    folder = tempfile.mkdtemp(prefix="mltrail-server-")  # mode 0700
    try:
        path = os.path.join(folder, "settings.json")
        settings.write_file(path)
        os.environ[SETTINGS_FILE_ENV] = path
        uvicorn.run(
            "mltrail.server._uvicorn:app_from_settings_file",
            factory=True,
            workers=workers,
            **options,
        )
    finally:
        os.environ.pop(SETTINGS_FILE_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
