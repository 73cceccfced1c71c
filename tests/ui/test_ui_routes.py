"""Serving the built UI: client-side routes, cached assets, API paths left alone, no build."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from mltrail.server._ui import ui_routes


async def _health(request: object) -> JSONResponse:
    return JSONResponse({"ok": True})


class _Client:
    """A synchronous face over httpx's in-process ASGI transport."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                return await c.get(path, headers=headers)

        return asyncio.run(go())


def _client(static: Path) -> _Client:
    routes = [Route("/ajax-api/2.0/mlflow/health", _health), *ui_routes(static)]
    return _Client(Starlette(routes=routes))


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


@pytest.mark.parametrize("path", ["/", "/experiments/1", "/runs/abc?tab=metrics", "/models/a%20b"])
def test_client_side_routes_get_the_app(built: Path, path: str) -> None:
    r = _client(built).get(path)
    assert r.status_code == 200
    assert "id=root" in r.text
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["content-type"].startswith("text/html")


def test_hashed_assets_are_cached_for_a_year(built: Path) -> None:
    r = _client(built).get("/assets/index-abc123.js")
    assert r.status_code == 200
    assert "immutable" in r.headers["cache-control"]
    assert _client(built).get("/assets/nope.js").status_code == 404


def test_top_level_files_are_served(built: Path) -> None:
    r = _client(built).get("/favicon.svg")
    assert r.status_code == 200
    assert r.text == "<svg/>"


def test_api_paths_are_never_answered_with_the_app(built: Path) -> None:
    client = _client(built)
    assert client.get("/ajax-api/2.0/mlflow/health").json() == {"ok": True}
    for path in ("/api/2.0/mlflow/nope", "/ajax-api/2.0/mlflow/nope", "/get-artifact"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/%2e%2e/secret", "/assets/../index.html"])
def test_no_traversal(built: Path, path: str) -> None:
    (built.parent / "secret").write_text("s3cret")
    r = _client(built).get(path)
    assert "s3cret" not in r.text


def test_unbuilt_ui_says_how_to_build_it(tmp_path: Path) -> None:
    client = _client(tmp_path / "missing")
    page = client.get("/experiments/1", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "npm run build" in page.text
    api = client.get("/", headers={"accept": "application/json"})
    assert api.status_code == 404
    assert "npm run build" in api.json()["message"]
    assert client.get("/assets/index.js").status_code == 404
