"""What a server process remembers of credentials and grants: at most auth_cache_ttl_seconds,
forgotten at once by the process that makes a change, and then by every other process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._asgi import SyncASGITransport

from mltrail.server import ServerSettings, create_app
from mltrail.server.auth import AuthSettings
from mltrail.server.auth._ttl import TtlCache

ADMIN = ("admin", "admin-secret-9")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_and_are_bounded() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(2.0, max_size=3, clock=clock)
    loads: list[str] = []

    def load(key: str, value: int) -> int:
        loads.append(key)
        return value

    assert cache.get("a", lambda: load("a", 1)) == 1
    assert cache.get("a", lambda: load("a", 2)) == 1  # remembered
    clock.now += 2.5
    assert cache.get("a", lambda: load("a", 3)) == 3  # expired: loaded again
    for key in "bcd":
        cache.get(key, lambda key=key: load(key, 0))
    assert len(cache) == 3  # "a", the oldest, went first
    cache.get("a", lambda: load("a", 4))
    assert loads == ["a", "a", "b", "c", "d", "a"]
    off: TtlCache[str, int] = TtlCache(0.0)
    assert [off.get("x", lambda: load("x", 5)) for _ in range(2)] == [5, 5]
    assert loads[-2:] == ["x", "x"]


def test_a_failed_load_is_not_remembered() -> None:
    cache: TtlCache[str, int] = TtlCache(60.0)

    def fail() -> int:
        raise ValueError("wrong password")

    with pytest.raises(ValueError, match="wrong password"):
        cache.get("k", fail)
    assert cache.get("k", lambda: 7) == 7


def _app(db: Path, ttl: float) -> Any:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{db}",
        artifacts_destination=str(db.parent / "artifacts"),
        auth=AuthSettings(admin_password=ADMIN[1], auth_cache_ttl_seconds=ttl),
    )
    return create_app(settings)


def _client(app: Any, auth: tuple[str, str] | None = None) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://localhost", auth=auth)


def test_a_revocation_holds_at_once_here_and_within_the_ttl_in_another_process(
    tmp_path: Path,
) -> None:
    clock = Clock()
    first, second = _app(tmp_path / "m.db", 30.0), _app(tmp_path / "m.db", 30.0)
    for app in (first, second):  # the other process's caches run on a clock the test moves
        runtime = app.state.context.auth
        runtime.authenticator._recent._clock = clock
        runtime.permissions._grants._clock = clock
        runtime.resolved._clock = clock
    admin = _client(first, ADMIN)
    admin.post(
        "/api/2.0/mlflow/users/create", json={"username": "eve", "password": "eve-password-1"}
    )
    experiment = admin.post("/api/2.0/mlflow/experiments/create", json={"name": "shared"}).json()[
        "experiment_id"
    ]
    get = f"/api/2.0/mlflow/experiments/get?experiment_id={experiment}"
    eve_first, eve_second = (
        _client(first, ("eve", "eve-password-1")),
        _client(second, ("eve", "eve-password-1")),
    )
    assert eve_first.get(get).status_code == 200
    assert eve_second.get(get).status_code == 200  # now remembered by the second process

    grant = {
        "username": "eve",
        "resource_type": "experiment",
        "resource_id": experiment,
        "permission": "NO_PERMISSIONS",
    }
    assert admin.post("/api/3.0/mlflow/users/permissions/grant", json=grant).status_code == 200
    assert eve_first.get(get).status_code == 403  # the process that changed it: at once
    assert eve_second.get(get).status_code == 200  # the other: within its ttl, as documented
    clock.now += 31
    assert eve_second.get(get).status_code == 403

    deleted = admin.request("DELETE", "/api/2.0/mlflow/users/delete", json={"username": "eve"})
    assert deleted.status_code == 200
    assert eve_first.get(get).status_code == 401
    clock.now += 31
    assert eve_second.get(get).status_code == 401


def test_with_no_cache_every_process_refuses_on_the_next_request(tmp_path: Path) -> None:
    first, second = _app(tmp_path / "m.db", 0.0), _app(tmp_path / "m.db", 0.0)
    admin = _client(first, ADMIN)
    admin.post(
        "/api/2.0/mlflow/users/create", json={"username": "fay", "password": "fay-password-1"}
    )
    fay = _client(second, ("fay", "fay-password-1"))
    assert fay.get("/api/2.0/mlflow/users/current").status_code == 200
    admin.patch(
        "/api/2.0/mlflow/users/update-password",
        json={"username": "fay", "password": "fay-password-2"},
    )
    assert fay.get("/api/2.0/mlflow/users/current").status_code == 401
    assert (
        _client(second, ("fay", "fay-password-2"))
        .get("/api/2.0/mlflow/users/current")
        .json()["user"]["username"]
        == "fay"
    )
