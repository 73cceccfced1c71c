"""The server owns what it builds: each app opens its own backend and closes it at shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests._asgi import SyncASGITransport

from mltrail.server import ServerSettings, create_app
from mltrail.tracking import MlflowClient


def test_each_app_opens_its_own_backend_and_closes_it_at_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path / "a"))
    first, second = create_app(settings), create_app(settings)
    backend = first.state.context.backend
    assert backend is not second.state.context.backend
    assert backend is not MlflowClient(uri)._backend  # nor shares the library's
    closed: list[str] = []
    monkeypatch.setattr(backend, "close", lambda: closed.append("first"))
    transport = SyncASGITransport(first)
    assert closed == []
    transport.close()  # the lifespan ends
    assert closed == ["first"]
    second_transport = SyncASGITransport(second)
    second_transport.close()
