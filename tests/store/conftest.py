"""The conformance suite's fixture: a fresh store on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.store import TrackingStore
from mltrail.store.sql import SqlStore


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[TrackingStore]:
    s = SqlStore(db_uri, str(tmp_path / "artifacts"))
    try:
        yield s
    finally:
        s.close()
