"""Alembic environment of the auth chain: runs on the connection ``_auth_open`` hands over.

Its version lives in ``auth_alembic_version`` and it compares only ``auth_`` tables, so it
shares a database with the tracking chain without either touching the other's tables.
"""

from __future__ import annotations

from alembic import context

from mltrail.store.sql._auth_schema import AUTH_VERSION_TABLE, auth_metadata, include_auth_name

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=auth_metadata,
    version_table=AUTH_VERSION_TABLE,
    include_name=include_auth_name,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
