"""Datasets used by runs, with input tags.

Revision ID: 0002_datasets
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql._types import MYSQL_TABLE_ARGS as _MYSQL
from mltrail.store.sql._types import Id, LongText, Str

revision = "0002_datasets"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "experiment_id",
            Id,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", Str(500), nullable=False),
        sa.Column("digest", Str(64), nullable=False),
        sa.Column("source_type", Str(36), nullable=False),
        sa.Column("source", LongText, nullable=False),
        sa.Column("schema", LongText, nullable=True),
        sa.Column("profile", LongText, nullable=True),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets"),
        **_MYSQL,
    )
    op.create_table(
        "inputs",
        sa.Column("run_id", Id, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", name="pk_inputs"),
        **_MYSQL,
    )
    op.create_index("ix_inputs_dataset", "inputs", ["dataset_id"])
    op.create_table(
        "input_tags",
        sa.Column("run_id", Id, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", Str(255), nullable=False),
        sa.Column("value", Str(500), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", "key", name="pk_input_tags"),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("input_tags")
    op.drop_table("inputs")
    op.drop_table("datasets")
