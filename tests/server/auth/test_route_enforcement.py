"""Every route of an authenticating app refuses whoever its rule keeps out, and gives them
nothing.

The walk goes over ``app.state.access`` (tracking, artifacts, multipart, registry, logged
models, webhooks, the UI's API, auth, OpenAPI, static files): each (path pattern, method) gets
a valid request from :mod:`._samples` (a route without one fails the walk, naming it), sent

- anonymously: 401 (with MLflow's Basic challenge outside ``/ajax-api``), except on PUBLIC and
  UPLOAD_CAPABILITY
  routes;
- by ``stranger``, who holds NO_PERMISSIONS on every hidden resource: 403 on resource and
  ADMIN routes, 200 from a filtered listing, the expected answer of every other signed-in
  route;
- by ``reader`` (READ grants): 200 where the rule asks for READ only, 403 where it asks for
  more or for an admin;
- by the admin on reading routes, to show the samples reach the data.

No response to a refused call (nor any of the stranger's) holds any hidden name, value or
file text that the request itself did not carry.  The world is built twice: with the server's
default permission READ (the stranger's NO_PERMISSIONS grants hide the data) and
NO_PERMISSIONS (nothing is granted by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.server.auth._apps import AuthApp, Caller, settings_for
from tests.server.auth._samples import Planned, plan, relative
from tests.server.auth._world import READER, SECRET, STRANGER, World, build_world

from mltrail.entities._auth import Permission
from mltrail.server import Endpoint, create_app
from mltrail.server._access import AUTHENTICATED, Access, AccessKind, read
from mltrail.server._access import RUN_ID as RUN_ID_LOCATOR
from mltrail.server._route_rules import PlainRoute
from mltrail.server._schema import obj

#: What the stranger gets from the signed-in routes whose handlers refuse them.
_STRANGER_REFUSED = {
    "/mlflow/users/get": 403,  # another user's record
    "/mlflow/users/update-password": 403,
    "/mlflow/users/permissions/grant": 403,  # needs MANAGE on the experiment
    "/mlflow/users/permissions/revoke": 403,
    "/mlflow/users/permissions/get": 403,
    "/mlflow/users/permissions/list": 403,
    "/mltrail/tokens/list": 403,  # the owner's tokens
    "/mltrail/tokens/revoke": 404,  # another user's token is as unknown as a missing one
}
#: Hidden values a refused caller may still see, and why: a user's own grants name the
#: resources they are about, a NO_PERMISSIONS grant on a registered model included (its name is
#: its id), as MLflow's ``users/current/permissions`` does.
_SHOWN = {"/mlflow/users/current/permissions": {"registered model name"}}
_OPEN = (AccessKind.PUBLIC, AccessKind.UPLOAD_CAPABILITY)


@pytest.fixture(scope="module", params=["READ", "NO_PERMISSIONS"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("world"), request.param)
    yield built
    built.app.close()


def _asset(app: AuthApp) -> str:
    """A file of the packaged UI build's assets folder."""
    static = app.app.state.context.settings.static_dir
    folder = Path(static) if static else Path(__file__).parents[3] / "src/mltrail/server/static"
    return next(p.name for p in sorted((folder / "assets").iterdir()) if p.is_file())


def _send(caller: Caller, p: Planned) -> httpx.Response:
    return caller.request(p.send_method, p.url, params=p.params, json=p.json, content=p.content)


def _leaks(world: World, p: Planned, response: httpx.Response) -> list[str]:
    """The hidden values in *response* that *p* did not carry itself."""
    sent = p.request_text()
    seen = response.text + " " + " ".join(response.headers.values())
    return [label for label, value in world.secrets.items() if value in seen and value not in sent]


def _max_need(access: Access) -> Permission:
    return max((n.permission for n in access.needs), key=lambda p: p.value)


def _expect(
    failures: list[str],
    world: World,
    who: str,
    p: Planned,
    response: httpx.Response,
    status: int | None,
    *,
    may_show: bool = False,
) -> None:
    """Record in *failures* an answer other than *status* (None: any), a 401 without the
    challenge, and hidden data in the answer (unless the caller *may_show* it)."""
    if status is not None and response.status_code != status:
        failures.append(f"{p} as {who}: {response.status_code}, expected {status}: {response.text}")
    challenged = response.headers.get("www-authenticate", "").split(" ")[0] == "Basic"
    if status == 401 and challenged == p.pattern.startswith("/ajax-api/"):
        # API clients get MLflow's challenge; the web UI's calls none (a browser would hold
        # them for its own password dialog instead of showing the sign-in page).
        failures.append(
            f"{p} as {who}: a 401 with the Basic challenge {'not ' * challenged}where it belongs"
        )
    allowed = _SHOWN.get(relative(p.pattern), set())
    leaked = [] if may_show else [k for k in _leaks(world, p, response) if k not in allowed]
    if leaked:
        failures.append(f"{p} as {who}: the answer holds {leaked}")


def test_every_route_refuses_callers_without_the_permission(world: World) -> None:
    app = world.app
    table: dict[tuple[str, str], Access] = app.app.state.access
    planned, missing = plan(list(table), world, _asset(app))
    assert missing == [], "routes without a sample request"
    anonymous, stranger, reader, admin = (
        app.anonymous(),
        app.user(STRANGER),
        app.user(READER),
        app.admin,
    )
    failures: list[str] = []
    reader_saw: set[str] = set()
    admin_saw: set[str] = set()
    counts = dict.fromkeys(("401", "403 stranger", "403 reader", "filtered", "read"), 0)
    for p in planned:
        access = table[(p.pattern, p.method)]
        # anonymous
        response = _send(anonymous, p)
        if access.kind in _OPEN:
            _expect(failures, world, "anonymous", p, response, None)
        else:
            _expect(failures, world, "anonymous", p, response, 401)
            counts["401"] += 1
        # the stranger
        response = _send(stranger, p)
        if access.kind in (AccessKind.RESOURCE, AccessKind.ADMIN):
            _expect(failures, world, STRANGER, p, response, 403)
            counts["403 stranger"] += 1
        elif access.filtered:
            _expect(failures, world, STRANGER, p, response, 200)
            counts["filtered"] += 1
        elif access.kind is AccessKind.AUTHENTICATED:
            status = _STRANGER_REFUSED.get(relative(p.pattern), 200)
            _expect(failures, world, STRANGER, p, response, status)
        else:
            _expect(failures, world, STRANGER, p, response, None)
        # the reader
        if access.kind is AccessKind.ADMIN or (
            access.kind is AccessKind.RESOURCE and _max_need(access) is not Permission.READ
        ):
            _expect(failures, world, READER, p, _send(reader, p), 403)
            counts["403 reader"] += 1
        elif access.kind is AccessKind.RESOURCE or access.filtered:
            response = _send(reader, p)
            _expect(failures, world, READER, p, response, 200, may_show=True)
            reader_saw.update(k for k, v in world.secrets.items() if v in response.text)
            counts["read"] += 1
        # the admin reads what the samples aim at
        if p.send_method == "GET" and access.kind in (AccessKind.RESOURCE, AccessKind.ADMIN):
            response = _send(admin, p)
            _expect(failures, world, "admin", p, response, 200, may_show=True)
            admin_saw.update(k for k, v in world.secrets.items() if v in response.text)
    assert failures == [], "\n".join(failures)
    # The samples reach the hidden data: whoever may read it sees every piece of it.
    assert reader_saw == set(world.secrets) - {"webhook url"}
    assert admin_saw == set(world.secrets)
    # Each kind of refusal was exercised on many routes (the table has 271).
    assert len(planned) == len(table)
    assert min(counts.values()) >= 15, counts


def test_searches_show_the_stranger_none_of_the_hidden_resources(world: World) -> None:
    stranger = world.app.user(STRANGER)
    exp = world.experiment_id
    answers = {
        "experiments": stranger.ok("POST", "/api/2.0/mlflow/experiments/search", json={}),
        "runs": stranger.ok("POST", "/api/2.0/mlflow/runs/search", json={"experiment_ids": [exp]}),
        "logged models": stranger.ok(
            "POST", "/api/2.0/mlflow/logged-models/search", json={"experiment_ids": [exp]}
        ),
        "registered models": stranger.ok("GET", "/api/2.0/mlflow/registered-models/search"),
        "versions": stranger.ok("GET", "/api/2.0/mlflow/model-versions/search"),
    }
    assert {k: SECRET in str(v) for k, v in answers.items()} == dict.fromkeys(answers, False)
    assert [e["experiment_id"] for e in answers["experiments"]["experiments"]] != []  # Default
    assert answers["runs"].get("runs", []) == []
    assert answers["logged models"].get("models", []) == []


def test_refused_calls_changed_nothing(world: World) -> None:
    """After the walk (or alone), the owner's data is as built: no refused write went through."""
    owner = world.app.user("owner")
    run = owner.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": world.run_id})["run"]
    assert run["info"]["lifecycle_stage"] == "active"
    assert run["info"]["experiment_id"] == world.experiment_id
    assert run["data"]["params"] == [{"key": "hp", "value": world.secrets["param value"]}]
    model = owner.ok(
        "GET", "/api/2.0/mlflow/registered-models/get", params={"name": world.model_name}
    )
    assert [a["alias"] for a in model["registered_model"]["aliases"]] == ["champion"]
    text = owner.get(f"/api/2.0/mlflow-artifacts/artifacts/{world.run_artifacts}/notes.txt").text
    assert text == world.secrets["artifact text"]
    assert (
        world.app.user(STRANGER).get("/api/2.0/mlflow/users/current").json()["user"]["is_admin"]
        is False
    )


# -- the inventory stays complete ---------------------------------------------------------------


async def _plain(request: object) -> PlainTextResponse:
    return PlainTextResponse("x")


def test_a_route_without_a_sample_fails_the_walk(tmp_path: Path, world: World) -> None:
    extra_endpoint = Endpoint(
        "GET",
        "/mltrail/brand-new",
        "A route nobody wrote a sample for",
        obj({}),
        handler=lambda ctx, args: {},
        access=read(RUN_ID_LOCATOR),
    )
    extra_route = PlainRoute(Route("/also-new", _plain, methods=["POST"]), AUTHENTICATED)
    app = create_app(
        settings_for(tmp_path), extra_endpoints=[extra_endpoint], extra_routes=[extra_route]
    )
    _, missing = plan(list(app.state.access), world)
    assert set(missing) == {
        "GET /ajax-api/2.0/mltrail/brand-new",
        "HEAD /ajax-api/2.0/mltrail/brand-new",
        "GET /api/2.0/mltrail/brand-new",
        "HEAD /api/2.0/mltrail/brand-new",
        "POST /also-new",
    }
