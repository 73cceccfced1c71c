"""Secure defaults: Host allow-list, CORS and cross-origin writes, body limits, opaque errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.server.conftest import Api

from mltrail._exceptions import MltrailError
from mltrail.server import Endpoint, ServerSettings
from mltrail.server._access import AUTHENTICATED
from mltrail.server._schema import obj
from mltrail.server._security import host_allowed, split_host

CREATE = "/api/2.0/mlflow/experiments/create"


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("localhost:5000", ("localhost",), True),
        ("127.0.0.1", ("localhost", "127.0.0.1"), True),
        ("[::1]:80", ("[::1]",), True),
        ("LOCALHOST", ("localhost",), True),
        ("evil.com", ("localhost",), False),
        ("localhost.evil.com", ("localhost",), False),
        ("", ("localhost",), False),
        ("a.example.com", ("*.example.com",), True),
        ("example.com.evil", ("*.example.com",), False),
        ("anything", ("*",), True),
    ],
)
def test_host_matching(host: str, allowed: tuple[str, ...], expected: bool) -> None:
    assert host_allowed(host, allowed) is expected


def test_split_host() -> None:
    assert split_host("[::1]:5000") == "[::1]"
    assert split_host("Example.com:80") == "example.com"


def test_unknown_host_is_refused_before_anything_runs(api: Api) -> None:
    response = api.post(CREATE, json={"name": "x"}, headers={"Host": "evil.example"})
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "evil.example" in response.json()["message"]
    names = [e["name"] for e in api.ok("GET", "/api/2.0/mlflow/experiments/search")["experiments"]]
    assert "x" not in names
    assert api.get("/health", headers={"Host": "localhost:5000"}).status_code == 200


def test_configured_hosts(make_api: Callable[..., Api]) -> None:
    api = make_api(allowed_hosts=("tracking.example.com", "127.0.0.1"))
    assert api.get("/health", headers={"Host": "tracking.example.com"}).status_code == 200
    assert api.get("/health", headers={"Host": "localhost"}).status_code == 403


def test_cross_origin_writes_are_refused_by_default(api: Api) -> None:
    response = api.post(CREATE, json={"name": "csrf"}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "evil.example" in response.json()["message"]
    # Reads are fine (the browser withholds the answer without CORS headers) and so are
    # same-origin writes (the UI) and clients that send no Origin.
    assert api.get("/health", headers={"Origin": "https://evil.example"}).status_code == 200
    same = f"http://{api.client.base_url.host}:{api.client.base_url.port}"
    assert api.post(CREATE, json={"name": "ui"}, headers={"Origin": same}).status_code == 200
    assert "access-control-allow-origin" not in api.get("/health", headers={"Origin": same}).headers


def test_cors_allow_list(make_api: Callable[..., Api]) -> None:
    api = make_api(cors_allowed_origins=("https://app.example.com",))
    preflight = api.client.options(
        CREATE,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    ok = api.post(CREATE, json={"name": "c"}, headers={"Origin": "https://app.example.com"})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
    bad = api.post(CREATE, json={"name": "d"}, headers={"Origin": "https://other.example.com"})
    assert bad.status_code == 403


def test_json_body_limit(make_api: Callable[..., Api]) -> None:
    api = make_api(max_json_body_bytes=4096)
    big = {"name": "x" * 10_000}
    response = api.post(CREATE, json=big)
    assert response.status_code == 413
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert "4096" in response.json()["message"]

    def chunked() -> object:
        yield b'{"name": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    response = api.client.post(
        CREATE, content=chunked(), headers={"Content-Type": "application/json"}
    )  # type: ignore[arg-type]
    assert response.status_code == 413
    # Artifact uploads stream and are not held to the JSON limit.
    eid = api.experiment()
    rid = api.run(eid)["run_id"]
    path = f"/api/2.0/mlflow-artifacts/artifacts/{eid}/{rid}/artifacts/big.bin"
    assert api.client.put(path, content=b"z" * 100_000).status_code == 200


def test_unexpected_errors_are_opaque(
    make_api: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    def boom(ctx: object, args: object) -> dict[str, object]:
        raise RuntimeError("SELECT secret FROM users; /srv/private/path")

    def db_down(ctx: object, args: object) -> dict[str, object]:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT 1", {}, Exception("connection refused to db.internal"))

    def custom(ctx: object, args: object) -> dict[str, object]:
        raise MltrailError("a deliberate failure")

    from mltrail.server import create_app

    extra = [
        Endpoint("GET", "/mltrail/test/boom", "boom", obj({}), handler=boom, access=AUTHENTICATED),
        Endpoint("GET", "/mltrail/test/db", "db", obj({}), handler=db_down, access=AUTHENTICATED),
        Endpoint(
            "GET", "/mltrail/test/custom", "custom", obj({}), handler=custom, access=AUTHENTICATED
        ),
    ]
    api = make_api()
    app = create_app(api.settings, extra_endpoints=extra)
    import asyncio

    from httpx import ASGITransport, AsyncClient

    async def call(path: str) -> tuple[int, dict[str, str]]:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://localhost") as c:
            r = await c.get(path)
            return r.status_code, r.json()

    with caplog.at_level(logging.ERROR, logger="mltrail.server"):
        status, body = asyncio.run(call("/api/2.0/mltrail/test/boom"))
    assert status == 500
    assert body["error_code"] == "INTERNAL_ERROR"
    assert "SELECT" not in body["message"]
    assert "/srv" not in body["message"]
    assert "SELECT secret" in caplog.text  # logged on the server side
    status, body = asyncio.run(call("/api/2.0/mltrail/test/db"))
    assert status == 503
    assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "db.internal" not in body["message"]
    status, body = asyncio.run(call("/api/2.0/mltrail/test/custom"))
    assert (status, body["error_code"]) == (500, "INTERNAL_ERROR")


def test_settings_round_trip(tmp_path: object) -> None:
    settings = ServerSettings(
        backend_store_uri="sqlite:///x.db",
        allowed_hosts=("a", "b"),
        cors_allowed_origins=("https://c",),
        serve_artifacts=False,
    )
    assert ServerSettings.from_json(settings.to_json()) == settings
    with pytest.raises(MltrailError, match="unknown fields"):
        ServerSettings.from_json('{"nope": 1}')


@pytest.mark.parametrize(
    ("given", "header"), [(None, "DENY"), ("sameorigin", "SAMEORIGIN"), ("NONE", None)]
)
def test_the_ui_page_frame_policy(
    make_api: Callable[..., Api], tmp_path: Path, given: str | None, header: str | None
) -> None:
    """--x-frame-options (MLflow's): DENY by default, SAMEORIGIN, or NONE for no header."""
    static = tmp_path / f"ui-{given}"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>mltrail</title>")
    options = {} if given is None else {"x_frame_options": given}
    api = make_api(static_dir=str(static), **options)
    page = api.get("/")
    assert page.status_code == 200
    assert page.headers.get("X-Frame-Options") == header


def test_an_unknown_frame_policy_is_refused() -> None:
    with pytest.raises(MltrailError, match="Invalid x_frame_options 'ALLOW-FROM x'"):
        ServerSettings(x_frame_options="ALLOW-FROM x")
