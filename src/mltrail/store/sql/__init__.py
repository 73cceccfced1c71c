"""The SQL tracking store."""

from mltrail.store.sql._store import SqlStore, artifact_root_for

__all__ = ["SqlStore", "artifact_root_for"]
