"""An experiment's artifact_location cannot make the server fetch from its own network, leak
credentials, or point into the staging folder or another run's artifacts.

Holes found when the server was attacked: with ``--no-serve-artifacts`` a location could be an
``http://`` URL on any host, which the server then fetched from when listing or downloading a
run's artifacts (server-side request forgery, credentials in the URL shown to every reader); a
location could lie inside the server's staging folder or another run's artifacts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.server.conftest import Api

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import _destinations
from mltrail.server._context import STAGING_DIR, proxy_path
from mltrail.store import open_backend

API = "/api/2.0/mlflow"
CREATE = f"{API}/experiments/create"


class Target:
    """An HTTP server on 127.0.0.1 that answers like an artifact proxy and counts requests."""

    def __init__(self, serve: Callable[..., Any]) -> None:
        self.hits: list[str] = []
        self.headers: list[dict[str, str]] = []

        async def answer(request: Request) -> JSONResponse:
            self.hits.append(str(request.url))
            self.headers.append(dict(request.headers))
            return JSONResponse({"files": [{"path": "secret.txt", "is_dir": False}]})

        app = Starlette(routes=[Route("/{p:path}", answer, methods=["GET"])])
        self.url = serve(app).url + "/api/2.0/mlflow-artifacts/artifacts/x"


@pytest.fixture
def target(serve: Callable[..., Any]) -> Target:
    return Target(serve)


def _refused(response: Any, *fragments: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    message: str = body["message"]
    assert "artifact" in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_a_location_on_a_private_host_is_refused_at_creation(
    make_api: Callable[..., Api], target: Target
) -> None:
    api = make_api(serve_artifacts=False)
    response = api.post(CREATE, json={"name": "ssrf", "artifact_location": target.url})
    _refused(response, "artifact_location", "127.0.0.1", "private")
    for host in ("10.0.0.7", "169.254.169.254", "[::1]"):
        location = f"http://{host}/artifacts"
        response = api.post(CREATE, json={"name": host, "artifact_location": location})
        _refused(response, "artifact_location", "private")
    assert target.hits == []


def test_the_server_never_fetches_a_stored_private_location(
    make_api: Callable[..., Api], target: Target
) -> None:
    api = make_api(serve_artifacts=False)
    backend = open_backend(api.settings.backend_store_uri or "", str(api.artifacts))
    try:
        eid = backend.experiments.create_experiment("stored before the rule", target.url)
    finally:
        backend.close()
    run_id = api.run(eid)["run_id"]
    listing = api.get(f"{API}/artifacts/list", params={"run_id": run_id})
    _refused(listing, "127.0.0.1", "private")
    download = api.get("/get-artifact", params={"run_uuid": run_id, "path": "secret.txt"})
    _refused(download, "127.0.0.1", "private")
    assert target.hits == []


def test_private_locations_when_the_server_allows_them(
    make_api: Callable[..., Api], target: Target
) -> None:
    api = make_api(serve_artifacts=False, artifacts_allow_private_destinations=True)
    body = api.ok("POST", CREATE, json={"name": "lan", "artifact_location": target.url})
    run_id = api.run(body["experiment_id"])["run_id"]
    listing = api.ok("GET", f"{API}/artifacts/list", params={"run_id": run_id})
    assert [f["path"] for f in listing["files"]] == ["secret.txt"]
    assert len(target.hits) == 1


@pytest.mark.parametrize("serve_artifacts", [True, False])
@pytest.mark.parametrize(
    "location",
    ["https://alice:s3cret@artifacts.example.com/ml", "s3://alice:s3cret@bucket/ml"],
)
def test_credentials_are_never_stored_in_or_echoed_from_a_location(
    make_api: Callable[..., Api], serve_artifacts: bool, location: str
) -> None:
    api = make_api(serve_artifacts=serve_artifacts)
    response = api.post(CREATE, json={"name": "creds", "artifact_location": location})
    message = _refused(response)
    assert "s3cret" not in message
    assert "alice" not in message
    if not serve_artifacts:
        assert "credentials" in message
    names = [e["name"] for e in api.ok("GET", f"{API}/experiments/search")["experiments"]]
    assert "creds" not in names


def test_serving_a_location_in_the_staging_folder_or_a_runs_artifacts_is_refused(
    api: Api,
) -> None:
    eid = api.experiment()
    run_id = api.run(eid)["run_id"]
    staging = f"mlflow-artifacts:/{STAGING_DIR}/mine"
    response = api.post(CREATE, json={"name": "s", "artifact_location": staging})
    _refused(response, "artifact_location", "staging")
    for inside in (f"{eid}/{run_id}/artifacts", f"{eid}/{run_id}/artifacts/deeper/still"):
        location = f"mlflow-artifacts:/{inside}"
        response = api.post(CREATE, json={"name": inside, "artifact_location": location})
        _refused(response, "artifact_location", run_id)
    # Beside a run's artifacts, and in a folder of its own, is fine.
    for name, free in (("beside", f"{eid}/{run_id}/other"), ("own", "team/project")):
        api.ok(
            "POST", CREATE, json={"name": name, "artifact_location": f"mlflow-artifacts:/{free}"}
        )


def test_a_local_location_in_the_staging_folder_or_a_runs_artifacts_is_refused(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(serve_artifacts=False)
    staging = api.artifacts / STAGING_DIR / "mine"
    for location in (str(staging), staging.as_uri()):
        response = api.post(CREATE, json={"name": location, "artifact_location": location})
        _refused(response, "artifact_location", "staging")
    eid = api.experiment()
    run = api.run(eid)
    for location in (run["artifact_uri"], run["artifact_uri"] + "/sub"):
        response = api.post(CREATE, json={"name": location, "artifact_location": location})
        _refused(response, "artifact_location", run["run_id"])
    own = api.artifacts.parent / "elsewhere"
    api.ok("POST", CREATE, json={"name": "own", "artifact_location": str(own)})


def test_a_read_goes_to_the_checked_address_without_the_servers_credentials(
    make_api: Callable[..., Api], target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name is checked, then looked up again by the HTTP client, which may
    get another answer (here 127.0.0.2, where nothing listens).  The read must go to the
    address that was checked, say the original host, and carry none of the tracking
    credentials of the server's own process."""
    port = urlsplit(target.url).port
    location = f"http://rebind.test:{port}/api/2.0/mlflow-artifacts/artifacts/x"
    checked = _destinations._resolve
    monkeypatch.setattr(
        _destinations,
        "_resolve",
        lambda host, p, what: ["127.0.0.1"] if host == "rebind.test" else checked(host, p, what),
    )
    second_lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            second_lookups.append(host)
            host = "127.0.0.2"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setenv("MLTRAIL_TRACKING_TOKEN", "the-servers-own-token")
    api = make_api(serve_artifacts=False, artifacts_allow_private_destinations=True)
    body = api.ok("POST", CREATE, json={"name": "rebind", "artifact_location": location})
    run_id = api.run(body["experiment_id"])["run_id"]
    listing = api.ok("GET", f"{API}/artifacts/list", params={"run_id": run_id})
    assert [f["path"] for f in listing["files"]] == ["secret.txt"]
    assert second_lookups == []
    assert len(target.headers) == 1
    assert target.headers[0]["host"] == f"rebind.test:{port}"
    assert "authorization" not in target.headers[0]


def test_the_proxys_http_route_names_the_same_folder_as_mlflow_artifacts() -> None:
    """MLflow's docs configure --default-artifact-root as the proxy's own URL; its paths are
    the destination's, whatever host the client used, and climbing is refused in both forms."""
    assert proxy_path("mlflow-artifacts:/1/r/artifacts") == "1/r/artifacts"
    for host in ("http://127.0.0.1:5000", "https://mlflow.example.com/prefix"):
        assert proxy_path(f"{host}/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts") == (
            "1/r/artifacts"
        )
        assert proxy_path(f"{host}/api/2.0/mlflow-artifacts/artifacts") == ""
        with pytest.raises(InvalidArgument):
            proxy_path(f"{host}/api/2.0/mlflow-artifacts/artifacts/1/../../etc")
    assert proxy_path("http://host/api/2.0/mlflow-artifacts/artifactsX/1") is None
    assert proxy_path("http://host/elsewhere/1") is None
    assert proxy_path("s3://bucket/api/2.0/mlflow-artifacts/artifacts/1") is None
