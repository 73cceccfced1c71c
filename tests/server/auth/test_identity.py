"""Who the caller is: personal access tokens, UI sessions, a trusted proxy, login limits.

- Tokens: shown once (no listing holds the secret), expired and revoked ones refused, a user
  lists and revokes their own, an admin anyone's; lifetimes bounded by ``max_token_days``.
- Sessions: login sets an HttpOnly, SameSite=Strict cookie; a changing request without the
  session's CSRF header (or with a wrong one) is 403, with it passes (logout too); logout and
  a password change end the session; a stale cookie does not lock anyone out of public routes.
- Trusted proxy (real sockets, clients bound to different loopback addresses): the header is
  honoured from the configured network only; from elsewhere it is ignored and the request is
  401 (or judged by its own credentials).
- Failed logins: after N failures a user and an address get 429, other users at other
  addresses are unaffected; bad tokens count per address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._live_server import ThreadedServer
from tests.server.auth._apps import ADMIN, AuthApp, Caller, basic, open_app, settings_for

from mltrail.server import create_app
from mltrail.server.auth._secrets import new_secret

TOKENS = "/api/2.0/mltrail/tokens"
LOGIN = "/api/2.0/mltrail/auth/login"
CURRENT = "/api/2.0/mlflow/users/current"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthApp]:
    opened = open_app(tmp_path_factory.mktemp("identity"), max_token_days=30)
    opened.create_users(["tia", "tom", "sam"])
    yield opened
    opened.close()


# -- tokens ---------------------------------------------------------------------------------------


def _token(caller: Caller, **body: Any) -> dict[str, Any]:
    made: dict[str, Any] = caller.ok("POST", f"{TOKENS}/create", json={"name": "t", **body})
    return made


def test_a_token_is_shown_once_and_listed_without_its_secret(app: AuthApp) -> None:
    tia = app.user("tia")
    made = _token(tia, name="laptop", expires_in_days=7)
    assert made["token"].startswith("mlt_")
    info = made["token_info"]
    assert (info["username"], info["name"], info["revoked"]) == ("tia", "laptop", False)
    assert info["expires_at"] - info["created_at"] == 7 * 86_400_000
    assert app.bearer(made["token"]).ok("GET", CURRENT)["user"]["username"] == "tia"
    for listing in (tia.get(f"{TOKENS}/list"), app.admin.get(f"{TOKENS}/list")):
        assert listing.status_code == 200
        assert made["token"] not in listing.text
        assert info["id"] in {t["id"] for t in listing.json()["tokens"]}
        assert all("token" not in t for t in listing.json()["tokens"])


def test_token_lifetimes_are_bounded(app: AuthApp) -> None:
    tia = app.user("tia")
    too_long = tia.post(f"{TOKENS}/create", json={"name": "t", "expires_in_days": 31})
    assert too_long.status_code == 400
    assert "max_token_days" in too_long.json()["message"]
    assert tia.post(f"{TOKENS}/create", json={"name": "t", "expires_in_days": 0}).status_code == 400
    assert _token(tia)["token_info"]["expires_at"] > 0  # no lifetime asked: the longest


def test_an_expired_token_is_refused(app: AuthApp) -> None:
    secret, digest = new_secret("mlt_")
    store = app.app.state.context.auth.store
    store.create_token("tia", "old", digest, expires_at_ms=1_000)  # expired long ago
    refused = app.bearer(secret).get(CURRENT)
    assert refused.status_code == 401
    assert refused.json()["error_code"] == "UNAUTHENTICATED"
    assert app.bearer("mlt_" + "x" * 43).get(CURRENT).status_code == 401  # never issued


def test_owners_and_admins_list_and_revoke_tokens(app: AuthApp) -> None:
    tia, tom, admin = app.user("tia"), app.user("tom"), app.admin
    tias, toms = _token(tia), _token(tom)
    mine = {t["username"] for t in tom.ok("GET", f"{TOKENS}/list")["tokens"]}
    assert mine == {"tom"}
    assert tom.get(f"{TOKENS}/list", params={"username": "tia"}).status_code == 403
    everyone = {t["username"] for t in admin.ok("GET", f"{TOKENS}/list")["tokens"]}
    assert {"tia", "tom"} <= everyone
    of_tia = admin.ok("GET", f"{TOKENS}/list", params={"username": "tia"})["tokens"]
    assert {t["username"] for t in of_tia} == {"tia"}
    # tom cannot revoke tia's token (it is as unknown to him as a missing one)
    tia_id = tias["token_info"]["id"]
    assert tom.post(f"{TOKENS}/revoke", json={"token_id": tia_id}).status_code == 404
    assert app.bearer(tias["token"]).get(CURRENT).status_code == 200
    # tom may not make a token for tia; the admin may
    assert tom.post(f"{TOKENS}/create", json={"name": "x", "username": "tia"}).status_code == 403
    assert _token(admin, username="tia")["token_info"]["username"] == "tia"
    # the owner and the admin revoke: refused at the very next request
    tom.ok("POST", f"{TOKENS}/revoke", json={"token_id": toms["token_info"]["id"]})
    admin.ok("POST", f"{TOKENS}/revoke", json={"token_id": tia_id})
    assert app.bearer(toms["token"]).get(CURRENT).status_code == 401
    assert app.bearer(tias["token"]).get(CURRENT).status_code == 401
    listed = {t["id"]: t for t in admin.ok("GET", f"{TOKENS}/list")["tokens"]}
    assert listed[tia_id]["revoked"] is True


# -- sessions -------------------------------------------------------------------------------------


def _login(app: AuthApp, username: str, password: str | None = None) -> tuple[Caller, str]:
    """A client holding *username*'s session cookie, and the session's CSRF token."""
    anonymous = app.anonymous()
    response = anonymous.post(
        LOGIN, json={"username": username, "password": password or f"{username}-password-1"}
    )
    assert response.status_code == 200, response.text
    anonymous.client.cookies = response.cookies
    return anonymous, response.json()["csrf_token"]


def test_login_sets_a_strict_http_only_cookie(app: AuthApp) -> None:
    response = app.anonymous().post(LOGIN, json={"username": "sam", "password": "sam-password-1"})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= attributes
    assert "SameSite=Strict" in cookie
    assert response.json()["user"]["username"] == "sam"
    wrong = app.anonymous().post(LOGIN, json={"username": "sam", "password": "nope"})
    assert wrong.status_code == 401
    assert "set-cookie" not in wrong.headers


def test_a_session_write_needs_the_csrf_header(app: AuthApp) -> None:
    browser, csrf = _login(app, "sam")
    current = browser.ok("GET", CURRENT)
    assert current["user"]["username"] == "sam"
    assert current["csrf_token"] == csrf
    create = "/api/2.0/mlflow/experiments/create"
    without = browser.post(create, json={"name": "csrf-a"})
    assert without.status_code == 403
    wrong = browser.post(create, json={"name": "csrf-a"}, headers={"X-CSRF-Token": "x" * 64})
    assert wrong.status_code == 403
    passed = browser.post(create, json={"name": "csrf-a"}, headers={"X-CSRF-Token": csrf})
    assert passed.status_code == 200
    # the refused writes wrote nothing: one experiment of that name, made by the last call
    found = app.admin.ok(
        "GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "csrf-a"}
    )
    assert found["experiment"]["experiment_id"] == passed.json()["experiment_id"]
    # an artifact upload (a raw route) checks it too
    run = browser.ok(
        "POST",
        "/api/2.0/mlflow/runs/create",
        json={"experiment_id": passed.json()["experiment_id"]},
        headers={"X-CSRF-Token": csrf},
    )["run"]["info"]
    path = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
    upload = f"/api/2.0/mlflow-artifacts/artifacts/{path}/a.txt"
    assert browser.request("PUT", upload, content=b"x").status_code == 403
    put = browser.request("PUT", upload, content=b"x", headers={"X-CSRF-Token": csrf})
    assert put.status_code == 200


def test_logout_ends_the_session(app: AuthApp) -> None:
    browser, csrf = _login(app, "sam")
    stolen = browser.client.cookies.get("mltrail_session")
    # Signing out is a change: another site's forged POST (no CSRF token) ends nothing.
    forged = browser.post("/api/2.0/mltrail/auth/logout")
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    assert browser.ok("GET", CURRENT)["user"]["username"] == "sam"
    out = browser.post("/api/2.0/mltrail/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    assert "Max-Age=0" in out.headers["set-cookie"]
    replay = app.anonymous()
    replay.client.cookies.set("mltrail_session", stolen or "")
    assert replay.get(CURRENT).status_code == 401
    # a stale cookie does not keep anyone from the public routes (the sign-in page)
    assert replay.get("/api/3.0/mlflow/server-info").status_code == 200
    assert (
        replay.post(LOGIN, json={"username": "sam", "password": "sam-password-1"}).status_code
        == 200
    )
    # signing out of a session that has ended needs no token: it only clears the cookie
    late = app.anonymous()
    late.client.cookies.set("mltrail_session", stolen or "")
    gone = late.post("/api/2.0/mltrail/auth/logout")
    assert gone.status_code == 200
    assert "Max-Age=0" in gone.headers["set-cookie"]


def test_a_password_change_ends_every_session(tmp_path: Path) -> None:
    app = open_app(tmp_path)
    try:
        app.create_users(["pat"])
        first, csrf = _login(app, "pat")
        second, _ = _login(app, "pat")
        changed = first.request(
            "PATCH",
            "/api/2.0/mlflow/users/update-password",
            json={
                "username": "pat",
                "password": "pat-password-2",
                "current_password": "pat-password-1",
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert changed.status_code == 200
        assert first.get(CURRENT).status_code == 401
        assert second.get(CURRENT).status_code == 401
        assert app.user("pat", "pat-password-2").get(CURRENT).status_code == 200
    finally:
        app.close()


# -- addresses: a trusted proxy, login limits (real sockets) --------------------------------------


def _from(
    server: ThreadedServer, address: str, headers: dict[str, str] | None = None
) -> httpx.Client:
    """A client whose connections leave from *address* (a loopback address of its own)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, transport=transport, headers=headers, timeout=30)


@pytest.fixture
def proxied(tmp_path: Path, serve: Callable[..., ThreadedServer]) -> ThreadedServer:
    settings = settings_for(
        tmp_path, trusted_proxy_header="X-Forwarded-User", trusted_proxies=("127.0.0.2/32",)
    )
    return serve(create_app(settings))


def test_the_proxy_header_counts_from_the_trusted_network_only(proxied: ThreadedServer) -> None:
    claim = {"X-Forwarded-User": "sso-user"}
    with _from(proxied, "127.0.0.2", claim) as proxy, _from(proxied, "127.0.0.1", claim) as other:
        me = proxy.get(CURRENT)
        assert me.status_code == 200
        assert me.json()["user"] == {**me.json()["user"], "username": "sso-user", "is_admin": False}
        refused = other.get(CURRENT)
        assert refused.status_code == 401
        assert "sso-user" not in refused.text
        # claiming the admin from elsewhere gets nothing either
        as_admin = other.get("/api/2.0/mlflow/users/list", headers={"X-Forwarded-User": ADMIN})
        assert as_admin.status_code == 401
        # from elsewhere, the request is judged by its own credentials, not by the header
        with_basic = other.get(CURRENT, headers={**claim, **basic(ADMIN)})
        assert with_basic.json()["user"]["username"] == ADMIN
    with _from(proxied, "127.0.0.2", {"X-Forwarded-User": ADMIN}) as proxy:
        assert proxy.get("/api/2.0/mlflow/users/list").status_code == 200


@pytest.fixture
def limited(tmp_path: Path, serve: Callable[..., ThreadedServer]) -> ThreadedServer:
    server = serve(create_app(settings_for(tmp_path, login_attempts=3)))
    with httpx.Client(base_url=server.url, headers=basic(ADMIN)) as admin:
        for name in ("ann", "ben"):
            made = admin.post(
                "/api/2.0/mlflow/users/create",
                json={"username": name, "password": f"{name}-password-1"},
            )
            assert made.status_code == 200
    return server


def test_failed_logins_are_limited_per_user_and_per_address(limited: ThreadedServer) -> None:
    with _from(limited, "127.0.0.1") as here, _from(limited, "127.0.0.3") as there:
        statuses = [
            here.get(CURRENT, headers=basic("ann", f"wrong-{i}")).status_code for i in range(3)
        ]
        assert statuses == [401, 401, 401]
        # ann is blocked wherever she comes from, even with her password ...
        blocked = there.get(CURRENT, headers=basic("ann"))
        assert blocked.status_code == 429
        assert blocked.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
        assert (
            there.post(LOGIN, json={"username": "ann", "password": "ann-password-1"}).status_code
            == 429
        )
        # ... this address is blocked for everyone ...
        assert here.get(CURRENT, headers=basic("ben")).status_code == 429
        # ... and ben elsewhere is not affected
        assert there.get(CURRENT, headers=basic("ben")).status_code == 200


def test_bad_tokens_are_limited_per_address(limited: ThreadedServer) -> None:
    with _from(limited, "127.0.0.4") as guesser, _from(limited, "127.0.0.5") as other:
        guesses = [
            guesser.get(CURRENT, headers={"Authorization": f"Bearer mlt_guess{i}"}).status_code
            for i in range(4)
        ]
        assert guesses == [401, 401, 401, 429]
        assert guesser.get(CURRENT, headers=basic("ben")).status_code == 429
        assert other.get(CURRENT, headers=basic("ben")).status_code == 200
