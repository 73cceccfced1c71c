"""Enforcing a route's access rule: who the caller is, then whether the rule lets them in.

:func:`admit` runs in a handler thread (it reads the auth store) before the route's own work;
it answers with the :class:`~._identity.Caller` (None on a public route called without
credentials) or raises:

- Unauthenticated (401, with MLflow's ``WWW-Authenticate: Basic`` challenge) when a route
  that needs a user gets none, or wrong credentials;
- PermissionDenied (403) when the user lacks what the rule needs (ADMIN: an admin; a
  resource rule: its checks, :func:`~mltrail.server._access.resolve`);
- RequestLimitExceeded (429) after too many failed logins.

On a public route, wrong or stale credentials count as none (a stale session cookie must not
keep anyone from the sign-in page).
:func:`record` runs after a successful call: the creator of an experiment, registered model or
logged model is granted MANAGE, grants follow a renamed registered model and leave with a
deleted one, and the action enters the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mltrail._exceptions import MltrailError, PermissionDenied, Unauthenticated
from mltrail.entities._auth import Permission
from mltrail.server._access import Access, AccessKind, Check, Effect, located_values, resolve
from mltrail.server._context import ServerContext
from mltrail.server.auth._identity import Caller
from mltrail.server.auth._runtime import AuthRuntime, reset_caller, set_caller
from mltrail.store import Backend

__all__ = ["CHALLENGE", "admit", "record", "run_guarded"]

#: MLflow's challenge on a 401 (clients then send their Basic credentials).
CHALLENGE = {"WWW-Authenticate": 'Basic realm="mltrail"'}
_OPEN = (AccessKind.PUBLIC, AccessKind.UPLOAD_CAPABILITY)


def admit(
    auth: AuthRuntime,
    backend: Backend,
    access: Access,
    headers: Mapping[str, str],
    address: str,
    method: str,
    args: Mapping[str, Any],
) -> Caller | None:
    """The caller of a request to a route with rule *access*, if the rule lets them in."""
    if access.kind in _OPEN:  # stale or wrong credentials do not lock anyone out of these
        try:
            return auth.authenticator.authenticate(headers, address, method)
        except (Unauthenticated, PermissionDenied):
            return None
    # A search or a read sent as POST changes nothing: no CSRF token is needed for it.
    caller = auth.authenticator.authenticate(headers, address, "GET" if _reads(access) else method)
    if caller is None:
        raise Unauthenticated(
            "You are not signed in: send a username and password (HTTP Basic, as "
            "MLFLOW_TRACKING_USERNAME/PASSWORD do) or an access token (MLFLOW_TRACKING_TOKEN)"
        )
    if access.kind is AccessKind.ADMIN and not caller.user.is_admin:
        raise PermissionDenied(f"Permission denied: {caller.username!r} is not an admin")
    if access.kind is AccessKind.RESOURCE and not caller.user.is_admin:
        auth.permissions.require(caller.user, _checks(auth, backend, access, args))
    return caller


def _reads(access: Access) -> bool:
    return access.filtered or (
        access.kind is AccessKind.RESOURCE
        and all(need.permission is Permission.READ for need in access.needs)
    )


def _checks(
    auth: AuthRuntime, backend: Backend, access: Access, args: Mapping[str, Any]
) -> list[Check]:
    """``resolve``'s answer, remembered briefly when the rule reads only plain values (a run
    id: where a run lives changes only when it is moved)."""
    values = located_values(access, args)
    if not all(v is None or isinstance(v, (str, int)) for v in values):
        return resolve(access, args, backend)
    # Keyed by the rule's identity: rules live as long as the app's endpoints.
    return auth.resolved.get((id(access), values), lambda: resolve(access, args, backend))


def record(
    auth: AuthRuntime,
    caller: Caller | None,
    effect: Effect,
    args: Mapping[str, Any],
    result: Mapping[str, Any],
) -> None:
    """Apply *effect* of a call that succeeded (in the handler's thread)."""
    auth.changed()
    resource_id = effect.resource_id(args, result)
    resource_type = effect.resource_type
    details = {k: args[k] for k in effect.detail_keys if args.get(k) not in (None, "")}
    if resource_type is not None and resource_id is not None:
        if effect.creator_manages and caller is not None:
            auth.permissions.grant_creator(caller.user, resource_type, resource_id)
        if effect.renames_to is not None and args.get(effect.renames_to):
            new_id = str(args[effect.renames_to])
            auth.store.rename_resource(resource_type, resource_id, new_id)
            auth.audit(effect.action, resource_type, resource_id, new_name=new_id, **details)
            return
        if effect.deletes:
            auth.store.delete_resource(resource_type, resource_id)
    auth.audit(effect.action, resource_type, resource_id, **details)


def run_guarded(
    auth: AuthRuntime,
    ctx: ServerContext,
    access: Access,
    effect: Effect | None,
    handler: Callable[[ServerContext, dict[str, Any]], dict[str, Any]],
    request: tuple[Mapping[str, str], str, str],
    args: dict[str, Any] | None,
    bad_request: MltrailError | None,
) -> dict[str, Any]:
    """A JSON endpoint's call under authentication, all in one handler thread: admit the
    caller (*request* is headers, address, method), then answer a malformed request's error
    (*bad_request*: authentication comes first, as MLflow's), then run *handler* as the
    caller and apply *effect*."""
    headers, address, method = request
    caller = admit(auth, ctx.backend, access, headers, address, method, args or {})
    if bad_request is not None:
        raise bad_request
    assert args is not None
    token = set_caller(caller)
    try:
        result = handler(ctx, args)
        if effect is not None:
            record(auth, caller, effect, args, result)
    finally:
        reset_caller(token)
    return result
