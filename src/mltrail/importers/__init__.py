"""Bringing another store's history in: MLflow (database, ``mlruns`` folder, tracking server),
TensorBoard log folders, and another mltrail store (``mltrail import ...``).

:func:`run_import` copies a :class:`Source` into a destination backend (see
:mod:`mltrail.importers._importer`); each source implements :class:`Source`.
"""

from __future__ import annotations

from mltrail.importers._importer import (
    ImportOptions,
    ImportReport,
    NoProgress,
    Progress,
    run_import,
)
from mltrail.importers._plan import Conflict, ImportConflict
from mltrail.importers._records import (
    MetricColumns,
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)

__all__ = [
    "Conflict",
    "ImportConflict",
    "ImportOptions",
    "ImportReport",
    "MetricColumns",
    "NoProgress",
    "Progress",
    "RegisteredModelRecord",
    "RunContents",
    "RunHeader",
    "Source",
    "SourceCounts",
    "run_import",
]
