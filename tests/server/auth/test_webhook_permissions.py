"""Webhooks on an authenticating server: a user manages the webhooks they create (and those an
admin grants them), sees only those in the listing, and a webhook a user holds is sent only the
events of registered models that user may MANAGE, checked when each event happens.

MLflow keeps every webhook route to admins (a webhook names no model, so it would carry every
model's events); ``server/auth/_webhooks.py`` says why mltrail lets users have them.  Events
are read back from the outbox (each webhook's delivery log, as the admin sees it): whether a
delivery then succeeds is the dispatcher's business, tested in ``tests/registry``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._asgi import SyncASGITransport
from tests.server.auth._apps import AuthApp, Caller, settings_for

from mltrail.entities import RegisteredModelTag
from mltrail.registry.webhooks import WebhookEvent
from mltrail.server import create_app
from mltrail.store import open_backend

HOOKS = "/api/2.0/mlflow/webhooks"
#: Loopback port 9 (discard): nothing listens, an attempt fails at once; no traffic leaves.
URL = "http://127.0.0.1:9/hook"
TAG_SET = {"entity": "registered_model_tag", "action": "set"}


def _open(root: Path, default: str) -> AuthApp:
    settings = settings_for(root, default_permission=default)
    settings = dataclasses.replace(settings, webhooks_allow_private_destinations=True)
    app = create_app(settings)
    return AuthApp(app, SyncASGITransport(app))


@pytest.fixture(params=["READ", "MANAGE"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuthApp]:
    built = _open(tmp_path, request.param)
    built.create_users(["alice", "bob"])
    yield built
    built.close()


def _hook(caller: Caller, name: str) -> str:
    body = {"name": name, "url": URL, "events": [TAG_SET]}
    return str(caller.ok("POST", HOOKS, json=body)["webhook"]["webhook_id"])


def _model(caller: Caller, name: str) -> None:
    caller.ok("POST", "/api/2.0/mlflow/registered-models/create", json={"name": name})


def _tag(caller: Caller, model: str, value: str) -> None:
    body = {"name": model, "key": "k", "value": value}
    caller.ok("POST", "/api/2.0/mlflow/registered-models/set-tag", json=body)


def _delivered(app: AuthApp, hook: str) -> list[tuple[str, str]]:
    """(model, tag value) of each event written for *hook*, oldest first (as the admin sees)."""
    page = app.admin.ok("GET", f"{HOOKS}/{hook}/deliveries", params={"max_results": 100})
    out = []
    for delivery in reversed(page.get("deliveries", [])):
        data: dict[str, Any] = delivery["payload"]["data"]
        out.append((data["name"], data["value"]))
    return out


def _listed(caller: Caller, max_results: int = 100) -> list[str]:
    ids: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"max_results": max_results}
        if token:
            params["page_token"] = token
        page = caller.ok("GET", HOOKS, params=params)
        ids += [w["webhook_id"] for w in page.get("webhooks", [])]
        assert len(page.get("webhooks", [])) <= max_results
        token = page.get("next_page_token")
        if not token:
            return ids


def test_a_user_manages_their_webhook_and_nobody_else_reaches_it(app: AuthApp) -> None:
    alice, bob, admin = app.user("alice"), app.user("bob"), app.admin
    mine = _hook(alice, "alice's")
    theirs = _hook(admin, "admin's")
    # The creator manages theirs; another user, whatever the default permission, does not.
    assert alice.ok("GET", f"{HOOKS}/{mine}")["webhook"]["name"] == "alice's"
    alice.ok("PATCH", f"{HOOKS}/{mine}", json={"description": "mine"})
    alice.ok("GET", f"{HOOKS}/{mine}/deliveries")
    for caller, hook in ((bob, mine), (alice, theirs)):
        for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/deliveries")):
            response = caller.request(method, f"{HOOKS}/{hook}{suffix}", json={})
            assert response.status_code == 403, (caller.name, method, suffix, response.text)
            assert URL not in response.text
        response = caller.post(f"{HOOKS}/{hook}/test", json={})
        assert response.status_code == 403
    # The listing: each sees their own; the admin sees all.
    assert _listed(alice) == [mine]
    assert _listed(bob) == []
    assert _listed(admin) == [mine, theirs]
    # An admin may hand a webhook to someone else.
    app.grant("bob", "webhook", mine, "MANAGE")
    assert bob.ok("GET", f"{HOOKS}/{mine}")["webhook"]["description"] == "mine"
    assert _listed(bob) == [mine]
    # Deleting it drops its grants with it.
    alice.ok("DELETE", f"{HOOKS}/{mine}")
    grants = admin.ok("GET", "/api/3.0/mlflow/users/permissions/list", params={"username": "bob"})
    assert [g for g in grants.get("permissions", []) if g["resource_type"] == "webhook"] == []
    assert _listed(admin) == [theirs]


def test_listing_pages_stay_full_under_the_filter(app: AuthApp) -> None:
    alice, bob = app.user("alice"), app.user("bob")
    made: list[str] = []
    for i in range(7):
        made.append(_hook(alice if i % 3 else bob, f"h{i}"))
    alices = [h for i, h in enumerate(made) if i % 3]
    assert _listed(alice, max_results=2) == alices
    assert _listed(bob, max_results=1) == [h for i, h in enumerate(made) if not i % 3]


def test_a_users_webhook_carries_only_events_of_models_they_manage(app: AuthApp) -> None:
    alice, admin = app.user("alice"), app.admin
    _model(alice, "alices-model")  # alice creates it: MANAGE
    _model(admin, "admins-model")
    mine = _hook(alice, "alice's")
    everything = _hook(admin, "admin's")
    _tag(alice, "alices-model", "1")
    _tag(admin, "admins-model", "2")
    expected_mine = [("alices-model", "1")]
    if app.app.state.context.auth.settings.default.name == "MANAGE":
        expected_mine.append(("admins-model", "2"))  # the default lets her manage it too
    assert _delivered(app, mine) == expected_mine
    assert _delivered(app, everything) == [("alices-model", "1"), ("admins-model", "2")]
    # Her permission is checked at each event: lowered to READ, her webhook hears no more.
    app.grant("alice", "registered_model", "alices-model", "READ")
    _tag(admin, "alices-model", "3")
    assert _delivered(app, mine) == expected_mine
    assert _delivered(app, everything)[-1] == ("alices-model", "3")
    # Restored: heard again.  Handed to bob too, it hears only what both of them manage.
    app.grant("alice", "registered_model", "alices-model", "MANAGE")
    _tag(admin, "alices-model", "4")
    app.grant("bob", "webhook", mine, "MANAGE")
    app.grant("bob", "registered_model", "admins-model", "READ")
    _tag(admin, "alices-model", "5")
    _tag(admin, "admins-model", "6")
    heard = [value for _, value in _delivered(app, mine)]
    assert heard[len(expected_mine) :] == (
        ["4", "5"] if app.app.state.context.auth.settings.default.name == "MANAGE" else ["4"]
    )


def test_a_filter_that_fails_sends_nothing_and_fails_no_change(tmp_path: Path) -> None:
    backend = open_backend(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "artifacts"))
    try:
        hook = backend.webhooks.create_webhook("h", URL, [WebhookEvent.coerce(TAG_SET)])

        def broken(webhook_id: str, event: str, data: dict[str, Any]) -> bool:
            raise RuntimeError("the auth database is unreachable")

        backend.webhooks.set_delivery_filter(broken)
        backend.registry.create_registered_model("m")
        backend.registry.set_registered_model_tag("m", RegisteredModelTag("k", "v"))
        assert backend.registry.get_registered_model("m").tags == {"k": "v"}
        assert backend.webhooks.list_webhook_deliveries(hook.webhook_id) == []
        backend.webhooks.set_delivery_filter(None)
        backend.registry.set_registered_model_tag("m", RegisteredModelTag("k", "w"))
        assert len(backend.webhooks.list_webhook_deliveries(hook.webhook_id)) == 1
    finally:
        backend.close()
