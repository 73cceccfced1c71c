"""The import ledger: what ``mltrail import`` copied from which source, with fingerprints.

Revision ID: 0005_import_ledger
Revises: 0004_logged_models
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql._types import MYSQL_TABLE_ARGS as _MYSQL
from mltrail.store.sql._types import Str

revision = "0005_import_ledger"
down_revision = "0004_logged_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_ledger",
        sa.Column("source_key", Str(255), nullable=False),
        sa.Column("kind", Str(20), nullable=False),
        sa.Column("entity_key", Str(255), nullable=False),
        sa.Column("fingerprint", Str(128), nullable=False),
        sa.Column("target", Str(255), nullable=True),
        sa.PrimaryKeyConstraint("source_key", "kind", "entity_key", name="pk_import_ledger"),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("import_ledger")
