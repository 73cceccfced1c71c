"""mltrail's own auth endpoints: personal access tokens, UI sessions and the audit trail.

- ``mltrail/tokens/create|list|revoke``: a token is shown once, at creation; the store keeps
  its SHA-256 only.  Its owner or an admin lists and revokes it; it expires after the
  ``expires_in_days`` asked for (at most ``max_token_days``).
- ``mltrail/auth/login|logout``: the UI's sign-in.  The session cookie is ``HttpOnly`` and
  ``SameSite=Strict`` (``Secure`` behind HTTPS); the answer carries the CSRF token the UI
  sends back on every change.
- ``mltrail/audit/list``: who created, deleted, renamed, transitioned or changed permissions,
  when and from where, newest first (admins only).
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mltrail._exceptions import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from mltrail.entities._auth import AccessToken, AuditEvent
from mltrail.server._context import ServerContext
from mltrail.server._errors import json_response
from mltrail.server._routing import read_json_body
from mltrail.server._schema import check_object, obj, string
from mltrail.server.auth._identity import SESSION_COOKIE, csrf_token
from mltrail.server.auth._runtime import auth_of, calling_as, current_caller, now_ms
from mltrail.server.auth._secrets import new_secret, secret_hash
from mltrail.server.auth._users import user_json

__all__ = [
    "LOGIN_SCHEMA",
    "audit_json",
    "create_token",
    "list_audit",
    "list_tokens",
    "login",
    "logout",
    "revoke_token",
    "token_json",
]

_DAY_MS = 86_400_000
LOGIN_SCHEMA = obj(
    {"username": string("Who signs in."), "password": string("Their password.")},
    required=["username", "password"],
)


def token_json(token: AccessToken) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(token.id),
        "username": token.username,
        "name": token.name,
        "created_at": token.created_at_ms,
        "revoked": token.revoked,
    }
    if token.expires_at_ms is not None:
        out["expires_at"] = token.expires_at_ms
    if token.last_used_at_ms is not None:
        out["last_used_at"] = token.last_used_at_ms
    return out


def _owner(args: dict[str, Any]) -> str:
    """The user a token call is about: the caller, or (admins only) another user."""
    caller = current_caller()
    username = args.get("username") or caller.username
    if username != caller.username and not caller.user.is_admin:
        raise PermissionDenied(
            f"Permission denied: only an admin may manage the tokens of {username!r}"
        )
    return str(username)


def create_token(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    username = _owner(args)
    name = args["name"].strip()
    if not name:
        raise InvalidArgument("Invalid name: must not be empty")
    days = args.get("expires_in_days", auth.settings.max_token_days)
    if not 1 <= days <= auth.settings.max_token_days:
        raise InvalidArgument(
            f"Invalid expires_in_days {days}: must be between 1 and "
            f"{auth.settings.max_token_days} (the server's max_token_days)"
        )
    secret, digest = new_secret("mlt_")
    token = auth.store.create_token(username, name, digest, now_ms() + days * _DAY_MS)
    auth.audit("token.create", "token", str(token.id), owner=username, name=name)
    return {"token": secret, "token_info": token_json(token)}


def list_tokens(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    caller = current_caller()
    if caller.user.is_admin and not args.get("username"):
        tokens = auth.store.list_tokens()
    else:
        tokens = auth.store.list_tokens(_owner(args))
    return {"tokens": [token_json(t) for t in tokens]}


def revoke_token(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    auth = auth_of(ctx)
    caller = current_caller()
    token_id = int(args["token_id"])
    owner = None if caller.user.is_admin else caller.username
    auth.store.revoke_token(token_id, username=owner)
    auth.changed()
    auth.audit("token.revoke", "token", str(token_id))
    return {}


def audit_json(event: AuditEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"time": event.time_ms, "action": event.action}
    for key, value in (
        ("username", event.username),
        ("address", event.address),
        ("resource_type", event.resource_type),
        ("resource_id", event.resource_id),
    ):
        if value is not None:
            out[key] = value
    if event.details:
        out["details"] = event.details
    return out


def list_audit(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    page = auth_of(ctx).store.list_audit(
        username=args.get("username") or None,
        since_ms=args.get("since"),
        max_results=args.get("max_results", 100),
        page_token=args.get("page_token") or None,
        action=args.get("action") or None,
        resource_type=args.get("resource_type") or None,
        resource_id=args.get("resource_id") or None,
    )
    out: dict[str, Any] = {"events": [audit_json(e) for e in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


# -- UI sessions (raw routes: they set and clear the cookie) ------------------------------------


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _cookie(request: Request, value: str, max_age: int) -> str:
    secure = "; Secure" if request.url.scheme == "https" else ""
    return f"{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


async def login(ctx: ServerContext, request: Request) -> Response:
    auth = auth_of(ctx)
    body = check_object(await read_json_body(request, 64 * 1024), LOGIN_SCHEMA)
    address = _address(request)

    def sign_in() -> tuple[dict[str, Any], str, int]:
        caller = auth.authenticator.password_login(body["username"], body["password"], address)
        secret, digest = new_secret("")
        token = csrf_token(secret)
        lifetime_s = int(auth.settings.session_hours * 3600)
        auth.store.create_session(
            caller.username, digest, secret_hash(token), now_ms() + lifetime_s * 1000
        )
        with calling_as(caller):
            auth.audit("session.login", "user", caller.username)
        return {"user": user_json(caller.user), "csrf_token": token}, secret, lifetime_s

    payload, secret, lifetime_s = await ctx.run_blocking(sign_in)
    response = json_response(payload)
    response.headers.append("set-cookie", _cookie(request, secret, lifetime_s))
    return response


async def logout(ctx: ServerContext, request: Request) -> Response:
    auth = auth_of(ctx)
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        address = _address(request)

        def end() -> None:
            # Signing out is a change: a live session's cookie needs its CSRF token with it
            # (PermissionDenied, the session kept); an ended one has nothing left to protect.
            with contextlib.suppress(Unauthenticated):
                auth.authenticator.session_caller(session, request.headers, address, "POST")
            with contextlib.suppress(NotFound):
                auth.store.delete_session(secret_hash(session))

        await ctx.run_blocking(end)
        auth.changed()
    response = json_response({})
    response.headers.append("set-cookie", _cookie(request, "", 0))
    return response
