"""The authentication schema: its own tables, its own metadata and its own Alembic chain.

The auth tables live in the tracking database (the default) or in a database of their own, so
they are versioned apart from the tracking schema: their Alembic chain is
``auth_migrations/`` with its version in ``auth_alembic_version``, and every one of their names
starts with ``auth_`` (a prefix reserved for them).  Each chain's autogenerate compares only
its own tables (:func:`include_auth_name`, :func:`include_tracking_name`), so neither ever
proposes to drop the other's.

Design notes:
- users have an integer surrogate ``id`` (foreign key of grants, tokens and sessions, which go
  with the user: ``ON DELETE CASCADE``); ids are never reused (SQLite ``AUTOINCREMENT``);
- a grant is unique per (user, resource type, resource id); ``ix_auth_permissions_resource``
  serves renaming and deleting a resource's grants;
- tokens and sessions are found by the SHA-256 hex of their secret (64 characters, unique);
- audit events are read newest first by ``(time_ms, id)``, of everyone or of one username
  (kept as text: the trail outlives deleted users); ``details`` is a JSON object.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
)

from mltrail.store.sql._types import MYSQL_TABLE_ARGS, Id, LongText, Str

__all__ = [
    "AUTH_PREFIX",
    "AUTH_VERSION_TABLE",
    "MAX_RESOURCE_ID_LENGTH",
    "MAX_USERNAME_LENGTH",
    "audit_table",
    "auth_metadata",
    "include_auth_name",
    "include_tracking_name",
    "permissions_table",
    "sessions_table",
    "tokens_table",
    "users_table",
]

#: Every table of the auth schema starts with it (its version table too).
AUTH_PREFIX = "auth_"
#: Where the auth chain's Alembic revision is kept (MLflow's auth database uses
#: ``alembic_version_auth``; this name tells the two apart).
AUTH_VERSION_TABLE = "auth_alembic_version"
#: The head of the chain in ``auth_migrations`` (a test keeps the two in step): a database at
#: this revision, or a fresh one, is opened without loading Alembic (~0.2 s at start-up).
AUTH_HEAD_REVISION = "auth_0001_initial"
MAX_USERNAME_LENGTH = 255
MAX_RESOURCE_ID_LENGTH = 500

auth_metadata = MetaData()
_MYSQL = MYSQL_TABLE_ARGS


def _user_fk() -> Column[int]:
    return Column("user_id", Id, ForeignKey("auth_users.id", ondelete="CASCADE"), nullable=False)


users_table = Table(
    "auth_users",
    auth_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", Str(MAX_USERNAME_LENGTH), nullable=False),
    Column("password_hash", Str(512), nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    UniqueConstraint("username", name="uq_auth_users_username"),
    sqlite_autoincrement=True,
    **_MYSQL,
)

permissions_table = Table(
    "auth_permissions",
    auth_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _user_fk(),
    Column("resource_type", Str(32), nullable=False),
    Column("resource_id", Str(MAX_RESOURCE_ID_LENGTH), nullable=False),
    Column("permission", Str(32), nullable=False),
    UniqueConstraint("user_id", "resource_type", "resource_id", name="uq_auth_permissions"),
    Index("ix_auth_permissions_resource", "resource_type", "resource_id"),
    **_MYSQL,
)

tokens_table = Table(
    "auth_tokens",
    auth_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _user_fk(),
    Column("name", Str(255), nullable=False),
    Column("token_hash", Str(64), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=True),
    Column("last_used_at_ms", BigInteger, nullable=True),
    Column("revoked", Boolean, nullable=False),
    UniqueConstraint("token_hash", name="uq_auth_tokens_hash"),
    Index("ix_auth_tokens_user", "user_id"),
    sqlite_autoincrement=True,
    **_MYSQL,
)

sessions_table = Table(
    "auth_sessions",
    auth_metadata,
    Column("session_hash", Str(64), primary_key=True),
    _user_fk(),
    Column("csrf_hash", Str(64), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Index("ix_auth_sessions_user", "user_id"),
    **_MYSQL,
)

audit_table = Table(
    "auth_audit",
    auth_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False),
    Column("username", Str(MAX_USERNAME_LENGTH), nullable=True),
    Column("address", Str(255), nullable=True),
    Column("action", Str(100), nullable=False),
    Column("resource_type", Str(32), nullable=True),
    Column("resource_id", Str(MAX_RESOURCE_ID_LENGTH), nullable=True),
    Column("details", LongText, nullable=False),
    Index("ix_auth_audit_time", "time_ms", "id"),
    Index("ix_auth_audit_user", "username", "time_ms", "id"),
    sqlite_autoincrement=True,
    **_MYSQL,
)


def _is_auth_table(name: str | None, type_: str, parent_names: Any) -> bool:
    table = name if type_ == "table" else (parent_names or {}).get("table_name")
    return bool(table) and str(table).startswith(AUTH_PREFIX)


def include_auth_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name`` of the auth chain: its own tables only."""
    return type_ == "schema" or _is_auth_table(name, type_, parent_names)


def include_tracking_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name`` of the tracking chain: every table but the auth schema's."""
    return type_ == "schema" or not _is_auth_table(name, type_, parent_names)
