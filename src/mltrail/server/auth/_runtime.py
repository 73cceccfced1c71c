"""An authenticating server's auth state: its store, settings, authenticator and permissions,
and the caller of the request being handled.

The caller travels in a context variable set around each handler call (in the handler's
thread), so handlers keep their ``(ctx, args)`` signature.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import Unauthenticated
from mltrail.entities._auth import AuditEvent, ResourceType
from mltrail.server._access import Check
from mltrail.server.auth._config import AuthSettings
from mltrail.server.auth._identity import Authenticator, Caller
from mltrail.server.auth._permissions import Permissions
from mltrail.server.auth._ttl import TtlCache
from mltrail.store import Backend, LoggedModelVisibility, Visibility
from mltrail.store._auth_base import AuthStore

if TYPE_CHECKING:  # the context names this module's AuthRuntime
    from mltrail.server._context import ServerContext

__all__ = [
    "AuthRuntime",
    "auth_of",
    "caller_or_none",
    "calling_as",
    "current_caller",
    "now_ms",
    "reset_caller",
    "set_caller",
    "visible",
    "visible_logged_models",
]

_CALLER: ContextVar[Caller | None] = ContextVar("mltrail_caller", default=None)


def now_ms() -> int:
    return int(time.time() * 1000)


def current_caller() -> Caller:
    """The caller of the request being handled (Unauthenticated outside one)."""
    caller = _CALLER.get()
    if caller is None:
        raise Unauthenticated("You are not signed in")
    return caller


def caller_or_none() -> Caller | None:
    return _CALLER.get()


def set_caller(caller: Caller | None) -> Token[Caller | None]:
    """Make *caller* the current caller (until :func:`reset_caller` with the token)."""
    return _CALLER.set(caller)


def reset_caller(token: Token[Caller | None]) -> None:
    _CALLER.reset(token)


@contextlib.contextmanager
def calling_as(caller: Caller | None) -> Iterator[None]:
    token = _CALLER.set(caller)
    try:
        yield
    finally:
        _CALLER.reset(token)


@dataclass
class AuthRuntime:
    """What the server's routes need to authenticate and authorize (built by ``create_app``)."""

    settings: AuthSettings
    store: AuthStore
    authenticator: Authenticator
    permissions: Permissions

    resolved: TtlCache[Hashable, list[Check]] = field(default_factory=lambda: TtlCache(0.0))
    #: Returns once the users exist: the admin of a first start is created on a thread.
    ready: Callable[[], None] = field(default=lambda: None)

    @classmethod
    def build(
        cls,
        settings: AuthSettings,
        store: AuthStore,
        backend: Backend,
        ready: Callable[[], None] | None = None,
    ) -> AuthRuntime:
        """*ready* returns once the users exist (authentication waits for it)."""
        ttl = settings.auth_cache_ttl_seconds
        return cls(
            settings,
            store,
            Authenticator(store, settings, now_ms, ready=ready),
            Permissions(store, settings.default, backend, ttl),
            TtlCache(ttl),
            ready or (lambda: None),
        )

    def changed(self) -> None:
        """Something this process did changed users, grants, tokens or where a resource
        lives: forget what was remembered, so the change holds here from the next request."""
        self.authenticator.forget()
        self.permissions.forget()
        self.resolved.clear()

    def visible(self, resource_type: ResourceType) -> Visibility | None:
        """What a search over *resource_type* may show the current caller (None: all)."""
        caller = caller_or_none()
        return None if caller is None else self.permissions.visibility(caller.user, resource_type)

    def visible_logged_models(self) -> LoggedModelVisibility | None:
        caller = caller_or_none()
        return None if caller is None else self.permissions.logged_model_visibility(caller.user)

    def audit(
        self,
        action: str,
        resource_type: ResourceType | str | None = None,
        resource_id: str | None = None,
        **details: Any,
    ) -> None:
        """Record *action* by the current caller in the audit trail."""
        caller = caller_or_none()
        self.store.record_audit(
            AuditEvent(
                time_ms=now_ms(),
                username=caller.username if caller else None,
                address=caller.address if caller else None,
                action=action,
                resource_type=(
                    resource_type.value
                    if isinstance(resource_type, ResourceType)
                    else resource_type
                ),
                resource_id=resource_id,
                details=details,
            )
        )


def visible(ctx: ServerContext, resource_type: ResourceType) -> Visibility | None:
    """What a search handler may return to its caller (None: no constraint; auth off)."""
    return None if ctx.auth is None else ctx.auth.visible(resource_type)


def visible_logged_models(ctx: ServerContext) -> LoggedModelVisibility | None:
    return None if ctx.auth is None else ctx.auth.visible_logged_models()


def auth_of(ctx: ServerContext) -> AuthRuntime:
    """The auth state of a server whose auth endpoints are mounted (they are only with auth)."""
    assert ctx.auth is not None, "auth endpoints are only mounted with authentication on"
    return ctx.auth
