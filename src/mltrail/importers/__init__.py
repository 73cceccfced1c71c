"""Bringing another store's history in: MLflow (database, ``mlruns`` folder, tracking server),
TensorBoard log folders, and another mltrail store (``mltrail import ...``)."""

from __future__ import annotations

from mltrail.importers._records import (
    MetricColumns,
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)

__all__ = [
    "MetricColumns",
    "RegisteredModelRecord",
    "RunContents",
    "RunHeader",
    "Source",
    "SourceCounts",
]
