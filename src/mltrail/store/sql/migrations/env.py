"""Alembic environment: runs on the connection handed over by ``mltrail.store.sql._upgrade``.

All pending revisions run in a single transaction, so on PostgreSQL and SQLite an upgrade is
all-or-nothing.  The authentication schema's ``auth_`` tables, which may share the database,
are left out of the comparison: they have their own chain (``auth_migrations``).
"""

from __future__ import annotations

from alembic import context

from mltrail.store.sql._auth_schema import include_tracking_name
from mltrail.store.sql._schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    include_name=include_tracking_name,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
