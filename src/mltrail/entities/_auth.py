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
from dataclasses import dataclass

__all__ = ["Permission", "PermissionGrant", "ResourceType", "User"]


class Permission(enum.Enum):
    """MLflow's permission levels, ordered: a level allows everything the levels below do."""

    NO_PERMISSIONS = 0
    READ = 1
    USE = 2
    EDIT = 3
    MANAGE = 4

    @classmethod
    def parse(cls, name: str) -> Permission:
        """The level named *name* (``ValueError`` naming the choices otherwise)."""
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
