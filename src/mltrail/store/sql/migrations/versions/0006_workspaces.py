"""Workspaces (MLflow 3.17): a ``workspaces`` table holding the ``default`` workspace, and a
``workspace`` column on experiments, registered models and webhooks (``default`` for every
existing row).  Experiment and registered model names become unique per workspace.

Revision ID: 0006_workspaces
Revises: 0005_import_ledger
"""

from __future__ import annotations

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
    # mltrail.store.sql._upgrade.run_migrations, so child rows are kept); elsewhere, ALTERs.
    with op.batch_alter_table("experiments") as batch:
        batch.add_column(_workspace_column())
        batch.drop_constraint("uq_experiments_name", type_="unique")
        batch.create_unique_constraint("uq_experiments_workspace_name", ["workspace", "name"])
    with op.batch_alter_table("registered_models") as batch:
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
    with op.batch_alter_table("registered_models") as batch:
        batch.drop_constraint("uq_registered_models_workspace_name_key", type_="unique")
        batch.create_unique_constraint("uq_registered_models_name_key", ["name_key"])
        batch.drop_column("workspace")
    with op.batch_alter_table("experiments") as batch:
        batch.drop_constraint("uq_experiments_workspace_name", type_="unique")
        batch.create_unique_constraint("uq_experiments_name", ["name"])
        batch.drop_column("workspace")
    op.drop_table("workspaces")
