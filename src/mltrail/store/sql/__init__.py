"""The SQL backend."""

from mltrail.store.sql._backend import SqlBackend, artifact_root_for

__all__ = ["SqlBackend", "artifact_root_for"]
