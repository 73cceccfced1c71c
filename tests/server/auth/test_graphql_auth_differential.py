"""``/graphql`` with authentication: ``mlflow server --app-name basic-auth`` and an
authenticating mltrail server given the same requests, their answers compared.

The requests: anonymous and with a wrong password; a user refused one experiment (a grant of
DENY) asking for it, a run in it and a search of it, and for what they may read; the
admin; GET as well as POST; a body sent as ``text/plain`` (what an HTML form or a "simple"
cross-site request can send); and POSTs carrying another site's ``Origin``.

MLflow protects ``/graphql`` with basic-auth and its per-field rules, but with no CSRF token
(its CSRF protection covers only its user-creation form) and, as ``/graphql`` is not under
``/api``, without its cross-origin check.  mltrail refuses any state-changing method from a
foreign ``Origin`` on every path, ``/graphql`` included: the differences listed in
:data:`KNOWN_DIFFERENCES`, with their reasons.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._live_server import ServerProcess
from tests.server.auth._apps import ADMIN, ADMIN_PASSWORD, MLFLOW_WARNINGS, settings_for
from tests.server.auth.test_mlflow_differential import mlflow_server  # noqa: F401  (fixture)

from mltrail.server import create_app

pytestmark = [pytest.mark.slow, *(pytest.mark.filterwarnings(w) for w in MLFLOW_WARNINGS)]

API = "/api/2.0/mlflow"
BOB = ("bob", "bob-password-1111")

#: request label -> (MLflow's outcome, mltrail's outcome, why they differ).
KNOWN_DIFFERENCES: dict[str, tuple[Any, Any, str]] = {
    "bob, a search of it": (
        (200, {"data": {"mlflowSearchRuns": None}, "errors": None}),
        (200, "answered"),
        "a search of experiments none of which the caller may read: MLflow answers null, "
        "mltrail the search its REST endpoint answers (no runs); neither shows anything",
    ),
    "admin, by GET": (
        (500, "not JSON"),
        (200, "answered"),
        "MLflow's /graphql fails on a GET (it reads a JSON body); mltrail answers the query "
        "string's query, as GraphQL over HTTP has it (reads only, so no CSRF concern)",
    ),
    "admin, from another site": (
        (200, "answered"),
        (403, "PERMISSION_DENIED"),
        "mltrail refuses every cross-origin POST whose Origin is not allowed (a web page must "
        "not drive the server through a signed-in browser); MLflow checks only paths under "
        "/api and /ajax-api",
    ),
    "admin, from a localhost page": (
        (200, "answered"),
        (403, "PERMISSION_DENIED"),
        "MLflow trusts any localhost origin (another local web app included); mltrail only its "
        "own origin and --cors-allowed-origins",
    ),
}


def _setup(url: str, bob: tuple[str, str] = BOB) -> dict[str, str]:
    """An experiment with a run, user bob, and bob refused that experiment; label -> id."""
    with httpx.Client(base_url=url + API, auth=(ADMIN, ADMIN_PASSWORD), timeout=60) as http:

        def ok(path: str, body: dict[str, Any]) -> Any:
            return http.post(path, json=body).raise_for_status().json()

        exp = ok("/experiments/create", {"name": f"secret of {bob[0]}"})["experiment_id"]
        run = ok("/runs/create", {"experiment_id": exp, "start_time": 1})["run"]["info"]["run_id"]
        ok("/users/create", {"username": bob[0], "password": bob[1]})
    grant = {"resource_type": "experiment", "resource_id": exp, "permission": "DENY"}
    httpx.post(
        url + "/api/3.0/mlflow/users/permissions/grant",
        json={"username": bob[0], **grant},
        auth=(ADMIN, ADMIN_PASSWORD),
    ).raise_for_status()
    return {"exp": exp, "run": run}


def _requests(ids: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    secret = f'{{ mlflowGetExperiment(input: {{experimentId: "{ids["exp"]}"}}) ' + (
        "{ experiment { name } } }"
    )
    run = f'{{ mlflowGetRun(input: {{runId: "{ids["run"]}"}}) {{ run {{ info {{ runName }} }} }} }}'
    search = (
        f'mutation {{ mlflowSearchRuns(input: {{experimentIds: ["{ids["exp"]}"]}}) '
        "{ runs { info { status } } } }"
    )
    default = '{ mlflowGetExperiment(input: {experimentId: "0"}) { experiment { name } } }'
    admin: dict[str, Any] = {"auth": (ADMIN, ADMIN_PASSWORD)}
    return [
        ("anonymous", {"json": {"query": secret}}),
        ("a wrong password", {"json": {"query": secret}, "auth": (ADMIN, "not-the-password")}),
        ("bob, the refused experiment", {"json": {"query": secret}, "auth": BOB}),
        ("bob, a run in it", {"json": {"query": run}, "auth": BOB}),
        ("bob, a search of it", {"json": {"query": search}, "auth": BOB}),
        ("bob, what he may read", {"json": {"query": default}, "auth": BOB}),
        ("admin", {"json": {"query": secret}, **admin}),
        ("admin, by GET", {"params": {"query": secret}, "method": "GET", **admin}),
        (
            "admin, as text/plain",
            {
                "content": json.dumps({"query": secret}),
                "headers": {"Content-Type": "text/plain"},
                **admin,
            },
        ),
        (
            "admin, from another site",
            {"json": {"query": secret}, "headers": {"Origin": "https://evil.example"}, **admin},
        ),
        (
            "admin, from a localhost page",
            {"json": {"query": secret}, "headers": {"Origin": "http://localhost:3000"}, **admin},
        ),
    ]


def _outcome(response: httpx.Response) -> Any:
    """The status and, for a JSON answer, its GraphQL answer or its error code (for a 401,
    whether it asks for basic credentials: MLflow's body is text, mltrail's JSON)."""
    if response.status_code == 401:
        return (401, response.headers.get("www-authenticate", "").split(" ")[0])
    try:
        body = response.json()
    except ValueError:
        return (response.status_code, "not JSON")
    if response.status_code == 200 and isinstance(body, dict) and "data" in body:
        data = body["data"]
        if data and all(v is not None for v in data.values()) and not body["errors"]:
            return (200, "answered")
        return (200, body)
    return (response.status_code, body.get("error_code") if isinstance(body, dict) else body)


def _ask(url: str, request: dict[str, Any]) -> Any:
    options = dict(request)
    method = options.pop("method", "POST")
    return _outcome(httpx.request(method, url + "/graphql", timeout=60, **options))


def _run(url: str) -> dict[str, Any]:
    ids = _setup(url)
    return {label: _ask(url, request) for label, request in _requests(ids)}


@pytest.fixture
def mltrail_url(tmp_path: Path, serve: Callable[..., Any]) -> str:
    return serve(create_app(settings_for(tmp_path / "mltrail", default_permission="READ"))).url


def test_graphql_with_basic_auth_as_mlflow(
    mlflow_server: ServerProcess,  # noqa: F811
    mltrail_url: str,
) -> None:
    theirs = _run(mlflow_server.url)
    ours = _run(mltrail_url)
    differences = {
        label: (theirs[label], ours[label]) for label in theirs if theirs[label] != ours[label]
    }
    assert differences == {label: (t, m) for label, (t, m, _) in KNOWN_DIFFERENCES.items()}
    # both refused the anonymous caller and the wrong password, and hid the refused experiment
    assert theirs["anonymous"][0] == 401
    assert theirs["a wrong password"][0] == 401
    hidden = {"data": {"mlflowGetExperiment": None}, "errors": None}
    assert theirs["bob, the refused experiment"] == (200, hidden)
    assert theirs["bob, what he may read"] == (200, "answered")
    # mltrail's answer to bob's search shows none of the hidden runs
    secret = httpx.get(
        mltrail_url + API + "/experiments/get-by-name",
        params={"experiment_name": f"secret of {BOB[0]}"},
        auth=(ADMIN, ADMIN_PASSWORD),
    ).json()["experiment"]["experiment_id"]
    search = (
        f'mutation {{ mlflowSearchRuns(input: {{experimentIds: ["{secret}"]}}) '
        "{ runs { info { runId } } } }"
    )
    answer = httpx.post(mltrail_url + "/graphql", json={"query": search}, auth=BOB).json()
    assert answer == {"data": {"mlflowSearchRuns": {"runs": []}}, "errors": None}
