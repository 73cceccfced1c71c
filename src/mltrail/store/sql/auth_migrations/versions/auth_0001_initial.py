"""The authentication schema: users, permissions, access tokens, sessions, the audit trail.

Revision ID: auth_0001_initial
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql._types import MYSQL_TABLE_ARGS as _MYSQL
from mltrail.store.sql._types import Id, LongText, Str

revision = "auth_0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _user_fk() -> sa.Column[int]:
    return sa.Column(
        "user_id", Id, sa.ForeignKey("auth_users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "auth_users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("username", Str(255), nullable=False),
        sa.Column("password_hash", Str(512), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("username", name="uq_auth_users_username"),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_table(
        "auth_permissions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _user_fk(),
        sa.Column("resource_type", Str(32), nullable=False),
        sa.Column("resource_id", Str(500), nullable=False),
        sa.Column("permission", Str(32), nullable=False),
        sa.UniqueConstraint("user_id", "resource_type", "resource_id", name="uq_auth_permissions"),
        **_MYSQL,
    )
    op.create_index(
        "ix_auth_permissions_resource", "auth_permissions", ["resource_type", "resource_id"]
    )
    op.create_table(
        "auth_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _user_fk(),
        sa.Column("name", Str(255), nullable=False),
        sa.Column("token_hash", Str(64), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger, nullable=True),
        sa.Column("last_used_at_ms", sa.BigInteger, nullable=True),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_auth_tokens_hash"),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_index("ix_auth_tokens_user", "auth_tokens", ["user_id"])
    op.create_table(
        "auth_sessions",
        sa.Column("session_hash", Str(64), primary_key=True),
        _user_fk(),
        sa.Column("csrf_hash", Str(64), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger, nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_auth_sessions_user", "auth_sessions", ["user_id"])
    op.create_table(
        "auth_audit",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("username", Str(255), nullable=True),
        sa.Column("address", Str(255), nullable=True),
        sa.Column("action", Str(100), nullable=False),
        sa.Column("resource_type", Str(32), nullable=True),
        sa.Column("resource_id", Str(500), nullable=True),
        sa.Column("details", LongText, nullable=False),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_index("ix_auth_audit_time", "auth_audit", ["time_ms", "id"])
    op.create_index("ix_auth_audit_user", "auth_audit", ["username", "time_ms", "id"])


def downgrade() -> None:
    for table in ("auth_audit", "auth_sessions", "auth_tokens", "auth_permissions", "auth_users"):
        op.drop_table(table)
