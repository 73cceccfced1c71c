"""The official ``mlflow`` client against an authenticating mltrail server on a real socket.

- Tracking with ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` (experiments, runs, params, metrics,
  artifacts through the proxy, the registry) and with ``MLFLOW_TRACKING_TOKEN`` holding a
  token made by ``mltrail/tokens/create`` (revoked: the next call is refused), on SQLite,
  PostgreSQL and MariaDB; a user without the permission gets MLflow's PERMISSION_DENIED.
- MLflow's auth client (``mlflow.server.get_app_client("basic-auth", ...)``): users created,
  read, given and denied grants, passwords and admin status changed, deleted.

The differential test against ``mlflow server --app-name basic-auth`` is in
``test_mlflow_differential.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._live_server import ThreadedServer
from tests.server.auth._apps import ADMIN, ADMIN_PASSWORD, MLFLOW_WARNINGS, basic, settings_for

from mltrail.server import create_app

with warnings.catch_warnings():  # MLflow warns while importing itself
    warnings.simplefilter("ignore")
    mlflow = pytest.importorskip("mlflow")
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

pytestmark = [pytest.mark.filterwarnings(w) for w in MLFLOW_WARNINGS]

ALICE, ALICE_PW = "alice", "alice-password-1"
BOB, BOB_PW = "bob", "bob-password-12"
_CREDENTIALS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")


class As:
    """Switches the credentials MLflow's clients read from the environment."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __call__(
        self, username: str | None = None, password: str | None = None, token: str | None = None
    ) -> None:
        for name in _CREDENTIALS:
            self.monkeypatch.delenv(name, raising=False)
        if username is not None:
            self.monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", username)
            self.monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password or "")
        if token is not None:
            self.monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)


@pytest.fixture
def as_user(monkeypatch: pytest.MonkeyPatch) -> As:
    switch = As(monkeypatch)
    switch()
    return switch


@pytest.fixture
def server(db_uri: str, tmp_path: Path, serve: Callable[..., ThreadedServer]) -> ThreadedServer:
    """An authenticating mltrail server on each database, with users alice and bob."""
    started = serve(create_app(settings_for(tmp_path / "server", db_uri)))
    with httpx.Client(base_url=started.url, headers=basic(ADMIN)) as admin:
        for name, password in ((ALICE, ALICE_PW), (BOB, BOB_PW)):
            created = admin.post(
                "/api/2.0/mlflow/users/create", json={"username": name, "password": password}
            )
            assert created.status_code == 200, created.text
    return started


def _code(exc: MlflowException) -> tuple[str, int]:
    return exc.error_code, exc.get_http_status_code()


def test_tracking_with_username_and_password(
    server: ThreadedServer, as_user: As, tmp_path: Path
) -> None:
    as_user(ALICE, ALICE_PW)
    client = MlflowClient(server.url)
    exp = client.create_experiment("alice-exp")
    run = client.create_run(exp, run_name="r1")
    run_id = run.info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.log_batch(run_id, metrics=[mlflow.entities.Metric("loss", 0.5, 1, s) for s in range(3)])
    note = tmp_path / "note.txt"
    note.write_text("hello")
    client.log_artifact(run_id, str(note))
    client.set_terminated(run_id)
    assert [a.path for a in client.list_artifacts(run_id)] == ["note.txt"]
    downloaded = client.download_artifacts(run_id, "note.txt", str(tmp_path / "down"))
    assert Path(downloaded).read_text() == "hello"
    assert [h.value for h in client.get_metric_history(run_id, "loss")] == [0.5] * 3
    client.create_registered_model("alice-model")
    version = client.create_model_version("alice-model", f"runs:/{run_id}/model", run_id)
    client.set_registered_model_alias("alice-model", "prod", version.version)
    found = client.search_runs([exp])
    assert [r.info.run_id for r in found] == [run_id]
    assert found[0].data.params == {"lr": "0.1"}

    as_user(BOB, BOB_PW)  # default READ: bob reads, and may not write
    assert client.get_run(run_id).data.params == {"lr": "0.1"}
    with pytest.raises(MlflowException) as refused:
        client.log_param(run_id, "lr", "0.2")
    assert _code(refused.value) == ("PERMISSION_DENIED", 403)
    with pytest.raises(MlflowException) as refused:
        client.delete_registered_model("alice-model")
    assert _code(refused.value) == ("PERMISSION_DENIED", 403)

    as_user(ALICE, "not-her-password")
    with pytest.raises(MlflowException) as wrong:
        client.get_run(run_id)
    assert _code(wrong.value) == ("UNAUTHENTICATED", 401)
    as_user()
    with pytest.raises(MlflowException) as anonymous:
        client.search_experiments()
    assert _code(anonymous.value) == ("UNAUTHENTICATED", 401)


def test_tracking_with_a_token(server: ThreadedServer, as_user: As) -> None:
    with httpx.Client(base_url=server.url, headers=basic(ALICE, ALICE_PW)) as alice:
        made = alice.post("/api/2.0/mltrail/tokens/create", json={"name": "ci"}).json()
    as_user(token=made["token"])
    client = MlflowClient(server.url)
    exp = client.create_experiment("token-exp")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "acc", 0.9)
    assert client.get_run(run.info.run_id).data.metrics == {"acc": 0.9}
    # the token acts as alice: she manages what it created
    as_user(ALICE, ALICE_PW)
    auth = get_app_client("basic-auth", tracking_uri=server.url)
    assert auth.get_user_permission(ALICE, "experiment", exp).permission == "MANAGE"
    with httpx.Client(base_url=server.url, headers=basic(ALICE, ALICE_PW)) as alice:
        revoked = alice.post(
            "/api/2.0/mltrail/tokens/revoke", json={"token_id": made["token_info"]["id"]}
        )
        assert revoked.status_code == 200
    as_user(token=made["token"])
    with pytest.raises(MlflowException) as refused:
        client.get_run(run.info.run_id)
    assert _code(refused.value) == ("UNAUTHENTICATED", 401)


def test_auth_client_manages_users_and_grants(server: ThreadedServer, as_user: As) -> None:
    as_user(ADMIN, ADMIN_PASSWORD)
    auth = get_app_client("basic-auth", tracking_uri=server.url)
    carol = auth.create_user("carol", "carol-password-1")
    assert (carol.username, carol.is_admin) == ("carol", False)
    assert auth.get_user("carol").id == carol.id
    with pytest.raises(MlflowException) as twice:
        auth.create_user("carol", "carol-password-1")
    assert _code(twice.value) == ("RESOURCE_ALREADY_EXISTS", 400)

    as_user(ALICE, ALICE_PW)
    tracking = MlflowClient(server.url)
    exp = tracking.create_experiment("shared")
    alice_auth = get_app_client("basic-auth", tracking_uri=server.url)
    alice_auth.grant_user_permission("carol", "experiment", exp, "EDIT")  # alice MANAGEs it
    got = alice_auth.get_user_permission("carol", "experiment", exp)
    assert (got.allowed, got.permission) == (True, "EDIT")

    as_user("carol", "carol-password-1")
    tracking.set_experiment_tag(exp, "by", "carol")
    with pytest.raises(MlflowException) as not_hers:
        get_app_client("basic-auth", tracking_uri=server.url).grant_user_permission(
            BOB, "experiment", exp, "READ"
        )
    assert _code(not_hers.value) == ("PERMISSION_DENIED", 403)

    as_user(ALICE, ALICE_PW)
    alice_auth.revoke_user_permission("carol", "experiment", exp)
    as_user("carol", "carol-password-1")
    with pytest.raises(MlflowException) as revoked:
        tracking.set_experiment_tag(exp, "by", "carol again")
    assert _code(revoked.value) == ("PERMISSION_DENIED", 403)

    as_user(ADMIN, ADMIN_PASSWORD)
    auth.update_user_password("carol", "carol-password-2")
    auth.update_user_admin("carol", True)
    as_user("carol", "carol-password-1")
    with pytest.raises(MlflowException) as old:
        tracking.search_experiments()
    assert _code(old.value) == ("UNAUTHENTICATED", 401)
    as_user("carol", "carol-password-2")
    assert get_app_client("basic-auth", tracking_uri=server.url).get_user(BOB).username == BOB
    as_user(ADMIN, ADMIN_PASSWORD)
    auth.delete_user("carol")
    with pytest.raises(MlflowException) as gone:
        auth.get_user("carol")
    assert _code(gone.value) == ("RESOURCE_DOES_NOT_EXIST", 404)
    as_user("carol", "carol-password-2")
    with pytest.raises(MlflowException) as deleted:
        tracking.search_experiments()
    assert _code(deleted.value) == ("UNAUTHENTICATED", 401)


def _shape(value: Any) -> Any:
    return {k: type(v).__name__ for k, v in vars(value).items()}


def test_auth_client_entities_have_mlflows_fields(server: ThreadedServer, as_user: As) -> None:
    """The objects MLflow's client builds from our answers carry every field it expects."""
    as_user(ADMIN, ADMIN_PASSWORD)
    auth = get_app_client("basic-auth", tracking_uri=server.url)
    user = auth.get_user(ALICE)
    assert _shape(user) == {
        "_id": "int",
        "_username": "str",
        "_password_hash": "str",  # MLflow's client fills in "REDACTED"
        "_is_admin": "bool",
    }
    result = auth.get_user_permission(ALICE, "experiment", "0")
    assert _shape(result) == {"_allowed": "bool", "_permission": "str"}
