"""The authentication part of the SQL store: users, grants, tokens, sessions, the audit trail.

Every method is one short transaction on the engine, with nothing cached between calls, so
several server processes behind one database agree at once on every change.  The lookups a
request makes (a token's or a session's user, a grant, a user's grants on one resource type)
are statements compiled once per dialect (:mod:`~mltrail.store.sql._prepared`).

Opening a database (creating or upgrading the auth schema) is :mod:`._auth_open`'s part.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound
from mltrail.entities._auth import (
    AccessToken,
    AuditEvent,
    Permission,
    PermissionGrant,
    ResourceType,
    User,
)
from mltrail.store._auth_base import MAX_AUDIT_RESULTS, AuthStore
from mltrail.store._base import PagedList
from mltrail.store.sql._auth_schema import (
    MAX_RESOURCE_ID_LENGTH,
    MAX_USERNAME_LENGTH,
    audit_table,
    permissions_table,
    sessions_table,
    tokens_table,
    users_table,
)
from mltrail.store.sql._codec import decode_token, encode_token
from mltrail.store.sql._core import now_ms as clock_ms
from mltrail.store.sql._core import upsert_statement
from mltrail.store.sql._engine import read_transaction, retrying, write_transaction
from mltrail.store.sql._paging import SortColumn, after_condition, order_clauses
from mltrail.store.sql._prepared import Prepared
from mltrail.validation import validate_max_results

__all__ = ["LAST_USE_INTERVAL_MS", "SqlAuthStore"]

T = TypeVar("T")

#: A token's last use is written again only when the recorded one is this old (one minute).
LAST_USE_INTERVAL_MS = 60_000
_HASH = re.compile(r"[0-9a-f]{64}")
_MAX_PASSWORD_HASH_LENGTH = 512
_MAX_ACTION_LENGTH = 100

_U = users_table.c
_P = permissions_table.c
_T = tokens_table.c
_S = sessions_table.c
_A = audit_table.c
_USER_COLUMNS = (_U.id.label("user_id"), _U.username, _U.is_admin)

_USER_BY_NAME = Prepared(
    lambda _: select(*_USER_COLUMNS).where(_U.username == bindparam("username"))
)
_CREDENTIALS = Prepared(
    lambda _: select(*_USER_COLUMNS, _U.password_hash).where(_U.username == bindparam("username"))
)
_TOKEN = Prepared(
    lambda _: (
        select(
            *_USER_COLUMNS,
            _T.id.label("token_id"),
            _T.expires_at_ms,
            _T.last_used_at_ms,
            _T.revoked,
        )
        .join_from(tokens_table, users_table, _T.user_id == _U.id)
        .where(_T.token_hash == bindparam("token_hash"))
    )
)
_SESSION = Prepared(
    lambda _: (
        select(*_USER_COLUMNS, _S.csrf_hash, _S.expires_at_ms)
        .join_from(sessions_table, users_table, _S.user_id == _U.id)
        .where(_S.session_hash == bindparam("session_hash"))
    )
)
_GRANT = Prepared(
    lambda _: (
        select(_P.permission)
        .join_from(permissions_table, users_table, _P.user_id == _U.id)
        .where(
            _U.username == bindparam("username"),
            _P.resource_type == bindparam("resource_type"),
            _P.resource_id == bindparam("resource_id"),
        )
    )
)
_GRANTS_OF = Prepared(
    lambda _: (
        select(_P.resource_id, _P.permission)
        .join_from(permissions_table, users_table, _P.user_id == _U.id)
        .where(
            _U.username == bindparam("username"),
            _P.resource_type == bindparam("resource_type"),
        )
    )
)
_GRANT_UPSERT = upsert_statement(
    permissions_table,
    ("user_id", "resource_type", "resource_id", "permission"),
    ("user_id", "resource_type", "resource_id"),
    ("permission",),
)


def _text(field: str, value: Any, max_length: int) -> str:
    """A name: a non-empty string of at most *max_length* characters, no control characters."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"Invalid {field} {value!r}: must be a non-empty string")
    if len(value) > max_length:
        raise InvalidArgument(
            f"Invalid {field} '{value[:40]}...': must be at most {max_length} characters long "
            f"(it has {len(value)})"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidArgument(f"Invalid {field} {value!r}: must not contain control characters")
    return value


def _username(value: Any) -> str:
    return _text("username", value, MAX_USERNAME_LENGTH)


def _resource_id(value: Any) -> str:
    return _text("resource_id", value, MAX_RESOURCE_ID_LENGTH)


def _resource_type(value: Any) -> str:
    if not isinstance(value, ResourceType):
        choices = ", ".join(t.value for t in ResourceType)
        raise InvalidArgument(f"Invalid resource_type {value!r}: must be one of {choices}")
    return value.value


def _permission(value: Any) -> Permission:
    if not isinstance(value, Permission):
        choices = ", ".join(p.name for p in Permission)
        raise InvalidArgument(f"Invalid permission {value!r}: must be one of {choices}")
    return value


def _secret_hash(field: str, value: Any) -> str:
    """A SHA-256 hex digest: the store never takes a token or a session in clear."""
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise InvalidArgument(
            f"Invalid {field}: must be the SHA-256 hex digest of the secret (64 lowercase hex "
            "digits), never the secret itself"
        )
    return value


def _password_hash(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument("Invalid password_hash: must be a non-empty string")
    if len(value) > _MAX_PASSWORD_HASH_LENGTH:
        raise InvalidArgument(
            f"Invalid password_hash: must be at most {_MAX_PASSWORD_HASH_LENGTH} characters long"
        )
    return value


def _timestamp(field: str, value: Any, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(
            f"Invalid {field} {value!r}: must be a non-negative integer (ms since epoch)"
        )
    return value


def _optional_text(field: str, value: Any, max_length: int) -> str | None:
    return None if value is None else _text(field, value, max_length)


def _user(row: Any) -> User:
    return User(id=int(row.user_id), username=row.username, is_admin=bool(row.is_admin))


def _token(row: Any) -> AccessToken:
    return AccessToken(
        id=int(row.id),
        username=row.username,
        name=row.name,
        created_at_ms=int(row.created_at_ms),
        expires_at_ms=row.expires_at_ms,
        last_used_at_ms=row.last_used_at_ms,
        revoked=bool(row.revoked),
    )


def _grant(row: Any) -> PermissionGrant:
    return PermissionGrant(
        username=row.username,
        resource_type=ResourceType(row.resource_type),
        resource_id=row.resource_id,
        permission=Permission[row.permission],
    )


def _audit_event(row: Any) -> AuditEvent:
    return AuditEvent(
        time_ms=int(row.time_ms),
        username=row.username,
        address=row.address,
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        details=json.loads(row.details),
    )


_AUDIT_ORDER = [
    SortColumn(_A.time_ms, ascending=False, nullable=False),
    SortColumn(_A.id, ascending=False, nullable=False),
]


class SqlAuthStore(AuthStore):
    """:class:`~mltrail.store.AuthStore` over one engine, whose database has the auth schema
    (:func:`~mltrail.store.sql._auth_open.open_auth_store` makes sure of that)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- transactions ----------------------------------------------------------------------------
    def _write(self, fn: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with write_transaction(self.engine) as conn:
                return fn(conn)

        return retrying(attempt)

    def _read(self, fn: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with read_transaction(self.engine) as conn:
                return fn(conn)

        return retrying(attempt)

    @staticmethod
    def _user_id(conn: Connection, username: str) -> int:
        row = _USER_BY_NAME.first(conn, {"username": username})
        if row is None:
            raise NotFound(f"User '{username}' does not exist")
        return int(row.user_id)

    # -- users -----------------------------------------------------------------------------------
    def create_user(self, username: str, password_hash: str, *, is_admin: bool = False) -> User:
        name = _username(username)
        values = {
            "username": name,
            "password_hash": _password_hash(password_hash),
            "is_admin": bool(is_admin),
            "created_at_ms": clock_ms(),
        }

        def create(conn: Connection) -> User:
            if _USER_BY_NAME.first(conn, {"username": name}) is not None:
                raise AlreadyExists(f"User '{name}' already exists")
            key = conn.execute(insert(users_table).values(**values)).inserted_primary_key
            assert key is not None
            return User(id=int(key[0]), username=name, is_admin=bool(is_admin))

        try:
            return self._write(create)
        except IntegrityError:  # created meanwhile by another process
            raise AlreadyExists(f"User '{name}' already exists") from None

    def get_user(self, username: str) -> User:
        def get(conn: Connection) -> User:
            row = _USER_BY_NAME.first(conn, {"username": username})
            if row is None:
                raise NotFound(f"User '{username}' does not exist")
            return _user(row)

        return self._read(get)

    def user_by_id(self, user_id: int) -> User:
        query = select(*_USER_COLUMNS).where(_U.id == user_id)

        def get(conn: Connection) -> User:
            row = conn.execute(query).first()
            if row is None:
                raise NotFound(f"No user with id {user_id}")
            return _user(row)

        return self._read(get)

    def credentials(self, username: str) -> tuple[User, str] | None:
        row = self._read(lambda conn: _CREDENTIALS.first(conn, {"username": username}))
        return None if row is None else (_user(row), str(row.password_hash))

    def list_users(self) -> list[User]:
        query = select(*_USER_COLUMNS).order_by(_U.username)
        return self._read(lambda conn: [_user(r) for r in conn.execute(query)])

    def update_password(self, username: str, password_hash: str) -> None:
        value = _password_hash(password_hash)

        def apply(conn: Connection) -> None:
            user_id = self._user_id(conn, username)
            conn.execute(update(users_table).where(_U.id == user_id).values(password_hash=value))
            conn.execute(delete(sessions_table).where(_S.user_id == user_id))

        self._write(apply)

    def update_admin(self, username: str, is_admin: bool) -> None:
        def apply(conn: Connection) -> None:
            user_id = self._user_id(conn, username)
            conn.execute(
                update(users_table).where(_U.id == user_id).values(is_admin=bool(is_admin))
            )

        self._write(apply)

    def delete_user(self, username: str) -> None:
        def apply(conn: Connection) -> None:
            user_id = self._user_id(conn, username)
            # Grants, tokens and sessions go with it (ON DELETE CASCADE).
            conn.execute(delete(users_table).where(_U.id == user_id))

        self._write(apply)

    # -- explicit permissions --------------------------------------------------------------------
    def set_permission(
        self,
        username: str,
        resource_type: ResourceType,
        resource_id: str,
        permission: Permission,
    ) -> PermissionGrant:
        kind = _resource_type(resource_type)
        rid = _resource_id(resource_id)
        level = _permission(permission)

        def apply(conn: Connection) -> None:
            user_id = self._user_id(conn, username)
            _GRANT_UPSERT.execute(
                conn,
                {
                    "user_id": user_id,
                    "resource_type": kind,
                    "resource_id": rid,
                    "permission": level.name,
                },
            )

        self._write(apply)
        return PermissionGrant(username, resource_type, rid, level)

    def get_permission(
        self, username: str, resource_type: ResourceType, resource_id: str
    ) -> Permission | None:
        params = {
            "username": username,
            "resource_type": _resource_type(resource_type),
            "resource_id": resource_id,
        }
        row = self._read(lambda conn: _GRANT.first(conn, params))
        return None if row is None else Permission[row.permission]

    def delete_permission(
        self, username: str, resource_type: ResourceType, resource_id: str
    ) -> None:
        kind = _resource_type(resource_type)

        def apply(conn: Connection) -> None:
            user_id = self._user_id(conn, username)
            deleted = conn.execute(
                delete(permissions_table).where(
                    _P.user_id == user_id,
                    _P.resource_type == kind,
                    _P.resource_id == resource_id,
                )
            ).rowcount
            if not deleted:
                raise NotFound(
                    f"User '{username}' has no permission on {kind} '{resource_id}' to delete"
                )

        self._write(apply)

    def list_permissions(
        self,
        *,
        username: str | None = None,
        resource_type: ResourceType | None = None,
        resource_id: str | None = None,
    ) -> list[PermissionGrant]:
        query = (
            select(_U.username, _P.resource_type, _P.resource_id, _P.permission)
            .join_from(permissions_table, users_table, _P.user_id == _U.id)
            .order_by(_U.username, _P.resource_type, _P.resource_id)
        )
        if username is not None:
            query = query.where(_U.username == username)
        if resource_type is not None:
            query = query.where(_P.resource_type == _resource_type(resource_type))
        if resource_id is not None:
            query = query.where(_P.resource_id == resource_id)
        return self._read(lambda conn: [_grant(r) for r in conn.execute(query)])

    def permissions_of(self, username: str, resource_type: ResourceType) -> dict[str, Permission]:
        params = {"username": username, "resource_type": _resource_type(resource_type)}
        rows = self._read(lambda conn: _GRANTS_OF.all(conn, params))
        return {row.resource_id: Permission[row.permission] for row in rows}

    def rename_resource(self, resource_type: ResourceType, old_id: str, new_id: str) -> None:
        kind = _resource_type(resource_type)
        target = _resource_id(new_id)
        if old_id == target:
            return

        def apply(conn: Connection) -> None:
            conn.execute(
                delete(permissions_table).where(_P.resource_type == kind, _P.resource_id == target)
            )
            conn.execute(
                update(permissions_table)
                .where(_P.resource_type == kind, _P.resource_id == old_id)
                .values(resource_id=target)
            )

        self._write(apply)

    def delete_resource(self, resource_type: ResourceType, resource_id: str) -> None:
        stmt = delete(permissions_table).where(
            _P.resource_type == _resource_type(resource_type), _P.resource_id == resource_id
        )
        self._write(lambda conn: conn.execute(stmt))

    # -- personal access tokens ------------------------------------------------------------------
    def create_token(
        self, username: str, name: str, token_hash: str, expires_at_ms: int | None
    ) -> AccessToken:
        values: dict[str, Any] = {
            "name": _text("name", name, 255),
            "token_hash": _secret_hash("token_hash", token_hash),
            "created_at_ms": clock_ms(),
            "expires_at_ms": _timestamp("expires_at_ms", expires_at_ms, optional=True),
            "last_used_at_ms": None,
            "revoked": False,
        }

        def create(conn: Connection) -> AccessToken:
            values["user_id"] = self._user_id(conn, username)
            key = conn.execute(insert(tokens_table).values(**values)).inserted_primary_key
            assert key is not None
            return AccessToken(
                id=int(key[0]),
                username=username,
                name=values["name"],
                created_at_ms=values["created_at_ms"],
                expires_at_ms=values["expires_at_ms"],
                last_used_at_ms=None,
                revoked=False,
            )

        try:
            return self._write(create)
        except IntegrityError:  # a hash collision: a caller reusing a secret
            raise AlreadyExists("An access token with this token_hash already exists") from None

    def user_for_token(self, token_hash: str, now_ms: int) -> User | None:
        params = {"token_hash": token_hash}
        row = self._read(lambda conn: _TOKEN.first(conn, params))
        if row is None or row.revoked:
            return None
        if row.expires_at_ms is not None and now_ms >= row.expires_at_ms:
            return None
        last = row.last_used_at_ms
        if last is None or now_ms - last >= LAST_USE_INTERVAL_MS:
            self._record_use(int(row.token_id), now_ms)
        return _user(row)

    def _record_use(self, token_id: int, now: int) -> None:
        """Write the token's last use, unless another process wrote a recent one meanwhile."""
        stmt = (
            update(tokens_table)
            .where(
                _T.id == token_id,
                or_(
                    _T.last_used_at_ms.is_(None),
                    _T.last_used_at_ms <= now - LAST_USE_INTERVAL_MS,
                ),
            )
            .values(last_used_at_ms=now)
        )
        self._write(lambda conn: conn.execute(stmt))

    def list_tokens(self, username: str | None = None) -> list[AccessToken]:
        query = (
            select(
                _T.id,
                _U.username,
                _T.name,
                _T.created_at_ms,
                _T.expires_at_ms,
                _T.last_used_at_ms,
                _T.revoked,
            )
            .join_from(tokens_table, users_table, _T.user_id == _U.id)
            .order_by(_T.id)
        )
        if username is not None:
            query = query.where(_U.username == username)
        return self._read(lambda conn: [_token(r) for r in conn.execute(query)])

    def revoke_token(self, token_id: int, *, username: str | None = None) -> None:
        if isinstance(token_id, bool) or not isinstance(token_id, int):
            raise InvalidArgument(f"Invalid token_id {token_id!r}: must be an integer id")
        query = (
            select(_U.username)
            .join_from(tokens_table, users_table, _T.user_id == _U.id)
            .where(_T.id == token_id)
        )

        def apply(conn: Connection) -> None:
            owner = conn.execute(query).scalar()
            if owner is None or (username is not None and owner != username):
                whose = f" of user '{username}'" if username is not None else ""
                raise NotFound(f"No access token with id {token_id}{whose}")
            conn.execute(update(tokens_table).where(_T.id == token_id).values(revoked=True))

        self._write(apply)

    # -- browser sessions ------------------------------------------------------------------------
    def create_session(
        self, username: str, session_hash: str, csrf_hash: str, expires_at_ms: int
    ) -> None:
        values: dict[str, Any] = {
            "session_hash": _secret_hash("session_hash", session_hash),
            "csrf_hash": _secret_hash("csrf_hash", csrf_hash),
            "expires_at_ms": _timestamp("expires_at_ms", expires_at_ms),
        }

        def create(conn: Connection) -> None:
            now = clock_ms()
            user_id = self._user_id(conn, username)
            conn.execute(
                delete(sessions_table).where(_S.user_id == user_id, _S.expires_at_ms <= now)
            )
            conn.execute(
                insert(sessions_table).values(user_id=user_id, created_at_ms=now, **values)
            )

        try:
            self._write(create)
        except IntegrityError:
            raise AlreadyExists("A session with this session_hash already exists") from None

    def session_user(self, session_hash: str, now_ms: int) -> tuple[User, str] | None:
        params = {"session_hash": session_hash}
        row = self._read(lambda conn: _SESSION.first(conn, params))
        if row is None or now_ms >= row.expires_at_ms:
            return None
        return _user(row), str(row.csrf_hash)

    def delete_session(self, session_hash: str) -> None:
        stmt = delete(sessions_table).where(_S.session_hash == session_hash)
        self._write(lambda conn: conn.execute(stmt))

    # -- audit trail -----------------------------------------------------------------------------
    def record_audit(self, event: AuditEvent) -> None:
        try:
            if not isinstance(event.details, dict):
                raise TypeError
            details = json.dumps(event.details, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidArgument(
                "Invalid details of an audit event: must be a JSON object (of strings, finite "
                "numbers, booleans, null, lists and objects)"
            ) from None
        values = {
            "time_ms": _timestamp("time_ms", event.time_ms),
            "username": _optional_text("username", event.username, MAX_USERNAME_LENGTH),
            "address": _optional_text("address", event.address, 255),
            "action": _text("action", event.action, _MAX_ACTION_LENGTH),
            "resource_type": _optional_text("resource_type", event.resource_type, 32),
            "resource_id": _optional_text("resource_id", event.resource_id, MAX_RESOURCE_ID_LENGTH),
            "details": details,
        }
        self._write(lambda conn: conn.execute(insert(audit_table).values(**values)))

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
        limit = validate_max_results(max_results, MAX_AUDIT_RESULTS)
        query = select(audit_table)
        conditions = []
        if username is not None:
            conditions.append(_A.username == username)
        if action:
            if "." in action:
                conditions.append(_A.action == action)
            else:  # every action on that kind of thing: LIKE with the prefix's wildcards escaped
                prefix = action.replace("!", "!!").replace("%", "!%").replace("_", "!_")
                conditions.append(_A.action.like(prefix + ".%", escape="!"))
        if resource_type:
            conditions.append(_A.resource_type == resource_type)
        if resource_id:
            conditions.append(_A.resource_id == resource_id)
        if since_ms is not None:
            conditions.append(_A.time_ms >= _timestamp("since_ms", since_ms))
        if page_token:
            last = decode_token(page_token, "audit").get("k")
            if not isinstance(last, list) or len(last) != 2:
                raise InvalidArgument(f"Invalid page_token {page_token!r}: not an audit token")
            conditions.append(after_condition(_AUDIT_ORDER, last))
        if conditions:
            query = query.where(and_(*conditions))
        query = query.order_by(*order_clauses(_AUDIT_ORDER)).limit(limit + 1)

        def get(conn: Connection) -> PagedList[AuditEvent]:
            rows = conn.execute(query).all()
            token = None
            if len(rows) > limit:
                rows = rows[:limit]
                token = encode_token({"t": "audit", "k": [rows[-1].time_ms, rows[-1].id]})
            return PagedList([_audit_event(r) for r in rows], token)

        return self._read(get)

    def close(self) -> None:
        self.engine.dispose()
