"""Authentication and permission entities: MLflow's permission levels, resource types, users.

A :class:`Permission` is one of MLflow's levels, each a superset of the one before::

    NO_PERMISSIONS < READ < USE < EDIT < MANAGE

``READ`` sees a resource; ``USE`` may also use it (a model in a deployment, say); ``EDIT``
changes it (log to a run, rename, set tags); ``MANAGE`` may also delete it and grant
permissions on it.  A user's permission on a resource is an explicit grant when there is one,
else the server's default permission; the creator of a resource is granted ``MANAGE``; an
admin may do everything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AccessToken", "AuditEvent", "Permission", "PermissionGrant", "ResourceType", "User"]


class Permission(enum.Enum):
    """MLflow's permission levels, ordered: a level allows everything the levels below do."""

    NO_PERMISSIONS = 0
    READ = 1
    USE = 2
    EDIT = 3
    MANAGE = 4

    @classmethod
    def parse(cls, name: str) -> Permission:
        """The level named *name* (``ValueError`` naming the choices otherwise); MLflow 3.17's
        ``DENY`` (its explicit refusal on one resource) is ``NO_PERMISSIONS``."""
        if name == "DENY":
            return cls.NO_PERMISSIONS
        try:
            return cls[name]
        except KeyError:
            choices = ", ".join(p.name for p in cls)
            raise ValueError(f"unknown permission {name!r} (one of {choices})") from None

    def allows(self, needed: Permission) -> bool:
        return self.value >= needed.value

    @property
    def can_read(self) -> bool:
        return self.allows(Permission.READ)

    @property
    def can_use(self) -> bool:
        return self.allows(Permission.USE)

    @property
    def can_update(self) -> bool:
        return self.allows(Permission.EDIT)

    @property
    def can_delete(self) -> bool:
        return self.allows(Permission.MANAGE)

    @property
    def can_manage(self) -> bool:
        return self.allows(Permission.MANAGE)


class ResourceType(enum.Enum):
    """What a permission is granted on (MLflow's ``resource_type`` strings)."""

    EXPERIMENT = "experiment"
    REGISTERED_MODEL = "registered_model"
    LOGGED_MODEL = "logged_model"
    #: mltrail's: a webhook a non-admin created (MLflow's webhooks are for admins only).  No
    #: default permission applies to one: only its grants and admins reach it.
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class User:
    """A user of an authenticating server (the password hash never leaves the store)."""

    id: int
    username: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class PermissionGrant:
    """An explicit permission of one user on one resource."""

    username: str
    resource_type: ResourceType
    resource_id: str
    permission: Permission


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A personal access token, as listed: never the token itself, nor its hash.

    A token is sent as ``Authorization: Bearer <token>``; it authenticates its user until
    *expires_at_ms* (ms since epoch; None: never) unless *revoked*.  *last_used_at_ms* is
    recorded at most once a minute.
    """

    id: int
    username: str
    name: str
    created_at_ms: int
    expires_at_ms: int | None
    last_used_at_ms: int | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One entry of the audit trail: who did what to which resource, when and from where.

    *username* is None for an anonymous caller (a failed login names the username tried in
    *details* instead); *address* is the client's address as the server saw it.  *action* is
    a short dotted name (``user.create``, ``permission.set``, ``token.revoke``, ``login``);
    *resource_type* is a :class:`ResourceType` value or another kind of object (``user``,
    ``token``), with *resource_id* its id.  *details* holds JSON values only.
    """

    time_ms: int
    username: str | None
    address: str | None
    action: str
    resource_type: str | None = None
    resource_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
