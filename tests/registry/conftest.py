"""Fixtures of the registry suite: a fresh backend of every kind (SQLite, PostgreSQL, MariaDB,
and REST: the REST backend on an mltrail server app served in process), and a run in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from mltrail.server import ServerSettings, create_app
from mltrail.store import Backend
from mltrail.store.rest import RestBackend
from mltrail.store.sql import SqlBackend

_SQL = {"sqlite": "sqlite_uri", "postgres": "postgres_uri", "mysql": "mysql_uri"}


@pytest.fixture
def rest_store(tmp_path: Path, asgi_backend: Callable[[Starlette], RestBackend]) -> RestBackend:
    """The REST backend of an mltrail server (SQLite behind it), served in process."""
    app = create_app(
        ServerSettings(
            backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
            artifacts_destination=str(tmp_path / "server-artifacts"),
            webhooks_allow_private_destinations=True,  # webhooks to 127.0.0.1 in tests
        )
    )
    return asgi_backend(app)


@pytest.fixture(params=[*_SQL, "rest"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "rest":
        yield request.getfixturevalue("rest_store")
        return
    backend = SqlBackend(
        str(request.getfixturevalue(_SQL[request.param])), str(tmp_path / "artifacts")
    )
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def run_id(store: Backend) -> str:
    return str(store.runs.create_run("0", "alice", 1000, [], "train").info.run_id)
