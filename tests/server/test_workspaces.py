"""The server's workspaces: ``/api/3.0/mlflow/workspaces`` and the ``X-MLflow-Workspace``
header, with workspaces enabled and without (MLflow's answers, checked against its server in
``tests/compat/test_workspaces_differential.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.server.conftest import Api

import mltrail
from mltrail._exceptions import MltrailError
from mltrail.store._workspace_base import WORKSPACE_ENV

WS = "/api/3.0/mlflow/workspaces"
SEARCH = "/api/2.0/mlflow/experiments/search"


def _error(response: object) -> tuple[int, str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return response.status_code, body["error_code"], body["message"]  # type: ignore[attr-defined]


def test_without_workspaces_the_header_and_endpoints_are_refused(api: Api) -> None:
    listed = api.get(WS)
    assert listed.status_code == 503
    assert "--enable-workspaces" in listed.text
    assert api.client.delete(f"{WS}/team-a").status_code == 503
    refused = api.get(SEARCH, headers={"X-MLflow-Workspace": "team-a"})
    assert _error(refused) == (
        500,
        "FEATURE_DISABLED",
        "Workspace APIs are not available: workspaces are not enabled on this server",
    )
    info = api.ok("GET", "/api/3.0/mlflow/server-info", headers={"X-MLflow-Workspace": "x"})
    assert info["workspaces_enabled"] is False
    assert api.ok("GET", SEARCH)["experiments"][0]["workspace"] == "default"


def test_requests_act_in_the_workspace_of_their_header(make_api: Callable[..., Api]) -> None:
    api = make_api(enable_workspaces=True)
    assert api.ok("GET", WS) == {
        "workspaces": [{"name": "default", "description": "Default workspace for legacy resources"}]
    }
    created = api.post(WS, {"name": "team-a", "trace_archival_config": {"retention": "12h"}})
    assert created.status_code == 201
    assert created.json() == {
        "workspace": {"name": "team-a", "trace_archival_config": {"retention": "12h"}}
    }
    team = {"X-MLflow-Workspace": "team-a"}
    made = api.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": "e"}, headers=team)
    found = api.ok("GET", SEARCH, headers=team)["experiments"]
    assert [(e["experiment_id"], e["workspace"]) for e in found] == [
        (made["experiment_id"], "team-a")
    ]
    assert [e["name"] for e in api.ok("GET", SEARCH)["experiments"]] == ["Default"]
    assert _error(api.get(SEARCH, headers={"X-MLflow-Workspace": "Bad_"}))[:2] == (
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert _error(api.get(SEARCH, headers={"X-MLflow-Workspace": "gone-x"})) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "Workspace 'gone-x' not found",
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("PATCH", f"{WS}/team-a", {}, "Workspace update must have at least one key"),
        (
            "POST",
            WS,
            {"name": "default"},
            "The 'default' workspace is reserved and cannot be created",
        ),
        ("POST", WS, {}, "Missing value for required parameter 'name'."),
        ("POST", WS, {"name": "ab", "description": 3}, "parameter 'description'"),
        ("POST", WS, {"name": "ab", "default_artifact_root": "rel/x"}, "Expected a URI"),
        ("DELETE", f"{WS}/default", None, "reserved and cannot be deleted"),
        ("DELETE", f"{WS}/team-a?mode=BAD", None, "Invalid deletion mode 'BAD'"),
        ("GET", f"{WS}/Bad_", None, "must match the pattern"),
    ],
)
def test_bad_workspace_requests_name_the_problem(
    make_api: Callable[..., Api], method: str, path: str, body: object, message: str
) -> None:
    api = make_api(enable_workspaces=True)
    api.post(WS, {"name": "team-a"})
    response = api.client.request(method, path, json=body)
    status, code, text = _error(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert message in text


def test_the_client_sends_its_workspace(
    make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_api(enable_workspaces=True)
    monkeypatch.delenv(WORKSPACE_ENV, raising=False)
    mltrail.set_tracking_uri(str(api.client.base_url).rstrip("/"))
    try:
        mltrail.create_workspace("team-a", description="A")
        mltrail.set_workspace("team-a")
        eid = mltrail.create_experiment("e")
        assert mltrail.get_experiment(eid).workspace == "team-a"
        mltrail.set_workspace(None)
        with pytest.raises(MltrailError) as info:
            mltrail.get_experiment(eid)
        assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        assert [w.name for w in mltrail.list_workspaces()] == ["default", "team-a"]
        assert mltrail.MlflowClient().get_workspace_store_uri() == mltrail.get_tracking_uri()
        mltrail.delete_workspace("team-a", mode="CASCADE")
        assert [w.name for w in mltrail.list_workspaces()] == ["default"]
    finally:
        mltrail.set_workspace(None)
        mltrail.set_tracking_uri(None)
