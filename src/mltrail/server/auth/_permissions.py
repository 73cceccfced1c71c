"""A user's effective permission on a resource, and what a search may show them.

The rule is MLflow's: an admin may do everything; otherwise an explicit grant on the resource
decides, and without one the server's ``default_permission`` does (not for a webhook, which
only its grants and admins reach).  A logged model with no
grant of its own takes its experiment's permission, and reading it needs READ on that
experiment in any case (as MLflow checks).  Every answer is read from the auth store at the
time of the request, or remembered at most ``auth_cache_ttl_seconds`` (:mod:`._ttl`), so a
revoked grant is refused by every server process within that time, and at once by the one
that revoked it.
"""

from __future__ import annotations

from collections.abc import Iterable

from mltrail._exceptions import InvalidArgument, NotFound, PermissionDenied
from mltrail.entities._auth import Permission, ResourceType, User
from mltrail.server._access import Check, Resource, logged_model_resources
from mltrail.server.auth._ttl import TtlCache
from mltrail.store import Backend, LoggedModelVisibility, Visibility
from mltrail.store._auth_base import AuthStore

__all__ = ["Permissions", "describe"]

_NOUNS = {
    ResourceType.EXPERIMENT: "experiment",
    ResourceType.REGISTERED_MODEL: "registered model",
    ResourceType.LOGGED_MODEL: "logged model",
    ResourceType.WEBHOOK: "webhook",
}
#: Resources the default permission does not reach: without a grant, only admins may.
_GRANTS_ONLY = frozenset({ResourceType.WEBHOOK})


def describe(resource_type: ResourceType, resource_id: str) -> str:
    return f"{_NOUNS[resource_type]} {resource_id!r}"


class Permissions:
    """Answers "may this user do that" from the auth store and the server's default."""

    def __init__(
        self, store: AuthStore, default: Permission, backend: Backend, cache_ttl: float = 0.0
    ) -> None:
        self.store = store
        self.default = default
        self.backend = backend
        self._grants: TtlCache[tuple[str, ResourceType, str], Permission | None] = TtlCache(
            cache_ttl
        )
        self._all: TtlCache[tuple[str, ResourceType], dict[str, Permission]] = TtlCache(cache_ttl)

    def _grant(
        self, user: User, resource_type: ResourceType, resource_id: str
    ) -> Permission | None:
        key = (user.username, resource_type, resource_id)
        return self._grants.get(
            key, lambda: self.store.get_permission(user.username, resource_type, resource_id)
        )

    def forget(self) -> None:
        """Drop every remembered grant (after a change this process made)."""
        self._grants.clear()
        self._all.clear()

    def of(self, user: User, resource_type: ResourceType, resource_id: str) -> Permission:
        """The user's permission on one resource (a logged model with no grant of its own:
        its experiment's)."""
        if user.is_admin:
            return Permission.MANAGE
        resources: tuple[Resource, ...] = ((resource_type, resource_id),)
        if resource_type is ResourceType.LOGGED_MODEL:
            try:
                model = self.backend.logged_models.get_logged_model(resource_id, allow_deleted=True)
            except (NotFound, InvalidArgument):
                pass
            else:
                resources = logged_model_resources(model)
        return self._judge(user, resources)

    def _judge(self, user: User, resources: tuple[Resource, ...]) -> Permission:
        """The grant of the first of *resources* the user holds one on, else the default."""
        for resource_type, resource_id in resources:
            explicit = self._grant(user, resource_type, resource_id)
            if explicit is not None:
                return explicit
        return self._fallback(resources[-1][0])

    def _fallback(self, resource_type: ResourceType) -> Permission:
        """The permission of a user holding no grant on a resource of *resource_type*."""
        return Permission.NO_PERMISSIONS if resource_type in _GRANTS_ONLY else self.default

    def decide(self, user: User, check: Check) -> Permission:
        """The permission that judges *check*: the first of its resources the user holds an
        explicit grant on, else the default (an admin: MANAGE; no resources: admins only)."""
        if user.is_admin:
            return Permission.MANAGE
        if check.admin_only:
            return Permission.NO_PERMISSIONS
        return self._judge(user, check.resources)

    def require(self, user: User, checks: Iterable[Check]) -> None:
        """PermissionDenied (403) naming the first check the user fails."""
        if user.is_admin:
            return
        for check in checks:
            if not self.decide(user, check).allows(check.permission):
                if check.admin_only:
                    raise PermissionDenied(
                        f"Permission denied: {user.username!r} is not an admin, and only an "
                        "admin may reach what no run, logged model or experiment owns"
                    )
                resource_type, resource_id = check.resources[0]
                raise PermissionDenied(
                    f"Permission denied: {user.username!r} needs {check.permission.name} on "
                    f"{describe(resource_type, resource_id)}"
                )

    def visibility(self, user: User, resource_type: ResourceType) -> Visibility | None:
        """What a search over *resource_type* may return to *user* (None: everything)."""
        if user.is_admin:
            return None
        grants = self._all.get(
            (user.username, resource_type),
            lambda: self.store.permissions_of(user.username, resource_type),
        )
        if self._fallback(resource_type).can_read:
            denied = frozenset(rid for rid, p in grants.items() if not p.can_read)
            return Visibility(denied=denied) if denied else None
        return Visibility(allowed=frozenset(rid for rid, p in grants.items() if p.can_read))

    def logged_model_visibility(self, user: User) -> LoggedModelVisibility | None:
        """What a logged-model search may return: models of experiments the user may read,
        less those whose own grant withholds READ (as MLflow, a model's grant can narrow what
        its experiment allows, never widen it)."""
        experiments = self.visibility(user, ResourceType.EXPERIMENT)
        if user.is_admin:
            return None
        own = self._all.get(
            (user.username, ResourceType.LOGGED_MODEL),
            lambda: self.store.permissions_of(user.username, ResourceType.LOGGED_MODEL),
        )
        denied = frozenset(rid for rid, p in own.items() if not p.can_read)
        if experiments is None and not denied:
            return None
        return LoggedModelVisibility(
            experiments=experiments or Visibility.everything(), denied=denied
        )

    def grant_creator(self, user: User, resource_type: ResourceType, resource_id: str) -> None:
        """The creator of a resource manages it (MLflow's rule)."""
        if not user.is_admin:
            self.store.set_permission(user.username, resource_type, resource_id, Permission.MANAGE)
