"""Fixtures of the registry suite: a fresh store on every backend (SQLite, PostgreSQL,
MariaDB, and REST: the REST store talking to a real server on 127.0.0.1), and a run in it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mltrail.store.sql import SqlStore

_SQL = {"sqlite": "sqlite_uri", "postgres": "postgres_uri", "mysql": "mysql_uri"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def rest_store(tmp_path: Path) -> Iterator[Any]:
    """The REST store of a real mltrail server (uvicorn in a thread, SQLite behind it)."""
    from mltrail.server import ServerSettings, create_app
    from mltrail.store.rest import RestStore

    app = create_app(
        ServerSettings(
            backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
            artifacts_destination=str(tmp_path / "server-artifacts"),
        )
    )
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    store = RestStore(f"http://127.0.0.1:{port}")
    try:
        yield store
    finally:
        store.close()
        server.should_exit = True
        thread.join(10)
        app.state.context.store.close()


@pytest.fixture(params=[*_SQL, "rest"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "rest":
        yield request.getfixturevalue("rest_store")
        return
    s = SqlStore(str(request.getfixturevalue(_SQL[request.param])), str(tmp_path / "artifacts"))
    try:
        yield s
    finally:
        s.stop_webhook_dispatcher()
        s.close()


@pytest.fixture
def run_id(store: Any) -> str:
    return str(store.create_run("0", "alice", 1000, [], "train").info.run_id)
