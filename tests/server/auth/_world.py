"""A populated authenticating app: users with different rights and data only some may see.

:func:`build_world` fills an app (:mod:`._apps`) with, all created by ``owner`` (so owner
MANAGEs them): an experiment with a tag, a run with params, metrics, tags and artifact files
uploaded through the proxy, a logged model with an artifact, a registered model with two
versions, tags and an alias, a staged multipart upload; and, created by the admin, a webhook.
Users: ``owner``; ``reader`` (READ granted on the experiment and the registered model);
``stranger`` (NO_PERMISSIONS granted on every one of them, so that with either default
permission they may see nothing of it).  Every name, value and file text is in
:attr:`World.secrets`: a response to a call refused to a caller must contain none of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from tests._asgi import SyncASGITransport
from tests.server.auth._apps import AuthApp, settings_for

from mltrail.server import create_app

__all__ = ["SECRET", "World", "build_world"]

#: Marks every piece of hidden data.
SECRET = "zq7hidden"
OWNER, READER, STRANGER = "owner", "reader", "stranger"


@dataclass
class World:
    app: AuthApp
    default_permission: str
    experiment_id: str
    run_id: str
    run_artifacts: str  # the run's proxy path: <exp>/<run>/artifacts
    logged_model_id: str
    model_artifacts: str  # the logged model's proxy path
    model_name: str
    webhook_id: str
    upload_id: str
    owner_token_id: str
    secrets: dict[str, str]


def build_world(root: Path, default_permission: str) -> World:
    # Workspaces on: their endpoints answer (the resources live in the default workspace).
    settings = dataclasses.replace(
        settings_for(root, default_permission=default_permission, login_attempts=10_000),
        enable_workspaces=True,
    )
    served = create_app(settings)
    app = AuthApp(served, SyncASGITransport(served))
    app.create_users([OWNER, READER, STRANGER])
    owner = app.user(OWNER)
    secrets = {
        "experiment name": f"exp-{SECRET}-name",
        "experiment tag": f"exp-tag-{SECRET}",
        "run name": f"run-{SECRET}-name",
        "param value": f"param-{SECRET}-value",
        "run tag": f"run-tag-{SECRET}",
        "artifact text": f"artifact-{SECRET}-text",
        "logged model name": f"lm-{SECRET}-name",
        "logged model artifact": f"lm-artifact-{SECRET}",
        "registered model name": f"rm-{SECRET}-name",
        "version description": f"version-{SECRET}-description",
        "webhook url": f"https://93.184.215.14/hook-{SECRET}",
    }
    exp = owner.ok(
        "POST",
        "/api/2.0/mlflow/experiments/create",
        json={
            "name": secrets["experiment name"],
            "tags": [{"key": "note", "value": secrets["experiment tag"]}],
        },
    )["experiment_id"]
    info = owner.ok(
        "POST",
        "/api/2.0/mlflow/runs/create",
        json={"experiment_id": exp, "run_name": secrets["run name"], "start_time": 1},
    )["run"]["info"]
    run_id = info["run_id"]
    owner.ok(
        "POST",
        "/api/2.0/mlflow/runs/log-batch",
        json={
            "run_id": run_id,
            "params": [{"key": "hp", "value": secrets["param value"]}],
            "metrics": [{"key": "loss", "value": 0.5, "timestamp": 1, "step": s} for s in range(3)],
            "tags": [{"key": "why", "value": secrets["run tag"]}],
        },
    )
    run_artifacts = info["artifact_uri"].removeprefix("mlflow-artifacts:/")
    proxy = "/api/2.0/mlflow-artifacts/artifacts/"
    for name in ("notes.txt", "model/MLmodel"):
        owner.ok("PUT", proxy + f"{run_artifacts}/{name}", content=secrets["artifact text"])
    model = owner.ok(
        "POST",
        "/api/2.0/mlflow/logged-models",
        json={"experiment_id": exp, "name": secrets["logged model name"], "source_run_id": run_id},
    )["model"]["info"]
    model_artifacts = model["artifact_uri"].removeprefix("mlflow-artifacts:/")
    owner.ok("PUT", proxy + f"{model_artifacts}/MLmodel", content=secrets["logged model artifact"])
    name = secrets["registered model name"]
    owner.ok("POST", "/api/2.0/mlflow/registered-models/create", json={"name": name})
    for _ in range(2):
        owner.ok(
            "POST",
            "/api/2.0/mlflow/model-versions/create",
            json={
                "name": name,
                "source": f"{info['artifact_uri']}/model",
                "run_id": run_id,
                "description": secrets["version description"],
            },
        )
    owner.ok(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        json={"name": name, "alias": "champion", "version": "1"},
    )
    owner.ok(
        "POST",
        "/api/2.0/mlflow/model-versions/set-tag",
        json={"name": name, "version": "1", "key": "k", "value": "v"},
    )
    upload_id = owner.ok(
        "POST",
        f"/api/2.0/mlflow-artifacts/mpu/create/{run_artifacts}",
        json={"path": "big.bin", "num_parts": 1},
    )["upload_id"]
    token_id = owner.ok("POST", "/api/2.0/mltrail/tokens/create", json={"name": "ci"})[
        "token_info"
    ]["id"]
    webhook_id = app.admin.ok(
        "POST",
        "/api/2.0/mlflow/webhooks",
        json={
            "name": "hook",
            "url": secrets["webhook url"],
            "events": [{"entity": "model_version", "action": "created"}],
        },
    )["webhook"]["webhook_id"]
    for resource_type, resource_id in (
        ("experiment", exp),
        ("registered_model", name),
        ("logged_model", model["model_id"]),
    ):
        app.grant(STRANGER, resource_type, resource_id, "NO_PERMISSIONS")
    app.grant(READER, "experiment", exp, "READ")
    app.grant(READER, "registered_model", name, "READ")
    return World(
        app=app,
        default_permission=default_permission,
        experiment_id=str(exp),
        run_id=run_id,
        run_artifacts=run_artifacts,
        logged_model_id=model["model_id"],
        model_artifacts=model_artifacts,
        model_name=name,
        webhook_id=webhook_id,
        upload_id=upload_id,
        owner_token_id=token_id,
        secrets=secrets,
    )
