"""MLflow's auth API, users and permission grants, with MLflow's paths and shapes.

What ``mlflow.server.get_app_client("basic-auth", tracking_uri)`` calls (its
``AuthServiceClient``): ``users/create|get|update-password|update-admin|delete`` under
``/api/2.0/mlflow/`` and ``users/permissions/grant|revoke|get|list`` under ``/api/3.0/mlflow/``,
plus ``users/current``, ``users/list`` and ``users/current/permissions`` which MLflow's UI reads.
Who may call what is declared on each endpoint (admins manage users; a user reads and
changes their own; granting on a resource needs MANAGE on it).
"""

from __future__ import annotations

from typing import Any

from mltrail._exceptions import BadRequest, InvalidArgument, PermissionDenied
from mltrail.entities._auth import Permission, ResourceType, User
from mltrail.server._context import ServerContext
from mltrail.server.auth._config import MIN_PASSWORD_LENGTH
from mltrail.server.auth._identity import csrf_token
from mltrail.server.auth._permissions import describe
from mltrail.server.auth._runtime import AuthRuntime, auth_of, current_caller
from mltrail.server.auth._secrets import hash_password, verify_password

__all__ = [
    "create_user",
    "current_user",
    "current_user_permissions",
    "delete_user",
    "get_user",
    "get_user_permission",
    "grant_user_permission",
    "list_user_permissions",
    "list_users",
    "revoke_user_permission",
    "update_user_admin",
    "update_user_password",
    "user_json",
]


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "is_admin": user.is_admin}


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgument(
            f"Invalid password: must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    return password


def _self_or_admin(username: str) -> None:
    caller = current_caller()
    if not (caller.user.is_admin or caller.username == username):
        raise PermissionDenied(
            f"Permission denied: only an admin or {username!r} may read or change that user"
        )


def _resource_type(value: str) -> ResourceType:
    try:
        return ResourceType(value)
    except ValueError:
        choices = [t.value for t in ResourceType]
        raise InvalidArgument(
            f"Invalid resource_type {value!r}: must be one of {choices}"
        ) from None


def _permission(value: str) -> Permission:
    try:
        return Permission.parse(value)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid permission: {exc}") from None


def _may_manage(auth: AuthRuntime, resource_type: ResourceType, resource_id: str) -> None:
    """Granting on a resource needs MANAGE on it (MLflow's rule), or being an admin."""
    caller = current_caller()
    if not auth.permissions.of(caller.user, resource_type, resource_id).can_manage:
        raise PermissionDenied(
            f"Permission denied: {caller.username!r} needs MANAGE on "
            f"{describe(resource_type, resource_id)} to change who may use it"
        )


# -- users --------------------------------------------------------------------------------------


def create_user(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    username = args["username"].strip()
    if not username:
        raise InvalidArgument("Invalid username: must not be empty")
    user = auth.store.create_user(username, hash_password(_check_password(args["password"])))
    auth.audit("user.create", "user", username)
    return {"user": user_json(user)}


def get_user(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    _self_or_admin(args["username"])
    return {"user": user_json(auth_of(ctx).store.get_user(args["username"]))}


def current_user(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    caller = current_caller()
    out: dict[str, Any] = {"user": user_json(caller.user), "is_basic_auth": True}
    if caller.session is not None:  # what the UI sends back in X-CSRF-Token
        out["csrf_token"] = csrf_token(caller.session)
    return out


def list_users(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    users = auth_of(ctx).store.list_users()
    return {"users": [{**user_json(u), "roles": []} for u in users]}


def update_user_password(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    username, password = args["username"], _check_password(args["password"])
    _self_or_admin(username)
    caller = current_caller()
    if caller.username == username:  # self-service: prove the current password
        current = args.get("current_password")
        if not current:
            raise InvalidArgument(
                "Invalid current_password: required when changing your own password"
            )
        found = auth.store.credentials(username)
        if found is None or not verify_password(found[1], current):
            raise InvalidArgument("Invalid current_password: it does not match")
        if password == current:
            raise InvalidArgument("Invalid password: must differ from the current password")
    auth.store.update_password(username, hash_password(password))
    auth.changed()
    auth.audit("user.update_password", "user", username)
    return {}


def update_user_admin(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    username, is_admin = args["username"], bool(args["is_admin"])
    if not is_admin and current_caller().username == username:
        raise InvalidArgument("Invalid is_admin: an admin cannot remove their own admin status")
    auth.store.update_admin(username, is_admin)
    auth.changed()
    auth.audit("user.update_admin", "user", username, is_admin=is_admin)
    return {}


def delete_user(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    username = args["username"]
    if current_caller().username == username:  # MLflow's code for it: BAD_REQUEST
        raise BadRequest(
            "Invalid username: users cannot delete their own account; ask another admin"
        )
    auth.store.delete_user(username)
    auth.changed()
    auth.audit("user.delete", "user", username)
    return {}


# -- permission grants --------------------------------------------------------------------------


def grant_user_permission(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    resource_type = _resource_type(args["resource_type"])
    resource_id, permission = str(args["resource_id"]), _permission(args["permission"])
    _may_manage(auth, resource_type, resource_id)
    auth.store.get_user(args["username"])  # 404 for an unknown user
    auth.store.set_permission(args["username"], resource_type, resource_id, permission)
    auth.changed()
    auth.audit(
        "permission.grant",
        resource_type,
        resource_id,
        username=args["username"],
        permission=permission.name,
    )
    return {}


def revoke_user_permission(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    resource_type = _resource_type(args["resource_type"])
    resource_id = str(args["resource_id"])
    _may_manage(auth, resource_type, resource_id)
    auth.store.get_user(args["username"])
    auth.store.delete_permission(args["username"], resource_type, resource_id)
    auth.changed()
    auth.audit("permission.revoke", resource_type, resource_id, username=args["username"])
    return {}


def get_user_permission(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    resource_type = _resource_type(args["resource_type"])
    resource_id = str(args["resource_id"])
    username = args["username"]
    caller = current_caller()
    if not (caller.user.is_admin or caller.username == username):
        _may_manage(auth, resource_type, resource_id)
    user = auth.store.get_user(username)
    permission = auth.permissions.of(user, resource_type, resource_id)
    return {"allowed": permission.can_use, "permission": permission.name}


def _grant_rows(auth: AuthRuntime, username: str) -> list[dict[str, Any]]:
    user = auth.store.get_user(username)
    return [
        {
            "role_id": 0,
            "role_name": f"__user_{user.id}__",
            "workspace": "default",
            "resource_type": grant.resource_type.value,
            "resource_pattern": grant.resource_id,
            "permission": grant.permission.name,
        }
        for grant in auth.store.list_permissions(username=username)
    ]


def list_user_permissions(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    username = args["username"]
    _self_or_admin(username)
    rows = _grant_rows(auth, username)
    return {"is_admin": auth.store.get_user(username).is_admin, "permissions": rows}


def current_user_permissions(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    caller = current_caller()
    rows = _grant_rows(auth_of(ctx), caller.username)
    return {"is_admin": caller.user.is_admin, "permissions": rows}
