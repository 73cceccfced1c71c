"""Alembic migrations of the authentication schema (its own chain, see ``_auth_schema``)."""
