"""``mltrail auth``: the commands manage a live authenticating server's users, grants, tokens
and audit trail, as the signed-in user the environment names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from mltrail._exceptions import InvalidArgument
from mltrail.cli import cli
from mltrail.server import ServerSettings, create_app, get_app_client
from mltrail.server.auth import AuthSettings

ADMIN_PASSWORD = "admin-secret-7"


@pytest.fixture
def url(tmp_path: Path, serve: Callable[..., Any]) -> str:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'auth.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        auth=AuthSettings(admin_password=ADMIN_PASSWORD),
    )
    return str(serve(create_app(settings)).url)


def _run(
    url: str, args: list[str], user: str = "admin", password: str = ADMIN_PASSWORD, **kw: Any
) -> Result:
    env = {
        "MLTRAIL_TRACKING_URI": url,
        "MLTRAIL_TRACKING_USERNAME": user,
        "MLTRAIL_TRACKING_PASSWORD": password,
        "MLTRAIL_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    return CliRunner().invoke(cli, ["auth", *args], env=env, **kw)


def test_users_grants_tokens_and_audit_through_the_cli(url: str) -> None:
    created = _run(url, ["create-user", "bob", "--password", "bob-password-1"])
    assert created.exit_code == 0, created.output
    assert "Created user 'bob'" in created.output
    listed = _run(url, ["list-users"])
    assert [line.split()[1] for line in listed.output.splitlines()[2:]] == ["admin", "bob"]

    experiment = httpx.post(
        f"{url}/api/2.0/mlflow/experiments/create",
        json={"name": "private"},
        auth=("admin", ADMIN_PASSWORD),
    ).json()["experiment_id"]
    assert _run(url, ["grant", "bob", "experiment", experiment, "NO_PERMISSIONS"]).exit_code == 0
    effective = _run(
        url, ["permissions", "bob", "--resource-type", "experiment", "--resource-id", experiment]
    )
    assert effective.output.strip() == "NO_PERMISSIONS"
    grants = _run(url, ["permissions", "bob"]).output.splitlines()[2:]
    assert grants == [f"experiment     {experiment:<8}  NO_PERMISSIONS"]
    seen = httpx.get(
        f"{url}/api/2.0/mlflow/experiments/get",
        params={"experiment_id": experiment},
        auth=("bob", "bob-password-1"),
    )
    assert seen.status_code == 403

    token = _run(url, ["create-token", "ci", "--days", "2"], user="bob", password="bob-password-1")
    assert token.exit_code == 0, token.output
    secret = token.stdout.splitlines()[0]
    assert secret.startswith("mlt_")
    as_token = httpx.get(
        f"{url}/api/2.0/mlflow/users/current", headers={"Authorization": f"Bearer {secret}"}
    )
    assert as_token.json()["user"]["username"] == "bob"
    tokens = _run(url, ["list-tokens", "--user", "bob"]).output
    assert secret not in tokens
    assert " ci " in tokens
    token_id = tokens.splitlines()[2].split()[0]
    assert (
        _run(url, ["revoke-token", token_id], user="bob", password="bob-password-1").exit_code == 0
    )
    refused = httpx.get(
        f"{url}/api/2.0/mlflow/users/current", headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status_code == 401

    trail = _run(url, ["audit", "--max-results", "3"]).stdout.splitlines()
    actions = [line.split()[4] for line in trail[2:]]
    assert actions == ["token.revoke", "token.create", "permission.grant"]
    tokens = _run(url, ["audit", "--action", "token"]).stdout.splitlines()
    assert [line.split()[4] for line in tokens[2:]] == ["token.revoke", "token.create"]
    revoked = _run(url, ["audit", "--action", "token.revoke"]).stdout.splitlines()
    assert [line.split()[4] for line in revoked[2:]] == ["token.revoke"]


def test_a_user_is_refused_admin_commands_with_the_servers_message(url: str) -> None:
    assert _run(url, ["create-user", "carol", "--password", "carol-password-1"]).exit_code == 0
    refused = _run(url, ["list-users"], user="carol", password="carol-password-1")
    assert refused.exit_code == 1
    assert "PERMISSION_DENIED" in refused.output or "not an admin" in refused.output
    wrong = _run(url, ["list-users"], password="wrong")
    assert wrong.exit_code == 1
    assert "Invalid username or password" in wrong.output


def test_changing_ones_own_password_needs_the_current_one(url: str) -> None:
    assert _run(url, ["create-user", "dan", "--password", "dan-password-1"]).exit_code == 0
    as_dan: dict[str, Any] = {"user": "dan", "password": "dan-password-1"}
    missing = _run(url, ["update-password", "dan", "--password", "dan-password-2"], **as_dan)
    assert missing.exit_code == 1
    assert "current_password" in missing.output
    changed = _run(
        url,
        [
            "update-password",
            "dan",
            "--password",
            "dan-password-2",
            "--current-password",
            "dan-password-1",
        ],
        **as_dan,
    )
    assert changed.exit_code == 0, changed.output
    assert _run(url, ["set-admin", "dan", "true"]).exit_code == 0
    assert _run(url, ["list-users"], user="dan", password="dan-password-2").exit_code == 0
    assert _run(url, ["delete-user", "dan", "--yes"]).exit_code == 0
    assert _run(url, ["list-users"], user="dan", password="dan-password-2").exit_code == 1


def test_get_app_client_speaks_for_the_admin_as_mlflows_does(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLTRAIL_TRACKING_PASSWORD", ADMIN_PASSWORD)
    client = get_app_client("basic-auth", tracking_uri=url)
    try:
        user = client.create_user("erin", "erin-password-1")
        assert (user.username, user.is_admin) == ("erin", False)
        client.grant_user_permission("erin", "experiment", "0", "EDIT")
        answer = client.get_user_permission("erin", "experiment", "0")
        assert (answer.allowed, answer.permission) == (True, "EDIT")
        client.revoke_user_permission("erin", "experiment", "0")
        assert client.get_user_permission("erin", "experiment", "0").permission == "READ"
    finally:
        client.close()
    with pytest.raises(InvalidArgument, match="basic-auth"):
        get_app_client("other-app", tracking_uri=url)


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("127.0.0.1", False),
        ("localhost", False),
        ("::1", False),
        ("0.0.0.0", True),
        ("::", True),
        ("10.1.2.3", True),
        ("ml.example.org", True),
    ],
)
def test_the_server_command_tells_auth_whether_it_listens_beyond_loopback(
    host: str, public: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[ServerSettings] = []

    def run_server(settings: ServerSettings, *args: Any) -> None:
        served.append(settings)  # instead of serving

    monkeypatch.setattr("mltrail.server.run_server", run_server)
    monkeypatch.delenv("MLTRAIL_AUTH_CONFIG_PATH", raising=False)
    monkeypatch.delenv("MLFLOW_AUTH_CONFIG_PATH", raising=False)
    result = CliRunner().invoke(cli, ["server", "--app-name", "basic-auth", "--host", host])
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert settings.auth is not None
    assert settings.auth.public_listener is public
