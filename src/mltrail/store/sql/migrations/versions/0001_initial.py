"""Experiments, runs, params, tags and metrics.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql._types import MYSQL_TABLE_ARGS as _MYSQL
from mltrail.store.sql._types import Blob, Id, LongText, Str

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _run_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("run_id", Id, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", Str(500), nullable=False),
        sa.Column("artifact_location", Str(2000), nullable=False),
        sa.Column("lifecycle_stage", Str(32), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            Id,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", Str(250), nullable=False),
        sa.Column("value", LongText, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
        **_MYSQL,
    )
    op.create_table(
        "runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("run_uuid", Str(256), nullable=False),
        sa.Column(
            "experiment_id",
            Id,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", Str(250), nullable=False),
        sa.Column("user_id", Str(256), nullable=False),
        sa.Column("status", Str(20), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("lifecycle_stage", Str(20), nullable=False),
        sa.Column("artifact_uri", Str(2000), nullable=False),
        sa.Column("deleted_time", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("run_uuid", name="uq_runs_run_uuid"),
        sqlite_autoincrement=True,
        **_MYSQL,
    )
    op.create_index(
        "ix_runs_experiment_start", "runs", ["experiment_id", "lifecycle_stage", "start_time", "id"]
    )
    op.create_index("ix_runs_start", "runs", ["start_time", "id"])
    for name in ("params", "tags"):
        op.create_table(
            name,
            _run_fk(),
            sa.Column("key", Str(250), nullable=False),
            sa.Column("value", LongText, nullable=False),
            sa.PrimaryKeyConstraint("run_id", "key", name=f"pk_{name}"),
            **_MYSQL,
        )
        op.create_index(
            f"ix_{name}_key_value", name, ["key", "value", "run_id"], mysql_length={"value": 200}
        )
    op.create_table(
        "latest_metrics",
        _run_fk(),
        sa.Column("key", Str(250), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("special", sa.SmallInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("min_value", sa.Double(), nullable=True),
        sa.Column("min_special", sa.SmallInteger, nullable=False),
        sa.Column("max_value", sa.Double(), nullable=True),
        sa.Column("max_special", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
        **_MYSQL,
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value", "run_id"])
    op.create_table(
        "metric_chunks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _run_fk(),
        sa.Column("key", Str(250), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("min_step", sa.BigInteger, nullable=False),
        sa.Column("max_step", sa.BigInteger, nullable=False),
        sa.Column("steps", Blob, nullable=False),
        sa.Column("timestamps", Blob, nullable=False),
        sa.Column("vals", Blob, nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_metric_chunks_run_key", "metric_chunks", ["run_id", "key", "id"])


def downgrade() -> None:
    for name in (
        "metric_chunks",
        "latest_metrics",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(name)
