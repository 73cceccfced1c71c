"""Workspaces (MLflow 3.17): a ``workspaces`` table holding the ``default`` workspace, and a
``workspace`` column on experiments, registered models and webhooks (``default`` for every
existing row).  Experiment and registered model names become unique per workspace.

Revision ID: 0006_workspaces
Revises: 0005_import_ledger
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql._types import MYSQL_TABLE_ARGS as _MYSQL
from mltrail.store.sql._types import LongText, Str

revision = "0006_workspaces"
down_revision = "0005_import_ledger"
branch_labels = None
depends_on = None

_DEFAULT = "default"
_DEFAULT_DESCRIPTION = "Default workspace for legacy resources"


def _workspace_column() -> sa.Column[str]:
    return sa.Column("workspace", Str(63), nullable=False, server_default=_DEFAULT)


def _rebuilt(table: str) -> Any:
    return op.batch_alter_table(table, table_kwargs={"sqlite_autoincrement": True})


@contextmanager
def _kept_sequence(table: str) -> Iterator[None]:
    """On SQLite, the table's AUTOINCREMENT high-water mark survives its rebuild."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    query = sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t")
    before = bind.execute(query, {"t": table}).scalar()
    yield
    if before is None:
        return
    after = bind.execute(query, {"t": table}).scalar()
    if after is None:
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)"),
            {"t": table, "s": before},
        )
    elif after < before:
        bind.execute(
            sa.text("UPDATE sqlite_sequence SET seq = :s WHERE name = :t"),
            {"t": table, "s": before},
        )


def upgrade() -> None:
    workspaces = op.create_table(
        "workspaces",
        sa.Column("name", Str(63), nullable=False),
        sa.Column("description", LongText, nullable=True),
        sa.Column("default_artifact_root", Str(2000), nullable=True),
        sa.Column("trace_archival_location", Str(2000), nullable=True),
        sa.Column("trace_archival_retention", Str(32), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_workspaces"),
        **_MYSQL,
    )
    op.bulk_insert(workspaces, [{"name": _DEFAULT, "description": _DEFAULT_DESCRIPTION}])
    # On SQLite each batch rebuilds its table (foreign keys are off during migrations, see
    # mltrail.store.sql._upgrade.run_migrations, so child rows are kept), keeping AUTOINCREMENT
    # and the highest id ever given (a deleted experiment's id is never reused); elsewhere,
    # ALTERs.
    with _kept_sequence("experiments"), _rebuilt("experiments") as batch:
        batch.add_column(_workspace_column())
        batch.drop_constraint("uq_experiments_name", type_="unique")
        batch.create_unique_constraint("uq_experiments_workspace_name", ["workspace", "name"])
    with _kept_sequence("registered_models"), _rebuilt("registered_models") as batch:
        batch.add_column(_workspace_column())
        batch.drop_constraint("uq_registered_models_name_key", type_="unique")
        batch.create_unique_constraint(
            "uq_registered_models_workspace_name_key", ["workspace", "name_key"]
        )
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(_workspace_column())


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("workspace")
    with _kept_sequence("registered_models"), _rebuilt("registered_models") as batch:
        batch.drop_constraint("uq_registered_models_workspace_name_key", type_="unique")
        batch.create_unique_constraint("uq_registered_models_name_key", ["name_key"])
        batch.drop_column("workspace")
    with _kept_sequence("experiments"), _rebuilt("experiments") as batch:
        batch.drop_constraint("uq_experiments_workspace_name", type_="unique")
        batch.create_unique_constraint("uq_experiments_name", ["name"])
        batch.drop_column("workspace")
    op.drop_table("workspaces")
