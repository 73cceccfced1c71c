"""MLflow 3's logged models: models, their tags, params and metrics, and run links.

Revision ID: 0004_logged_models
Revises: 0003_registry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql._types import MYSQL_TABLE_ARGS as _MYSQL
from mltrail.store.sql._types import Id, LongText, Str

revision = "0004_logged_models"
down_revision = "0003_registry"
branch_labels = None
depends_on = None


def _model_fk() -> sa.Column[int]:
    return sa.Column(
        "model_pk", Id, sa.ForeignKey("logged_models.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("model_id", Str(64), nullable=False),
        sa.Column(
            "experiment_id",
            Id,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", Str(500), nullable=False),
        sa.Column("source_run_id", Str(256), nullable=True),
        sa.Column("model_type", Str(500), nullable=True),
        sa.Column("status", Str(20), nullable=False),
        sa.Column("status_message", LongText, nullable=True),
        sa.Column("artifact_location", Str(2000), nullable=False),
        sa.Column("lifecycle_stage", Str(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("model_id", name="uq_logged_models_model_id"),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_index(
        "ix_logged_models_experiment",
        "logged_models",
        ["experiment_id", "lifecycle_stage", "creation_time"],
    )
    op.create_index("ix_logged_models_source_run", "logged_models", ["source_run_id"])
    for name in ("tags", "params"):
        table = f"logged_model_{name}"
        op.create_table(
            table,
            _model_fk(),
            sa.Column("key", Str(255), nullable=False),
            sa.Column("value", LongText, nullable=False),
            sa.PrimaryKeyConstraint("model_pk", "key", name=f"pk_{table}"),
            **_MYSQL,
        )
        op.create_index(
            f"ix_{table}_key_value",
            table,
            ["key", "value", "model_pk"],
            mysql_length={"value": 200},
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _model_fk(),
        sa.Column("key", Str(250), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("special", sa.SmallInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("run_id", Str(256), nullable=False),
        sa.Column("dataset_name", Str(500), nullable=False),
        sa.Column("dataset_digest", Str(64), nullable=False),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_index(
        "ix_logged_model_metrics_model_key",
        "logged_model_metrics",
        ["model_pk", "key", "timestamp", "step"],
    )
    op.create_index(
        "ix_logged_model_metrics_key_value", "logged_model_metrics", ["key", "value", "model_pk"]
    )
    op.create_table(
        "logged_model_run_links",
        sa.Column("run_id", Id, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        _model_fk(),
        sa.Column("kind", Str(10), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "run_id", "model_pk", "kind", "step", name="pk_logged_model_run_links"
        ),
        **_MYSQL,
    )
    op.create_index("ix_logged_model_run_links_model", "logged_model_run_links", ["model_pk"])


def downgrade() -> None:
    op.drop_table("logged_model_run_links")
    op.drop_table("logged_model_metrics")
    op.drop_table("logged_model_params")
    op.drop_table("logged_model_tags")
    op.drop_table("logged_models")
