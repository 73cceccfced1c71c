"""Alembic migrations of the SQL store (run by ``mltrail db upgrade``)."""
