"""Permission names: MLflow's five levels, and MLflow 3.17's DENY for an explicit refusal."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests._asgi import SyncASGITransport

from mltrail.entities._auth import Permission
from mltrail.server import ServerSettings, create_app
from mltrail.server.auth import AuthSettings

ADMIN = ("admin", "admin-secret-11")


def test_names_parse_to_levels_and_unknown_ones_are_named() -> None:
    assert [Permission.parse(n) for n in ("READ", "USE", "EDIT", "MANAGE")] == [
        Permission.READ,
        Permission.USE,
        Permission.EDIT,
        Permission.MANAGE,
    ]
    assert Permission.parse("DENY") is Permission.parse("NO_PERMISSIONS")
    with pytest.raises(ValueError, match="unknown permission 'WRITE'"):
        Permission.parse("WRITE")


def test_a_deny_grant_hides_the_experiment_as_mlflow_does(tmp_path: Path) -> None:
    app = create_app(
        ServerSettings(
            backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}",
            artifacts_destination=str(tmp_path / "artifacts"),
            auth=AuthSettings(admin_password=ADMIN[1]),
        )
    )
    client = httpx.Client(transport=SyncASGITransport(app), base_url="http://localhost")
    client.post(
        "/api/2.0/mlflow/users/create",
        json={"username": "gil", "password": "gil-password-1"},
        auth=ADMIN,
    )
    experiment = client.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "hidden"}, auth=ADMIN
    ).json()["experiment_id"]
    grant = {
        "username": "gil",
        "resource_type": "experiment",
        "resource_id": experiment,
        "permission": "DENY",
    }
    assert (
        client.post("/api/3.0/mlflow/users/permissions/grant", json=grant, auth=ADMIN).json() == {}
    )
    answer = client.get(
        "/api/3.0/mlflow/users/permissions/get",
        params={"username": "gil", "resource_type": "experiment", "resource_id": experiment},
        auth=ADMIN,
    ).json()
    assert answer == {"allowed": False, "permission": "NO_PERMISSIONS"}
    seen = client.get(
        "/api/2.0/mlflow/experiments/search",
        params={"max_results": 10},
        auth=("gil", "gil-password-1"),
    ).json()["experiments"]
    assert [e["name"] for e in seen] == ["Default"]
