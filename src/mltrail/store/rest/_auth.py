"""The client of an authenticating tracking server's users, grants, tokens and audit trail.

The same calls as MLflow's ``AuthServiceClient`` (``create_user``, ``get_user``,
``update_user_password``, ``update_user_admin``, ``delete_user``, ``grant_user_permission``,
``revoke_user_permission``, ``get_user_permission``) with MLflow's paths, plus mltrail's
tokens and audit trail.  Credentials come from the environment as for every REST call
(``MLTRAIL_``/``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` or ``..._TOKEN``).
"""

from __future__ import annotations

from typing import Any

import httpx

from mltrail.entities._auth import (
    AccessToken,
    AuditEvent,
    Permission,
    PermissionGrant,
    ResourceType,
    User,
)
from mltrail.store._base import PagedList
from mltrail.store.rest._http import RestClient

__all__ = ["AuthClient", "UserPermission"]

_V2 = "/api/2.0/mlflow/users"
_V3 = "/api/3.0/mlflow/users"
_MLTRAIL = "/api/2.0/mltrail"


class UserPermission:
    """What ``get_user_permission`` answers: MLflow's ``allowed`` (USE or more) and the level."""

    def __init__(self, allowed: bool, permission: str) -> None:
        self.allowed = allowed
        self.permission = permission

    def __repr__(self) -> str:
        return f"UserPermission(allowed={self.allowed}, permission={self.permission!r})"


def _user(data: dict[str, Any]) -> User:
    return User(id=int(data["id"]), username=data["username"], is_admin=bool(data["is_admin"]))


def _token(data: dict[str, Any]) -> AccessToken:
    return AccessToken(
        id=int(data["id"]),
        username=data["username"],
        name=data["name"],
        created_at_ms=int(data["created_at"]),
        expires_at_ms=data.get("expires_at"),
        last_used_at_ms=data.get("last_used_at"),
        revoked=bool(data.get("revoked", False)),
    )


class AuthClient:
    """Users, grants, tokens and the audit trail of the server at *tracking_uri*."""

    def __init__(self, tracking_uri: str, transport: httpx.BaseTransport | None = None) -> None:
        self._rest = RestClient(tracking_uri, transport=transport)

    def close(self) -> None:
        self._rest.close()

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._rest.call("GET", path, params=clean, idempotent=True)

    def _send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._rest.call(method, path, body=body, idempotent=False)

    # -- MLflow's calls ----------------------------------------------------------------------

    def create_user(self, username: str, password: str) -> User:
        data = self._send("POST", f"{_V2}/create", {"username": username, "password": password})
        return _user(data["user"])

    def get_user(self, username: str) -> User:
        return _user(self._get(f"{_V2}/get", username=username)["user"])

    def list_users(self) -> list[User]:
        return [_user(u) for u in self._get(f"{_V2}/list")["users"]]

    def current_user(self) -> User:
        return _user(self._get(f"{_V2}/current")["user"])

    def update_user_password(
        self, username: str, password: str, current_password: str | None = None
    ) -> None:
        body = {"username": username, "password": password}
        if current_password is not None:
            body["current_password"] = current_password
        self._send("PATCH", f"{_V2}/update-password", body)

    def update_user_admin(self, username: str, is_admin: bool) -> None:
        self._send("PATCH", f"{_V2}/update-admin", {"username": username, "is_admin": is_admin})

    def delete_user(self, username: str) -> None:
        self._send("DELETE", f"{_V2}/delete", {"username": username})

    def grant_user_permission(
        self, username: str, resource_type: str, resource_id: str, permission: str
    ) -> None:
        body = {
            "username": username,
            "resource_type": ResourceType(resource_type).value,
            "resource_id": str(resource_id),
            "permission": Permission.parse(permission).name,
        }
        self._send("POST", f"{_V3}/permissions/grant", body)

    def revoke_user_permission(self, username: str, resource_type: str, resource_id: str) -> None:
        body = {"username": username, "resource_type": resource_type, "resource_id": resource_id}
        self._send("POST", f"{_V3}/permissions/revoke", body)

    def get_user_permission(
        self, username: str, resource_type: str, resource_id: str
    ) -> UserPermission:
        data = self._get(
            f"{_V3}/permissions/get",
            username=username,
            resource_type=resource_type,
            resource_id=str(resource_id),
        )
        return UserPermission(bool(data["allowed"]), str(data["permission"]))

    def list_user_permissions(self, username: str) -> list[PermissionGrant]:
        rows = self._get(f"{_V3}/permissions/list", username=username)["permissions"]
        return [
            PermissionGrant(
                username,
                ResourceType(row["resource_type"]),
                row["resource_pattern"],
                Permission.parse(row["permission"]),
            )
            for row in rows
        ]

    # -- mltrail's -----------------------------------------------------------------------------

    def create_token(
        self, name: str, expires_in_days: int | None = None, username: str | None = None
    ) -> tuple[str, AccessToken]:
        """A new personal access token: its secret (shown this once) and its record."""
        body: dict[str, Any] = {"name": name}
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        if username is not None:
            body["username"] = username
        data = self._send("POST", f"{_MLTRAIL}/tokens/create", body)
        return str(data["token"]), _token(data["token_info"])

    def list_tokens(self, username: str | None = None) -> list[AccessToken]:
        return [
            _token(t) for t in self._get(f"{_MLTRAIL}/tokens/list", username=username)["tokens"]
        ]

    def revoke_token(self, token_id: int) -> None:
        self._send("POST", f"{_MLTRAIL}/tokens/revoke", {"token_id": str(token_id)})

    def list_audit(
        self,
        username: str | None = None,
        since_ms: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> PagedList[AuditEvent]:
        data = self._get(
            f"{_MLTRAIL}/audit/list",
            username=username,
            since=since_ms,
            max_results=max_results,
            page_token=page_token,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
        )
        events = [
            AuditEvent(
                time_ms=int(e["time"]),
                username=e.get("username"),
                address=e.get("address"),
                action=e["action"],
                resource_type=e.get("resource_type"),
                resource_id=e.get("resource_id"),
                details=e.get("details") or {},
            )
            for e in data.get("events", [])
        ]
        return PagedList(events, data.get("next_page_token"))
