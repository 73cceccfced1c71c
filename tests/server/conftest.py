"""Fixtures of the server tests: the app on a real uvicorn (in a thread) over a fresh store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mltrail.server import ServerSettings, create_app

__all__ = ["Api"]


@dataclass
class Api:
    """An httpx client on the server plus its settings and folders."""

    client: httpx.Client
    settings: ServerSettings
    artifacts: Path

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.client.post(path, json=json, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        response = self.client.request(method, path, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    def experiment(self, name: str = "exp") -> str:
        body = self.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": name})
        return str(body["experiment_id"])

    def run(self, experiment_id: str) -> dict[str, Any]:
        body = self.ok("POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
        return dict(body["run"]["info"])


@pytest.fixture
def make_api(tmp_path: Path, serve: Callable[..., Any]) -> Iterator[Callable[..., Api]]:
    clients: list[httpx.Client] = []

    def make(**overrides: Any) -> Api:
        root = tmp_path / f"server{len(clients)}"
        root.mkdir()
        options: dict[str, Any] = {
            "backend_store_uri": f"sqlite:///{root / 'mltrail.db'}",
            "artifacts_destination": str(root / "artifacts"),
        }
        options.update(overrides)
        settings = ServerSettings(**options)
        server = serve(create_app(settings))
        client = httpx.Client(base_url=server.url, timeout=30)
        clients.append(client)
        return Api(client, settings, root / "artifacts")

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
