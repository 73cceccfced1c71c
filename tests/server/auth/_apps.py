"""Authenticating mltrail apps for the auth tests, served in process or on a real socket.

:func:`open_app` builds ``create_app(ServerSettings(..., auth=AuthSettings(...)))`` over a
store (a fresh SQLite file unless a URI is given) and serves it in process through
:class:`tests._asgi.SyncASGITransport`; :class:`AuthApp` hands out httpx clients signed in as
a user (HTTP Basic), with a token (Bearer), or anonymous.  :class:`Caller` wraps a client with
the few helpers the tests use (``ok`` asserts a 200 and returns the JSON).

Passwords are hashed with argon2id (deliberately slow): tests create few users and reuse them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from tests._asgi import BASE_URL, SyncASGITransport

from mltrail.server import ServerSettings, create_app
from mltrail.server.auth import AuthSettings

__all__ = [
    "ADMIN",
    "ADMIN_PASSWORD",
    "MLFLOW_WARNINGS",
    "AuthApp",
    "Caller",
    "basic",
    "open_app",
    "password_of",
    "settings_for",
]

ADMIN = "admin"
ADMIN_PASSWORD = "admin-secret-pw"
#: What MLflow's client warns about while it imports and runs (filterwarnings = error).
MLFLOW_WARNINGS = (
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore::PendingDeprecationWarning",
    "ignore::ResourceWarning",
)


def password_of(username: str) -> str:
    """Every test user's password (the admin's is :data:`ADMIN_PASSWORD`)."""
    return ADMIN_PASSWORD if username == ADMIN else f"{username}-password-1"


def basic(username: str, password: str | None = None) -> dict[str, str]:
    """The ``Authorization: Basic`` header of *username*."""
    raw = f"{username}:{password if password is not None else password_of(username)}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


@dataclass
class Caller:
    """An httpx client on an app, as one caller."""

    client: httpx.Client
    name: str

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.client.request(method, path, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.client.post(path, json=json, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        response = self.client.request(method, path, **kw)
        assert response.status_code == 200, f"{self.name}: {method} {path}: {response.text}"
        return response.json() if response.content else None


def settings_for(root: Path, store_uri: str | None = None, **auth: Any) -> ServerSettings:
    """Server settings over *store_uri* (a SQLite file in *root* by default), artifacts in
    ``root/artifacts``, authentication with *auth* (the admin's password set)."""
    root.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"admin_password": ADMIN_PASSWORD, **auth}
    return ServerSettings(
        backend_store_uri=store_uri or f"sqlite:///{root / 'mltrail.db'}",
        artifacts_destination=str(root / "artifacts"),
        auth=AuthSettings(**options),
    )


@dataclass
class AuthApp:
    """An authenticating app served in process, and the clients opened on it."""

    app: Starlette
    transport: SyncASGITransport
    clients: list[httpx.Client] = field(default_factory=list)

    def _client(self, name: str, **kw: Any) -> Caller:
        client = httpx.Client(base_url=BASE_URL, transport=self.transport, timeout=30, **kw)
        self.clients.append(client)
        return Caller(client, name)

    def anonymous(self) -> Caller:
        return self._client("anonymous")

    def user(self, username: str, password: str | None = None) -> Caller:
        """A client sending *username*'s Basic credentials."""
        return self._client(username, headers=basic(username, password))

    def bearer(self, token: str, name: str = "token") -> Caller:
        return self._client(name, headers={"Authorization": f"Bearer {token}"})

    @property
    def admin(self) -> Caller:
        return self.user(ADMIN)

    def create_users(self, names: Iterable[str]) -> None:
        admin = self.admin
        for name in names:
            admin.ok(
                "POST",
                "/api/2.0/mlflow/users/create",
                json={"username": name, "password": password_of(name)},
            )

    def grant(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        self.admin.ok(
            "POST",
            "/api/3.0/mlflow/users/permissions/grant",
            json={
                "username": username,
                "resource_type": resource_type,
                "resource_id": str(resource_id),
                "permission": permission,
            },
        )

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.transport.close()


def open_app(root: Path, store_uri: str | None = None, **auth: Any) -> AuthApp:
    """An authenticating app over *store_uri* (see :func:`settings_for`), served in process."""
    app = create_app(settings_for(root, store_uri, **auth))
    return AuthApp(app, SyncASGITransport(app))
