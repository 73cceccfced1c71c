"""The registry's REST endpoints: MLflow's paths, JSON shapes and error codes (in process)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mltrail.server import ServerSettings, create_app


class Api:
    """A synchronous face over httpx's in-process ASGI transport."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.request(method, path, **kwargs)

        return asyncio.run(go())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(tmp_path: Path) -> Api:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
    )
    return Api(create_app(settings))


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: Any, status: int, code: str, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert fragment in body["message"], body
    assert "Traceback" not in body["message"]


@pytest.fixture
def run_id(api: Api) -> str:
    body = _ok(api.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}))
    return str(body["run"]["info"]["run_id"])


API = "/api/2.0/mlflow"


def test_registered_model_endpoints(api: Api) -> None:
    created = _ok(
        api.post(
            f"{API}/registered-models/create",
            json={"name": "churn", "tags": [{"key": "team", "value": "risk"}], "description": "d"},
        )
    )["registered_model"]
    assert created["name"] == "churn"
    assert created["tags"] == [{"key": "team", "value": "risk"}]
    assert isinstance(created["creation_timestamp"], int)
    _error(
        api.post(f"{API}/registered-models/create", json={"name": "churn"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
        "already exists",
    )
    _error(
        api.post(f"{API}/registered-models/create", json={"name": "chur%6E"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
        "names the same model",
    )
    _error(
        api.post(f"{API}/registered-models/create", json={}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'name'",
    )
    _error(
        api.post(f"{API}/registered-models/create", json={"name": 5}),
        400,
        "INVALID_PARAMETER_VALUE",
        "must be a string",
    )
    got = _ok(api.get(f"{API}/registered-models/get", params={"name": "churn"}))
    assert got["registered_model"]["description"] == "d"
    _error(
        api.get(f"{API}/registered-models/get", params={"name": "nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "nope",
    )
    updated = _ok(
        api.patch(f"{API}/registered-models/update", json={"name": "churn", "description": "e"})
    )
    assert updated["registered_model"]["description"] == "e"
    _ok(
        api.post(
            f"{API}/registered-models/set-tag", json={"name": "churn", "key": "k", "value": "v"}
        )
    )
    _ok(
        api.request(
            "DELETE", f"{API}/registered-models/delete-tag", json={"name": "churn", "key": "team"}
        )
    )
    renamed = _ok(
        api.post(f"{API}/registered-models/rename", json={"name": "churn", "new_name": "churn2"})
    )["registered_model"]
    assert (renamed["name"], renamed["tags"]) == ("churn2", [{"key": "k", "value": "v"}])
    for name in ("a", "b", "c"):
        _ok(api.post(f"{API}/registered-models/create", json={"name": name}))
    page1 = _ok(
        api.get(
            f"{API}/registered-models/search",
            params={"max_results": 2, "order_by": ["name DESC"]},
        )
    )
    assert [m["name"] for m in page1["registered_models"]] == ["churn2", "c"]
    page2 = _ok(
        api.get(
            "/ajax-api/2.0/mlflow/registered-models/search",
            params={
                "max_results": 2,
                "order_by": ["name DESC"],
                "page_token": page1["next_page_token"],
            },
        )
    )
    assert [m["name"] for m in page2["registered_models"]] == ["b", "a"]
    assert "next_page_token" not in page2
    found = _ok(
        api.post(
            f"{API}/registered-models/search",
            json={"filter": "name = 'a' OR tags.k = 'v'"},
        )
    )
    assert [m["name"] for m in found["registered_models"]] == ["a", "churn2"]
    _error(
        api.get(f"{API}/registered-models/search", params={"filter": "name = "}),
        400,
        "INVALID_PARAMETER_VALUE",
        "expected a value",
    )
    _error(
        api.get(f"{API}/registered-models/search", params={"max_results": 5000}),
        400,
        "INVALID_PARAMETER_VALUE",
        "max_results",
    )
    _ok(api.request("DELETE", f"{API}/registered-models/delete", json={"name": "a"}))
    _error(
        api.request("DELETE", f"{API}/registered-models/delete", json={"name": "a"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_model_version_endpoints(api: Api, run_id: str) -> None:
    _ok(api.post(f"{API}/registered-models/create", json={"name": "m"}))
    mv = _ok(
        api.post(
            f"{API}/model-versions/create",
            json={
                "name": "m",
                "source": f"runs:/{run_id}/model",
                "run_id": run_id,
                "tags": [{"key": "pre_deploy_checks", "value": "PASSED"}],
                "description": "first",
            },
        )
    )["model_version"]
    assert (mv["version"], mv["status"], mv["current_stage"], mv["run_id"]) == (
        "1",
        "READY",
        "None",
        run_id,
    )
    assert mv["tags"] == [{"key": "pre_deploy_checks", "value": "PASSED"}]
    _ok(
        api.post(
            f"{API}/model-versions/create", json={"name": "m", "source": f"runs:/{run_id}/model"}
        )
    )
    got = _ok(api.get(f"{API}/model-versions/get", params={"name": "m", "version": "1"}))
    assert got["model_version"]["description"] == "first"
    _error(
        api.get(f"{API}/model-versions/get", params={"name": "m", "version": "7"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "version=7",
    )
    _error(
        api.get(f"{API}/model-versions/get", params={"name": "m", "version": "x"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "version",
    )
    for source in (
        "/etc/passwd",
        "file:///etc/passwd",
        f"runs:/{run_id}/../../x",
        f"runs:/{run_id}/%252e%252e/x",
    ):
        _error(
            api.post(
                f"{API}/model-versions/create",
                json={"name": "m", "source": source, "run_id": run_id},
            ),
            400,
            "INVALID_PARAMETER_VALUE",
        )
    updated = _ok(
        api.patch(
            f"{API}/model-versions/update",
            json={"name": "m", "version": "2", "description": "second"},
        )
    )
    assert updated["model_version"]["description"] == "second"
    moved = _ok(
        api.post(
            f"{API}/model-versions/transition-stage",
            json={
                "name": "m",
                "version": "2",
                "stage": "production",
                "archive_existing_versions": True,
            },
        )
    )
    assert moved["model_version"]["current_stage"] == "Production"
    _error(
        api.post(
            f"{API}/model-versions/transition-stage",
            json={"name": "m", "version": "2", "stage": "Shipped"},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "stage",
    )
    latest = _ok(
        api.post(
            f"{API}/registered-models/get-latest-versions",
            json={"name": "m", "stages": ["Production"]},
        )
    )
    assert [v["version"] for v in latest["model_versions"]] == ["2"]
    latest_get = _ok(
        api.get(
            f"{API}/registered-models/get-latest-versions",
            params={"name": "m", "stages": ["None", "Production"]},
        )
    )
    assert [v["version"] for v in latest_get["model_versions"]] == ["1", "2"]
    _ok(
        api.post(
            f"{API}/registered-models/alias",
            json={"name": "m", "alias": "champion", "version": "1"},
        )
    )
    by_alias = _ok(
        api.get(f"{API}/registered-models/alias", params={"name": "m", "alias": "champion"})
    )
    assert (by_alias["model_version"]["version"], by_alias["model_version"]["aliases"]) == (
        "1",
        ["champion"],
    )
    model = _ok(api.get(f"{API}/registered-models/get", params={"name": "m"}))
    assert model["registered_model"]["aliases"] == [{"alias": "champion", "version": "1"}]
    _error(
        api.post(
            f"{API}/registered-models/alias", json={"name": "m", "alias": "latest", "version": "1"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "reserved",
    )
    _ok(
        api.request(
            "DELETE", f"{API}/registered-models/alias", json={"name": "m", "alias": "champion"}
        )
    )
    _error(
        api.get(f"{API}/registered-models/alias", params={"name": "m", "alias": "champion"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _ok(
        api.post(
            f"{API}/model-versions/set-tag",
            json={"name": "m", "version": "2", "key": "k", "value": "v"},
        )
    )
    _ok(
        api.request(
            "DELETE",
            f"{API}/model-versions/delete-tag",
            json={"name": "m", "version": "1", "key": "pre_deploy_checks"},
        )
    )
    search = _ok(
        api.get(
            f"{API}/model-versions/search",
            params={"filter": f"run_id = '{run_id}' AND tags.k = 'v'"},
        )
    )
    assert [(v["name"], v["version"]) for v in search["model_versions"]] == [("m", "2")]
    uri = _ok(
        api.get(f"{API}/model-versions/get-download-uri", params={"name": "m", "version": "1"})
    )
    run = _ok(api.get(f"{API}/runs/get", params={"run_id": run_id}))
    assert uri["artifact_uri"] == run["run"]["info"]["artifact_uri"] + "/model"
    _ok(api.request("DELETE", f"{API}/model-versions/delete", json={"name": "m", "version": "1"}))
    remaining = _ok(api.get(f"{API}/model-versions/search", params={"filter": "name = 'm'"}))
    assert [v["version"] for v in remaining["model_versions"]] == ["2"]


def test_webhook_endpoints(api: Api, tmp_path: Path) -> None:
    hooks = f"{API}/webhooks"
    event = {"entity": "MODEL_VERSION", "action": "CREATED"}
    _error(
        api.post(hooks, json={"name": "h", "url": "http://127.0.0.1:9/x", "events": [event]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "refused",
    )
    _error(
        api.post(
            hooks,
            json={
                "name": "h",
                "url": "http://127.0.0.1:9/x",
                "events": [{"entity": "MODEL_VERSION", "action": "EXPLODED"}],
            },
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "event",
    )
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'allowing.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        webhooks_allow_private_destinations=True,
    )
    api = Api(create_app(settings))  # a server that lets webhooks reach 127.0.0.1
    created = _ok(
        api.post(
            hooks,
            json={"name": "h", "url": "http://127.0.0.1:9/x", "events": [event], "secret": "s"},
        )
    )["webhook"]
    assert created["events"] == [event]
    assert created["status"] == "ACTIVE"
    assert "secret" not in created
    hook_id = created["webhook_id"]
    assert _ok(api.get(f"{hooks}/{hook_id}"))["webhook"]["name"] == "h"
    listed = _ok(api.get(hooks, params={"max_results": 10}))
    assert [h["webhook_id"] for h in listed["webhooks"]] == [hook_id]
    patched = _ok(api.patch(f"{hooks}/{hook_id}", json={"status": "disabled", "name": "h2"}))
    assert (patched["webhook"]["status"], patched["webhook"]["name"]) == ("DISABLED", "h2")
    result = _ok(api.post(f"{hooks}/{hook_id}/test", json={}))["result"]
    assert result["success"] is False  # nothing listens on port 9
    assert "error_message" in result
    assert _ok(api.get(f"{hooks}/{hook_id}/deliveries")) == {"deliveries": []}
    _ok(api.delete(f"{hooks}/{hook_id}"))
    _error(api.get(f"{hooks}/{hook_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(api.get(f"{hooks}/{hook_id}/deliveries"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_registry_endpoints_are_in_the_openapi_document(api: Api) -> None:
    paths = _ok(api.get("/api/openapi.json"))["paths"]
    for path in (
        "/api/2.0/mlflow/registered-models/create",
        "/api/2.0/mlflow/model-versions/search",
        "/api/2.0/mlflow/registered-models/alias",
        "/api/2.0/mlflow/webhooks/{webhook_id}/deliveries",
    ):
        assert path in paths, path


@pytest.mark.parametrize("allow", [False, True])
def test_the_server_setting_decides_private_webhook_destinations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allow: bool
) -> None:
    # The library's environment variable says the opposite: the server's own setting wins.
    monkeypatch.setenv("MLTRAIL_WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS", str(not allow).lower())
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        webhooks_allow_private_destinations=allow,
    )
    api = Api(create_app(settings))
    event = {"entity": "REGISTERED_MODEL", "action": "CREATED"}
    response = api.post(
        f"{API}/webhooks", json={"name": "h", "url": "http://127.0.0.1:9/x", "events": [event]}
    )
    if allow:
        assert _ok(response)["webhook"]["url"] == "http://127.0.0.1:9/x"
    else:
        _error(response, 400, "INVALID_PARAMETER_VALUE", "refused")
