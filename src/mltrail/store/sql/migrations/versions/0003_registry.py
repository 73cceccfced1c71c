"""The model registry (models, versions, tags, aliases) and webhooks with their delivery log.

Revision ID: 0003_registry
Revises: 0002_datasets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql._types import MYSQL_TABLE_ARGS as _MYSQL
from mltrail.store.sql._types import Id, LongText, Str

revision = "0003_registry"
down_revision = "0002_datasets"
branch_labels = None
depends_on = None


def _model_fk() -> sa.Column[int]:
    return sa.Column(
        "model_id", Id, sa.ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False
    )


def _version_fk() -> sa.Column[int]:
    return sa.Column(
        "version_id", Id, sa.ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", Str(256), nullable=False),
        sa.Column("name_key", Str(256), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("description", LongText, nullable=True),
        sa.Column("next_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("name_key", name="uq_registered_models_name_key"),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_index("ix_registered_models_name", "registered_models", ["name", "id"])
    op.create_table(
        "registered_model_tags",
        _model_fk(),
        sa.Column("key", Str(250), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_registered_model_tags"),
        **_MYSQL,
    )
    op.create_index(
        "ix_registered_model_tags_key_value",
        "registered_model_tags",
        ["key", "value", "model_id"],
        mysql_length={"value": 200},
    )
    op.create_table(
        "model_versions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _model_fk(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("description", LongText, nullable=True),
        sa.Column("user_id", Str(256), nullable=True),
        sa.Column("current_stage", Str(20), nullable=False),
        sa.Column("source", LongText, nullable=False),
        sa.Column("storage_location", LongText, nullable=False),
        sa.Column("run_id", Str(256), nullable=True),
        sa.Column("run_link", Str(500), nullable=True),
        sa.Column("status", Str(20), nullable=False),
        sa.Column("status_message", Str(500), nullable=True),
        sa.Column("model_ref", Str(256), nullable=True),
        sa.UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_index(
        "ix_model_versions_model_updated",
        "model_versions",
        ["model_id", "last_updated_time", "version"],
    )
    op.create_index("ix_model_versions_updated", "model_versions", ["last_updated_time", "id"])
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        _version_fk(),
        sa.Column("key", Str(250), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.PrimaryKeyConstraint("version_id", "key", name="pk_model_version_tags"),
        **_MYSQL,
    )
    op.create_index(
        "ix_model_version_tags_key_value",
        "model_version_tags",
        ["key", "value", "version_id"],
        mysql_length={"value": 200},
    )
    op.create_table(
        "registered_model_aliases",
        _model_fk(),
        sa.Column("alias", Str(255), nullable=False),
        _version_fk(),
        sa.PrimaryKeyConstraint("model_id", "alias", name="pk_registered_model_aliases"),
        **_MYSQL,
    )
    op.create_index(
        "ix_registered_model_aliases_version", "registered_model_aliases", ["version_id"]
    )
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", Str(32), primary_key=True),
        sa.Column("name", Str(256), nullable=False),
        sa.Column("url", Str(2000), nullable=False),
        sa.Column("events", LongText, nullable=False),
        sa.Column("description", LongText, nullable=True),
        sa.Column("secret", Str(1000), nullable=True),
        sa.Column("status", Str(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_webhooks_creation", "webhooks", ["creation_time", "webhook_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", Str(36), primary_key=True),
        sa.Column(
            "webhook_id",
            Str(32),
            sa.ForeignKey("webhooks.webhook_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", Str(64), nullable=False),
        sa.Column("payload", LongText, nullable=False),
        sa.Column("status", Str(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("next_attempt_time", sa.BigInteger, nullable=True),
        sa.Column("claimed_until", sa.BigInteger, nullable=True),
        sa.Column("last_attempt_time", sa.BigInteger, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", Str(1000), nullable=True),
        **_MYSQL,
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_time"]
    )
    op.create_index(
        "ix_webhook_deliveries_webhook",
        "webhook_deliveries",
        ["webhook_id", "creation_time", "delivery_id"],
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("registered_model_aliases")
    op.drop_table("model_version_tags")
    op.drop_table("model_versions")
    op.drop_table("registered_model_tags")
    op.drop_table("registered_models")
