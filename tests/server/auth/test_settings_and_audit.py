"""The auth app's configuration, its first admin, and the audit trail.

- The ini file: MLflow's own ``basic_auth.ini`` (the installed package's) works unchanged;
  mltrail's keys in ``[mltrail]``; an unknown key is an error naming it; environment variables
  override the file.
- The default admin password: accepted on loopback, refused at start-up for a server that
  listens beyond it, whether the admin is about to be created with it or still has it.
- The audit trail: creations, deletions, renames, stage transitions and grants, each with who
  and from where; admins only.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests._asgi import SyncASGITransport
from tests.server.auth._apps import ADMIN, AuthApp, open_app, settings_for

from mltrail._exceptions import InvalidArgument
from mltrail.server import create_app
from mltrail.server.auth import AuthSettings, read_auth_settings
from mltrail.server.auth._config import DEFAULT_ADMIN_PASSWORD

# -- the ini file ---------------------------------------------------------------------------------


def _mlflow_ini() -> Path:
    spec = importlib.util.find_spec("mlflow")
    if spec is None or spec.origin is None:
        pytest.skip("mlflow is not installed")
    return Path(spec.origin).parent / "server" / "auth" / "basic_auth.ini"


def test_mlflows_own_ini_works(tmp_path: Path) -> None:
    settings = read_auth_settings(
        {
            "MLFLOW_AUTH_CONFIG_PATH": str(_mlflow_ini()),
            "MLFLOW_AUTH_ADMIN_PASSWORD": "pw-from-the-env",
        }
    )
    assert settings == AuthSettings(
        default_permission="READ",
        database_uri="sqlite:///basic_auth.db",
        admin_username="admin",
        admin_password="pw-from-the-env",
    )


def _ini(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "auth.ini"
    path.write_text(text)
    return {"MLTRAIL_AUTH_CONFIG_PATH": str(path)}


def test_mltrails_keys_and_the_environment(tmp_path: Path) -> None:
    env = _ini(
        tmp_path,
        "[mlflow]\ndefault_permission = NO_PERMISSIONS\nadmin_username = root\n"
        "admin_password = from-the-file\n"
        "[mltrail]\nlogin_attempts = 5\nsession_hours = 1.5\n"
        "trusted_proxy_header = X-User\ntrusted_proxies = 10.0.0.0/8, 192.168.1.7\n",
    )
    settings = read_auth_settings({**env, "MLTRAIL_AUTH_ADMIN_PASSWORD": "from-mltrail-env"})
    assert settings.default_permission == "NO_PERMISSIONS"
    assert (settings.admin_username, settings.admin_password) == ("root", "from-mltrail-env")
    assert (settings.login_attempts, settings.session_hours) == (5, 1.5)
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.7")
    # mltrail's variable names the file before MLflow's
    other = tmp_path / "other.ini"
    other.write_text("[mlflow]\ndefault_permission = EDIT\n")
    both = read_auth_settings({**env, "MLFLOW_AUTH_CONFIG_PATH": str(other)})
    assert both.default_permission == "NO_PERMISSIONS"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[mlflow]\nbogus_key = 1\nanother_one = 2\n", ["another_one", "bogus_key"]),
        ("[mltrail]\nlogin_attempts = many\n", ["login_attempts", "many"]),
        ("[mlflow]\ndefault_permission = OWNER\n", ["default_permission", "OWNER"]),
        ("[mltrail]\ntrusted_proxies = not-a-network\n", ["trusted_proxies", "not-a-network"]),
        ("[mltrail]\ntrusted_proxy_header = X-User\n", ["trusted_proxies"]),
        ("[mlflow]\nauthorization_function = my.module:auth\n", ["my.module:auth"]),
        ("not an ini file", ["auth.ini"]),
    ],
)
def test_a_wrong_setting_is_named(tmp_path: Path, text: str, named: list[str]) -> None:
    with pytest.raises(InvalidArgument) as wrong:
        read_auth_settings(_ini(tmp_path, text))
    assert [name for name in named if name not in str(wrong.value)] == []


def test_mlflows_ignored_keys_are_accepted(tmp_path: Path) -> None:
    env = _ini(tmp_path, "[mlflow]\nauth_cache_max_size = 60\nworkspace_cache_max_size = 5\n")
    assert read_auth_settings(env) == AuthSettings()


def test_mlflows_cache_ttl_key_sets_how_long_answers_are_reused(tmp_path: Path) -> None:
    env = _ini(tmp_path, "[mlflow]\nauth_cache_ttl_seconds = 0.5\n")
    assert read_auth_settings(env).auth_cache_ttl_seconds == 0.5
    with pytest.raises(InvalidArgument, match="auth_cache_ttl_seconds"):
        read_auth_settings(_ini(tmp_path, "[mlflow]\nauth_cache_ttl_seconds = 600\n"))


# -- the default admin password -------------------------------------------------------------------


def test_passwords_shorter_than_mlflows_twelve_characters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="admin_password: must be at least 12 characters"):
        read_auth_settings(_ini(tmp_path, "[mlflow]\nadmin_password = eleven-char\n"))
    app = open_app(tmp_path)
    try:
        admin = app.admin
        short = admin.post(
            "/api/2.0/mlflow/users/create", json={"username": "kim", "password": "x" * 11}
        )
        assert short.status_code == 400
        assert short.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "password: must be at least 12 characters" in short.json()["message"]
        admin.ok(
            "POST", "/api/2.0/mlflow/users/create", json={"username": "kim", "password": "x" * 12}
        )
        change = admin.request(
            "PATCH",
            "/api/2.0/mlflow/users/update-password",
            json={"username": "kim", "password": "y" * 11},
        )
        assert change.status_code == 400
        assert app.user("kim", "x" * 12).get("/version").status_code == 200  # unchanged
    finally:
        app.close()


@pytest.mark.parametrize("password", [None, DEFAULT_ADMIN_PASSWORD])
def test_the_default_password_is_refused_beyond_loopback(
    tmp_path: Path, password: str | None
) -> None:
    with pytest.raises(InvalidArgument, match="default password"):
        create_app(settings_for(tmp_path, admin_password=password, public_listener=True))


def test_an_admin_still_holding_the_default_password_is_refused(tmp_path: Path) -> None:
    loopback = open_app(tmp_path, admin_password=None)  # created with the default: loopback only
    try:
        assert loopback.user(ADMIN, DEFAULT_ADMIN_PASSWORD).get("/version").status_code == 200
    finally:
        loopback.close()
    with pytest.raises(InvalidArgument, match="still has the default password"):
        create_app(settings_for(tmp_path, public_listener=True, admin_password="a-real-password"))
    # once changed, the same server starts
    changed = open_app(tmp_path, admin_password=None)
    try:
        changed.user(ADMIN, DEFAULT_ADMIN_PASSWORD).ok(
            "PATCH",
            "/api/2.0/mlflow/users/update-password",
            json={
                "username": ADMIN,
                "password": "a-real-one-here",
                "current_password": DEFAULT_ADMIN_PASSWORD,
            },
        )
    finally:
        changed.close()
    public = create_app(
        settings_for(tmp_path, public_listener=True, admin_password="a-real-one-here")
    )
    served = AuthApp(public, SyncASGITransport(public))
    try:
        assert served.user(ADMIN, "a-real-one-here").get("/version").status_code == 200
    finally:
        served.close()


# -- the audit trail ------------------------------------------------------------------------------


@pytest.fixture
def audited(tmp_path: Path) -> Iterator[AuthApp]:
    app = open_app(tmp_path)
    app.create_users(["ana"])
    ana = app.user("ana")
    exp = ana.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": "doomed"})
    ana.ok("POST", "/api/2.0/mlflow/experiments/delete", json=exp)
    run = app.admin.ok("POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
    ana.ok("POST", "/api/2.0/mlflow/registered-models/create", json={"name": "old"})
    ana.ok(
        "POST", "/api/2.0/mlflow/registered-models/rename", json={"name": "old", "new_name": "new"}
    )
    ana.ok(
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        json={"name": "new", "source": f"runs:/{run['run']['info']['run_id']}/m"},
    )
    ana.ok(
        "POST",
        "/api/2.0/mlflow/model-versions/transition-stage",
        json={"name": "new", "version": "1", "stage": "Production"},
    )
    app.admin.ok(
        "POST",
        "/api/3.0/mlflow/users/permissions/grant",
        json={
            "username": "ana",
            "resource_type": "experiment",
            "resource_id": "0",
            "permission": "EDIT",
        },
    )
    yield app
    app.close()


def test_the_audit_trail_records_who_did_what_from_where(audited: AuthApp) -> None:
    events = audited.admin.ok("GET", "/api/2.0/mltrail/audit/list", params={"max_results": 100})
    by_action = {e["action"]: e for e in events["events"]}
    assert {
        "user.create",
        "experiment.create",
        "experiment.delete",
        "registered_model.create",
        "registered_model.rename",
        "model_version.create",
        "model_version.transition",
        "permission.grant",
    } <= set(by_action)
    for action in ("experiment.create", "experiment.delete", "registered_model.rename"):
        assert by_action[action]["username"] == "ana"
        assert by_action[action]["address"] == "127.0.0.1"
    assert (
        by_action["experiment.delete"]["resource_id"]
        == by_action["experiment.create"]["resource_id"]
    )
    rename = by_action["registered_model.rename"]
    assert (rename["resource_id"], rename["details"]["new_name"]) == ("old", "new")
    assert by_action["model_version.transition"]["details"]["stage"] == "Production"
    grant = by_action["permission.grant"]
    assert grant["username"] == ADMIN
    assert grant["details"] == {"username": "ana", "permission": "EDIT"}
    times = [e["time"] for e in events["events"]]
    assert times == sorted(times, reverse=True)
    # one user's events, and admins only
    of_ana = audited.admin.ok("GET", "/api/2.0/mltrail/audit/list", params={"username": "ana"})
    assert {e["username"] for e in of_ana["events"]} == {"ana"}
    # one kind of action, one action, one resource
    listed = "/api/2.0/mltrail/audit/list"
    grants = audited.admin.ok("GET", listed, params={"action": "permission"})["events"]
    assert {e["action"] for e in grants} == {"permission.grant"}
    on_model = audited.admin.ok(
        "GET", listed, params={"resource_type": "registered_model", "max_results": 100}
    )["events"]
    assert on_model
    assert {e["resource_type"] for e in on_model} == {"registered_model"}
    exact = audited.admin.ok("GET", listed, params={"action": on_model[0]["action"]})["events"]
    assert {e["action"] for e in exact} == {on_model[0]["action"]}
    assert audited.user("ana").get("/api/2.0/mltrail/audit/list").status_code == 403
