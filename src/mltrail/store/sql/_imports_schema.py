"""The import ledger's table, on the tracking schema's ``metadata``.

Design notes:
- one row per (source, kind, entity key): what ``mltrail import`` copied from which source,
  with the fingerprint the entity had then, so a repeated import copies only what changed;
- ``source_key`` is the source's normalised URI or path (a longer one is stored by its
  digest, see :func:`mltrail.store.sql._imports.ledger_source_key`); the three key columns
  together stay under MySQL's 3072-byte index limit in utf8mb4;
- ``target`` is what the entity became here where that is not its own key (an experiment's
  id, a registered model's name) or, for runs and logged models, the number of artifact
  files copied.
"""

from __future__ import annotations

from sqlalchemy import Column, PrimaryKeyConstraint, Table

from mltrail.store.sql._schema import metadata
from mltrail.store.sql._types import MYSQL_TABLE_ARGS, Str

__all__ = ["import_ledger_table"]

import_ledger_table = Table(
    "import_ledger",
    metadata,
    Column("source_key", Str(255), nullable=False),
    Column("kind", Str(20), nullable=False),
    Column("entity_key", Str(255), nullable=False),
    Column("fingerprint", Str(128), nullable=False),
    Column("target", Str(255), nullable=True),
    PrimaryKeyConstraint("source_key", "kind", "entity_key", name="pk_import_ledger"),
    **MYSQL_TABLE_ARGS,
)
