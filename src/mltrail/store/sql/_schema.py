"""The SQL schema (SQLAlchemy Core), identical on SQLite, PostgreSQL and MariaDB/MySQL.

Design notes:
- runs have an integer surrogate key ``id`` used by every child table (fast joins);
  ``run_uuid`` is the public id.
- metric points are stored packed: one ``metric_chunks`` row holds many points of one series as
  three little-endian arrays (steps int64, timestamps int64, values float64), so NaN and
  infinities round-trip bit-exactly and a 10^6-point history is read in a few rows.
- ``latest_metrics`` keeps a summary per (run, key): latest, min, max and count, which search,
  sort and the runs table read instead of raw points.  Floats there are split into a sortable
  column (NaN -> NULL, +-Inf -> +-DBL_MAX) and a ``*_special`` code that restores them exactly.
- On MySQL/MariaDB every table uses ``utf8mb4_bin`` so keys and values compare case-sensitively.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    UniqueConstraint,
)

from mltrail.store.sql._types import MYSQL_TABLE_ARGS, Blob, Id, LongText, Str

__all__ = [
    "HEAD_REVISION",
    "dataset_table",
    "experiment_tags_table",
    "experiments_table",
    "input_tags_table",
    "inputs_table",
    "latest_metrics_table",
    "metadata",
    "metric_chunks_table",
    "params_table",
    "runs_table",
    "tags_table",
    "workspace_column",
    "workspaces_table",
]

# The Alembic revision that create_all() corresponds to (see migrations/versions).
HEAD_REVISION = "0006_workspaces"

metadata = MetaData()
_MYSQL = MYSQL_TABLE_ARGS


def _key() -> Column[str]:
    return Column("key", Str(250), nullable=False)


def workspace_column() -> Column[str]:
    """The workspace a row belongs to (``default`` for rows from before workspaces)."""
    return Column("workspace", Str(63), nullable=False, server_default="default")


workspaces_table = Table(
    "workspaces",
    metadata,
    Column("name", Str(63), nullable=False),
    Column("description", LongText, nullable=True),
    Column("default_artifact_root", Str(2000), nullable=True),
    Column("trace_archival_location", Str(2000), nullable=True),
    Column("trace_archival_retention", Str(32), nullable=True),
    PrimaryKeyConstraint("name", name="pk_workspaces"),
    **_MYSQL,
)

experiments_table = Table(
    "experiments",
    metadata,
    Column("experiment_id", Id, primary_key=True, autoincrement=True),
    Column("name", Str(500), nullable=False),
    Column("artifact_location", Str(2000), nullable=False),
    Column("lifecycle_stage", Str(32), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("deleted_time", BigInteger, nullable=True),
    workspace_column(),
    UniqueConstraint("workspace", "name", name="uq_experiments_workspace_name"),
    sqlite_autoincrement=True,
    **_MYSQL,
)

experiment_tags_table = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Id,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    _key(),
    Column("value", LongText, nullable=False),
    PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
    **_MYSQL,
)

runs_table = Table(
    "runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_uuid", Str(256), nullable=False),
    Column(
        "experiment_id",
        Id,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", Str(250), nullable=False),
    Column("user_id", Str(256), nullable=False),
    Column("status", Str(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("lifecycle_stage", Str(20), nullable=False),
    Column("artifact_uri", Str(2000), nullable=False),
    Column("deleted_time", BigInteger, nullable=True),
    UniqueConstraint("run_uuid", name="uq_runs_run_uuid"),
    Index("ix_runs_experiment_start", "experiment_id", "lifecycle_stage", "start_time", "id"),
    Index("ix_runs_start", "start_time", "id"),
    sqlite_autoincrement=True,
    **_MYSQL,
)


def _run_fk() -> Column[int]:
    return Column("run_id", Id, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False)


params_table = Table(
    "params",
    metadata,
    _run_fk(),
    _key(),
    Column("value", LongText, nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_params"),
    Index("ix_params_key_value", "key", "value", "run_id", mysql_length={"value": 200}),
    **_MYSQL,
)

tags_table = Table(
    "tags",
    metadata,
    _run_fk(),
    _key(),
    Column("value", LongText, nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_tags"),
    Index("ix_tags_key_value", "key", "value", "run_id", mysql_length={"value": 200}),
    **_MYSQL,
)

latest_metrics_table = Table(
    "latest_metrics",
    metadata,
    _run_fk(),
    _key(),
    Column("value", Double(), nullable=True),
    Column("special", SmallInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("min_value", Double(), nullable=True),
    Column("min_special", SmallInteger, nullable=False),
    Column("max_value", Double(), nullable=True),
    Column("max_special", SmallInteger, nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "key", name="pk_latest_metrics"),
    Index("ix_latest_metrics_key_value", "key", "value", "run_id"),
    **_MYSQL,
)

metric_chunks_table = Table(
    "metric_chunks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _run_fk(),
    _key(),
    Column("count", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("steps", Blob, nullable=False),
    Column("timestamps", Blob, nullable=False),
    Column("vals", Blob, nullable=False),
    Index("ix_metric_chunks_run_key", "run_id", "key", "id"),
    **_MYSQL,
)

dataset_table = Table(
    "datasets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "experiment_id",
        Id,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", Str(500), nullable=False),
    Column("digest", Str(64), nullable=False),
    Column("source_type", Str(36), nullable=False),
    Column("source", LongText, nullable=False),
    Column("schema", LongText, nullable=True),
    Column("profile", LongText, nullable=True),
    UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets"),
    **_MYSQL,
)

inputs_table = Table(
    "inputs",
    metadata,
    _run_fk(),
    Column("dataset_id", Id, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("run_id", "dataset_id", name="pk_inputs"),
    Index("ix_inputs_dataset", "dataset_id"),
    **_MYSQL,
)

input_tags_table = Table(
    "input_tags",
    metadata,
    _run_fk(),
    Column("dataset_id", Id, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("key", Str(255), nullable=False),
    Column("value", Str(500), nullable=False),
    PrimaryKeyConstraint("run_id", "dataset_id", "key", name="pk_input_tags"),
    **_MYSQL,
)
