"""The store interface of authentication: users, permissions, tokens, sessions, the audit trail.

An authenticating tracking server (``mltrail server --app-name basic-auth``) keeps its users
and their grants here; :func:`mltrail.store.open_auth_store` opens the SQL implementation
(in the tracking database or a database of its own).  Secrets never reach the store in clear:
it is given and keeps a password's hash (argon2id, made above it), and the SHA-256 of a
personal access token, of a browser session's cookie and of its CSRF token
(:mod:`mltrail.server.auth._secrets`).

Every method is one short transaction and nothing is cached: several server processes behind
one database agree at once on a revoked token, a deleted user or a changed permission.
Usernames are case-sensitive; a username is non-empty, at most 255 characters, without
control characters (InvalidArgument naming the rule otherwise).
"""

from __future__ import annotations

import abc

from mltrail.entities._auth import (
    AccessToken,
    AuditEvent,
    Permission,
    PermissionGrant,
    ResourceType,
    User,
)
from mltrail.store._base import PagedList

__all__ = ["MAX_AUDIT_RESULTS", "AuthStore"]

#: The largest page of :meth:`AuthStore.list_audit`.
MAX_AUDIT_RESULTS = 1000


class AuthStore(abc.ABC):
    """Users, their explicit permissions, personal access tokens, browser sessions and the
    audit trail of an authenticating server."""

    # -- users -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_user(self, username: str, password_hash: str, *, is_admin: bool = False) -> User:
        """A new user (AlreadyExists naming it when the username is taken)."""

    @abc.abstractmethod
    def get_user(self, username: str) -> User:
        """NotFound when there is no such user."""

    @abc.abstractmethod
    def user_by_id(self, user_id: int) -> User:
        """NotFound when there is no such user."""

    @abc.abstractmethod
    def credentials(self, username: str) -> tuple[User, str] | None:
        """*username* and their stored password hash, in one read; None when there is no such
        user (the caller still verifies against a dummy hash, so timing does not tell users
        apart)."""

    @abc.abstractmethod
    def list_users(self) -> list[User]:
        """Every user, by username."""

    @abc.abstractmethod
    def update_password(self, username: str, password_hash: str) -> None:
        """Replace the password hash and end every browser session of the user (NotFound for
        an unknown user).  Personal access tokens stay valid: they are revoked one by one."""

    @abc.abstractmethod
    def update_admin(self, username: str, is_admin: bool) -> None:
        """Make the user an admin or not (NotFound for an unknown user)."""

    @abc.abstractmethod
    def delete_user(self, username: str) -> None:
        """Delete the user with its grants, tokens and sessions (NotFound for an unknown
        user).  Audit events naming the user are kept."""

    # -- explicit permissions --------------------------------------------------------------------
    @abc.abstractmethod
    def set_permission(
        self,
        username: str,
        resource_type: ResourceType,
        resource_id: str,
        permission: Permission,
    ) -> PermissionGrant:
        """Grant *permission* on the resource, replacing the user's grant there if any
        (NotFound for an unknown user).  ``NO_PERMISSIONS`` is a grant too: it denies what the
        default permission would allow."""

    @abc.abstractmethod
    def get_permission(
        self, username: str, resource_type: ResourceType, resource_id: str
    ) -> Permission | None:
        """The user's explicit grant on the resource; None when there is none (the server's
        default permission applies), for an unknown user too."""

    @abc.abstractmethod
    def delete_permission(
        self, username: str, resource_type: ResourceType, resource_id: str
    ) -> None:
        """Remove the user's grant on the resource (NotFound naming both when there is none)."""

    @abc.abstractmethod
    def list_permissions(
        self,
        *,
        username: str | None = None,
        resource_type: ResourceType | None = None,
        resource_id: str | None = None,
    ) -> list[PermissionGrant]:
        """The grants matching every filter given (all of them with none), ordered by
        username, resource type and resource id; an unknown user has none."""

    @abc.abstractmethod
    def permissions_of(self, username: str, resource_type: ResourceType) -> dict[str, Permission]:
        """Every explicit grant of the user on resources of one type, by resource id, read in
        one query (what a search filters its results with); empty for an unknown user."""

    @abc.abstractmethod
    def rename_resource(self, resource_type: ResourceType, old_id: str, new_id: str) -> None:
        """Carry the grants on *old_id* over to *new_id* (a registered model renamed).  Grants
        left on *new_id* by a resource deleted earlier are dropped first: only the renamed
        resource's grants apply to it."""

    @abc.abstractmethod
    def delete_resource(self, resource_type: ResourceType, resource_id: str) -> None:
        """Remove every grant on the resource (it was deleted); nothing to remove is fine."""

    # -- personal access tokens ------------------------------------------------------------------
    @abc.abstractmethod
    def create_token(
        self, username: str, name: str, token_hash: str, expires_at_ms: int | None
    ) -> AccessToken:
        """Record a new token of the user by its SHA-256 hex *token_hash* (NotFound for an
        unknown user; InvalidArgument for a *name* that is empty, longer than 255 characters
        or holds control characters, and for a hash that is not 64 lowercase hex digits)."""

    @abc.abstractmethod
    def user_for_token(self, token_hash: str, now_ms: int) -> User | None:
        """The user a token authenticates at *now_ms*; None when the token is unknown,
        expired or revoked.  Its last use is recorded when the one recorded is a minute old or
        more, so that a busy token is not one write per request."""

    @abc.abstractmethod
    def list_tokens(self, username: str | None = None) -> list[AccessToken]:
        """Tokens of the user (every user's with None), oldest first, revoked ones included."""

    @abc.abstractmethod
    def revoke_token(self, token_id: int, *, username: str | None = None) -> None:
        """Revoke a token for good (again is fine).  With *username*, only a token of that
        user: another user's token is NotFound, as an unknown one is."""

    # -- browser sessions ------------------------------------------------------------------------
    @abc.abstractmethod
    def create_session(
        self, username: str, session_hash: str, csrf_hash: str, expires_at_ms: int
    ) -> None:
        """Record a session of the user by the SHA-256 hex of its cookie and of its CSRF token
        (NotFound for an unknown user).  The user's expired sessions are removed."""

    @abc.abstractmethod
    def session_user(self, session_hash: str, now_ms: int) -> tuple[User, str] | None:
        """The user of a session and its CSRF token's hash; None when the session is unknown,
        expired, or ended (logout, password change, user deleted)."""

    @abc.abstractmethod
    def delete_session(self, session_hash: str) -> None:
        """End a session (logout); an unknown one is fine."""

    # -- audit trail -----------------------------------------------------------------------------
    @abc.abstractmethod
    def record_audit(self, event: AuditEvent) -> None:
        """Append an event to the audit trail."""

    @abc.abstractmethod
    def list_audit(
        self,
        *,
        username: str | None = None,
        since_ms: int | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        action: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
    ) -> PagedList[AuditEvent]:
        """Events, newest first: of one user, at or after *since_ms*, of one *action*
        (``run.delete``; a name without a dot, ``permission``, is every action on that kind
        of thing), on one kind of resource (and one id of it); at most *max_results* (1 to
        :data:`MAX_AUDIT_RESULTS`) a page, the next page by the list's ``token``."""

    # -- resources -------------------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's connections."""
