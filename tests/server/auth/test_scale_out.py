"""Several server processes behind one database agree at once on every auth change.

Two apps (two ``create_app`` instances, each with its own auth runtime and its own
remembered passwords, as two processes have) over one database, on SQLite, PostgreSQL and
MariaDB, with ``auth_cache_ttl_seconds = 0``.  A change made through the first — a token
revoked, a password changed, a grant changed, admin status taken away, a user deleted — is
obeyed by the second on its very next request, although the second had just let the old
credentials or rights through.  (With the default cache the second obeys within the ttl:
``tests/server/test_auth_cache.py``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server.auth._apps import AuthApp, open_app

EXPERIMENT_GET = "/api/2.0/mlflow/experiments/get"


@pytest.fixture
def pair(db_uri: str, tmp_path: Path) -> Iterator[tuple[AuthApp, AuthApp]]:
    first = open_app(tmp_path / "one", db_uri, auth_cache_ttl_seconds=0)
    second = open_app(tmp_path / "two", db_uri, auth_cache_ttl_seconds=0)
    first.create_users(["ann", "ben"])
    yield first, second
    second.close()
    first.close()


def _status(app: AuthApp, who: str, experiment_id: str, password: str | None = None) -> int:
    response = app.user(who, password).get(EXPERIMENT_GET, params={"experiment_id": experiment_id})
    return response.status_code


def test_a_changed_permission(pair: tuple[AuthApp, AuthApp]) -> None:
    one, two = pair
    exp = one.user("ann").ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": "e"})
    exp_id = exp["experiment_id"]
    assert _status(two, "ben", exp_id) == 200  # default READ
    one.user("ann").ok(
        "POST",
        "/api/3.0/mlflow/users/permissions/grant",
        json={
            "username": "ben",
            "resource_type": "experiment",
            "resource_id": exp_id,
            "permission": "NO_PERMISSIONS",
        },
    )
    assert _status(two, "ben", exp_id) == 403
    # the search through the second app hides it at once too
    found = two.user("ben").ok("POST", "/api/2.0/mlflow/experiments/search", json={})
    assert exp_id not in {e["experiment_id"] for e in found["experiments"]}
    one.admin.ok(
        "POST",
        "/api/3.0/mlflow/users/permissions/revoke",
        json={"username": "ben", "resource_type": "experiment", "resource_id": exp_id},
    )
    assert _status(two, "ben", exp_id) == 200


def test_a_revoked_token(pair: tuple[AuthApp, AuthApp]) -> None:
    one, two = pair
    made = one.user("ben").ok("POST", "/api/2.0/mltrail/tokens/create", json={"name": "ci"})
    bearer = two.bearer(made["token"])
    assert bearer.get(EXPERIMENT_GET, params={"experiment_id": "0"}).status_code == 200
    one.user("ben").ok(
        "POST", "/api/2.0/mltrail/tokens/revoke", json={"token_id": made["token_info"]["id"]}
    )
    assert bearer.get(EXPERIMENT_GET, params={"experiment_id": "0"}).status_code == 401


def test_a_changed_password(pair: tuple[AuthApp, AuthApp]) -> None:
    one, two = pair
    assert _status(two, "ben", "0") == 200  # the second app remembers this password now
    one.admin.ok(
        "PATCH",
        "/api/2.0/mlflow/users/update-password",
        json={"username": "ben", "password": "ben-new-password"},
    )
    assert _status(two, "ben", "0") == 401
    assert _status(two, "ben", "0", "ben-new-password") == 200


def test_a_changed_admin_status(pair: tuple[AuthApp, AuthApp]) -> None:
    one, two = pair
    change = {"username": "ann", "is_admin": True}
    one.admin.ok("PATCH", "/api/2.0/mlflow/users/update-admin", json=change)
    assert two.user("ann").get("/api/2.0/mlflow/users/list").status_code == 200
    one.admin.ok("PATCH", "/api/2.0/mlflow/users/update-admin", json={**change, "is_admin": False})
    assert two.user("ann").get("/api/2.0/mlflow/users/list").status_code == 403


def test_a_deleted_user(pair: tuple[AuthApp, AuthApp]) -> None:
    one, two = pair
    made = one.user("ben").ok("POST", "/api/2.0/mltrail/tokens/create", json={"name": "ci"})
    login = two.anonymous().post(
        "/api/2.0/mltrail/auth/login", json={"username": "ben", "password": "ben-password-1"}
    )
    assert login.status_code == 200
    session = two.anonymous()
    session.client.cookies = login.cookies
    assert session.get("/api/2.0/mlflow/users/current").status_code == 200
    assert _status(two, "ben", "0") == 200
    one.admin.ok("DELETE", "/api/2.0/mlflow/users/delete", json={"username": "ben"})
    assert _status(two, "ben", "0") == 401
    token = two.bearer(made["token"]).get(EXPERIMENT_GET, params={"experiment_id": "0"})
    assert token.status_code == 401
    assert session.get("/api/2.0/mlflow/users/current").status_code == 401
