"""The endpoints an authenticating server adds: MLflow's auth API and mltrail's own.

MLflow's (what its ``AuthServiceClient`` and UI call), under ``/api/2.0/mlflow/users/...``
and ``/api/3.0/mlflow/users/permissions/...`` (and the ``/ajax-api`` twins); mltrail's
tokens, sessions and audit trail under ``/api/2.0/mltrail/...``.  Who may call each is
declared as on every other endpoint; the finer rules (a user reads their own record, granting
needs MANAGE on the resource) are checked by the handlers.
"""

from __future__ import annotations

from mltrail.server._access import ADMIN, AUTHENTICATED, PUBLIC
from mltrail.server._routing import Endpoint
from mltrail.server._schema import boolean, int64, obj, string
from mltrail.server.auth import _tokens, _users

__all__ = ["auth_endpoints"]

_USER = obj({"id": int64(), "username": string(), "is_admin": boolean()})
_ONE_USER = obj({"user": _USER})
_USERNAME = obj({"username": string("The user's name.")}, required=["username"])
_GRANT_TARGET = {
    "username": string("Whose permission."),
    "resource_type": string("experiment, registered_model, logged_model or webhook."),
    "resource_id": string("An experiment id, a registered model's name, a logged model id."),
}
_GRANT = obj(
    {**_GRANT_TARGET, "permission": string("READ, USE, EDIT, MANAGE or NO_PERMISSIONS.")},
    required=["username", "resource_type", "resource_id", "permission"],
)
_TARGET = obj(_GRANT_TARGET, required=["username", "resource_type", "resource_id"])
_PERMISSION_ROWS = obj({"is_admin": boolean(), "permissions": {"type": "array"}})
_TOKEN_INFO = obj(
    {
        "id": string(),
        "username": string(),
        "name": string(),
        "created_at": int64(),
        "expires_at": int64(),
        "last_used_at": int64(),
        "revoked": boolean(),
    }
)
_TAG = "auth"


def _mlflow_endpoints() -> list[Endpoint]:
    users = "/mlflow/users"
    both = ("2.0",)
    return [
        Endpoint(
            "POST",
            f"{users}/create",
            "Create a user (admins)",
            obj(
                {"username": string(), "password": string()},
                required=["username", "password"],
            ),
            _ONE_USER,
            _users.create_user,
            tag=_TAG,
            versions=both,
            access=ADMIN,
        ),
        Endpoint(
            "GET",
            f"{users}/get",
            "A user (admins, or the user)",
            _USERNAME,
            _ONE_USER,
            _users.get_user,
            tag=_TAG,
            versions=both,
            access=AUTHENTICATED,
        ),
        Endpoint(
            "GET",
            f"{users}/current",
            "The signed-in user (and the session's CSRF token)",
            obj({}),
            obj({"user": _USER, "is_basic_auth": boolean(), "csrf_token": string()}),
            _users.current_user,
            tag=_TAG,
            versions=both,
            access=AUTHENTICATED,
        ),
        Endpoint(
            "GET",
            f"{users}/list",
            "Every user (admins)",
            obj({}),
            obj({"users": {"type": "array", "items": _USER}}),
            _users.list_users,
            tag=_TAG,
            versions=both,
            access=ADMIN,
        ),
        Endpoint(
            "PATCH",
            f"{users}/update-password",
            "Change a password (admins, or the user with their current password)",
            obj(
                {"username": string(), "password": string(), "current_password": string()},
                required=["username", "password"],
            ),
            obj({}),
            _users.update_user_password,
            tag=_TAG,
            versions=both,
            access=AUTHENTICATED,
        ),
        Endpoint(
            "PATCH",
            f"{users}/update-admin",
            "Make a user an admin or not (admins)",
            obj({"username": string(), "is_admin": boolean()}, required=["username", "is_admin"]),
            obj({}),
            _users.update_user_admin,
            tag=_TAG,
            versions=both,
            access=ADMIN,
        ),
        Endpoint(
            "DELETE",
            f"{users}/delete",
            "Delete a user (admins; not themselves)",
            _USERNAME,
            obj({}),
            _users.delete_user,
            tag=_TAG,
            versions=both,
            access=ADMIN,
        ),
        Endpoint(
            "POST",
            f"{users}/permissions/grant",
            "Grant a user a permission on a resource (admins, or MANAGE on it)",
            _GRANT,
            obj({}),
            _users.grant_user_permission,
            tag=_TAG,
            versions=("3.0",),
            access=AUTHENTICATED,
        ),
        Endpoint(
            "POST",
            f"{users}/permissions/revoke",
            "Take a user's permission on a resource back (admins, or MANAGE on it)",
            _TARGET,
            obj({}),
            _users.revoke_user_permission,
            tag=_TAG,
            versions=("3.0",),
            access=AUTHENTICATED,
        ),
        Endpoint(
            "GET",
            f"{users}/permissions/get",
            "A user's effective permission on a resource",
            _TARGET,
            obj({"allowed": boolean(), "permission": string()}),
            _users.get_user_permission,
            tag=_TAG,
            versions=("3.0",),
            access=AUTHENTICATED,
        ),
        Endpoint(
            "GET",
            f"{users}/permissions/list",
            "A user's explicit grants (admins, or the user)",
            _USERNAME,
            _PERMISSION_ROWS,
            _users.list_user_permissions,
            tag=_TAG,
            versions=("3.0",),
            access=AUTHENTICATED,
        ),
        Endpoint(
            "GET",
            f"{users}/current/permissions",
            "The signed-in user's explicit grants",
            obj({}),
            _PERMISSION_ROWS,
            _users.current_user_permissions,
            tag=_TAG,
            versions=("3.0",),
            access=AUTHENTICATED,
        ),
    ]


def _mltrail_endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "POST",
            "/mltrail/tokens/create",
            "Create a personal access token (shown once); admins may create one for a user",
            obj(
                {
                    "name": string("What the token is for.", max_length=200),
                    "expires_in_days": int64("Lifetime in days.", minimum=1),
                    "username": string("Whose token (admins only; default: the caller)."),
                },
                required=["name"],
            ),
            obj({"token": string(), "token_info": _TOKEN_INFO}),
            _tokens.create_token,
            tag=_TAG,
            access=AUTHENTICATED,
        ),
        Endpoint(
            "GET",
            "/mltrail/tokens/list",
            "Personal access tokens: the caller's (an admin: anyone's, or everyone's)",
            obj({"username": string()}),
            obj({"tokens": {"type": "array", "items": _TOKEN_INFO}}),
            _tokens.list_tokens,
            tag=_TAG,
            access=AUTHENTICATED,
        ),
        Endpoint(
            "POST",
            "/mltrail/tokens/revoke",
            "Revoke a personal access token (its owner or an admin)",
            obj({"token_id": string()}, required=["token_id"]),
            obj({}),
            _tokens.revoke_token,
            tag=_TAG,
            access=AUTHENTICATED,
        ),
        Endpoint(
            "GET",
            "/mltrail/audit/list",
            "The audit trail, newest first (admins)",
            obj(
                {
                    "username": string(),
                    "since": int64("Only events at or after this time (ms)."),
                    "action": string(
                        "Only this action (run.delete); a name without a dot (permission) "
                        "takes every action on that kind of thing.",
                        max_length=100,
                    ),
                    "resource_type": string(
                        "Only actions on this kind of resource.", max_length=50
                    ),
                    "resource_id": string(
                        "Only actions on the resource of this id.", max_length=500
                    ),
                    "max_results": int64("Page size (1..1000).", minimum=1, maximum=1000),
                    "page_token": string(),
                }
            ),
            obj({"events": {"type": "array"}, "next_page_token": string()}),
            _tokens.list_audit,
            tag=_TAG,
            access=ADMIN,
        ),
        Endpoint(
            "POST",
            "/mltrail/auth/login",
            "Sign in with a username and password: sets the session cookie",
            _tokens.LOGIN_SCHEMA,
            obj({"user": _USER, "csrf_token": string()}),
            raw=_tokens.login,
            tag=_TAG,
            access=PUBLIC,
        ),
        Endpoint(
            "POST",
            "/mltrail/auth/logout",
            "End the browser session and clear its cookie",
            raw=_tokens.logout,
            tag=_TAG,
            access=PUBLIC,
        ),
    ]


def auth_endpoints() -> list[Endpoint]:
    """The endpoints of an authenticating server's users, grants, tokens and sessions."""
    return [*_mlflow_endpoints(), *_mltrail_endpoints()]
