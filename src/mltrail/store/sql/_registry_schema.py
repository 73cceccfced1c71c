"""The model registry's tables, on the tracking schema's ``metadata``.

Design notes:
- registered models have an integer surrogate key ``id`` used by every child table, so a
  rename touches one row.  ``name_key`` is the name after percent-decoding and NFKC
  normalisation; uniqueness is enforced on it, so ``my%20model`` cannot sit beside
  ``my model`` (CVE-2024-3099).
- ``next_version`` numbers versions from 1 per model; numbers of deleted versions are never
  reused (MLflow's behaviour).
- a model version keeps the ``source`` it was registered from and the ``storage_location``
  that source resolved to when it was checked (inside a run's or a model's artifacts).
- aliases reference the version row, so deleting a version drops its aliases.
- webhook deliveries are an outbox: written in the transaction of the event, sent afterwards
  by a background dispatcher, retried with backoff, and kept as the delivery log.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)

from mltrail.store.sql._schema import metadata, workspace_column
from mltrail.store.sql._types import MYSQL_TABLE_ARGS, Id, LongText, Str

__all__ = [
    "model_version_tags_table",
    "model_versions_table",
    "registered_model_aliases_table",
    "registered_model_tags_table",
    "registered_models_table",
    "webhook_deliveries_table",
    "webhooks_table",
]

_MYSQL = MYSQL_TABLE_ARGS

registered_models_table = Table(
    "registered_models",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", Str(256), nullable=False),
    Column("name_key", Str(256), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", LongText, nullable=True),
    Column("next_version", Integer, nullable=False),
    workspace_column(),
    UniqueConstraint("workspace", "name_key", name="uq_registered_models_workspace_name_key"),
    Index("ix_registered_models_name", "name", "id"),
    sqlite_autoincrement=True,
    **_MYSQL,
)


def _model_fk() -> Column[int]:
    return Column(
        "model_id", Id, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False
    )


registered_model_tags_table = Table(
    "registered_model_tags",
    metadata,
    _model_fk(),
    Column("key", Str(250), nullable=False),
    Column("value", LongText, nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_registered_model_tags"),
    Index(
        "ix_registered_model_tags_key_value",
        "key",
        "value",
        "model_id",
        mysql_length={"value": 200},
    ),
    **_MYSQL,
)

model_versions_table = Table(
    "model_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _model_fk(),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", LongText, nullable=True),
    Column("user_id", Str(256), nullable=True),
    Column("current_stage", Str(20), nullable=False),
    Column("source", LongText, nullable=False),
    Column("storage_location", LongText, nullable=False),
    Column("run_id", Str(256), nullable=True),
    Column("run_link", Str(500), nullable=True),
    Column("status", Str(20), nullable=False),
    Column("status_message", Str(500), nullable=True),
    Column("model_ref", Str(256), nullable=True),
    UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),
    Index("ix_model_versions_model_updated", "model_id", "last_updated_time", "version"),
    Index("ix_model_versions_updated", "last_updated_time", "id"),
    Index("ix_model_versions_run_id", "run_id"),
    sqlite_autoincrement=True,
    **_MYSQL,
)

model_version_tags_table = Table(
    "model_version_tags",
    metadata,
    Column("version_id", Id, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False),
    Column("key", Str(250), nullable=False),
    Column("value", LongText, nullable=False),
    PrimaryKeyConstraint("version_id", "key", name="pk_model_version_tags"),
    Index(
        "ix_model_version_tags_key_value",
        "key",
        "value",
        "version_id",
        mysql_length={"value": 200},
    ),
    **_MYSQL,
)

registered_model_aliases_table = Table(
    "registered_model_aliases",
    metadata,
    _model_fk(),
    Column("alias", Str(255), nullable=False),
    Column("version_id", Id, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("model_id", "alias", name="pk_registered_model_aliases"),
    Index("ix_registered_model_aliases_version", "version_id"),
    **_MYSQL,
)

webhooks_table = Table(
    "webhooks",
    metadata,
    Column("webhook_id", Str(32), primary_key=True),
    Column("name", Str(256), nullable=False),
    Column("url", Str(2000), nullable=False),
    Column("events", LongText, nullable=False),
    Column("description", LongText, nullable=True),
    Column("secret", Str(1000), nullable=True),
    Column("status", Str(20), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    workspace_column(),
    Index("ix_webhooks_creation", "creation_time", "webhook_id"),
    **_MYSQL,
)

webhook_deliveries_table = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", Str(36), primary_key=True),
    Column(
        "webhook_id",
        Str(32),
        ForeignKey("webhooks.webhook_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event", Str(64), nullable=False),
    Column("payload", LongText, nullable=False),
    Column("status", Str(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("next_attempt_time", BigInteger, nullable=True),
    Column("claimed_until", BigInteger, nullable=True),
    Column("last_attempt_time", BigInteger, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Str(1000), nullable=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_time"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "creation_time", "delivery_id"),
    **_MYSQL,
)
