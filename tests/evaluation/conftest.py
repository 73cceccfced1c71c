"""The evaluation tests' store: a fresh SQLite database of each test, made current."""

from __future__ import annotations

import pytest

import mltrail


@pytest.fixture
def store(sqlite_uri: str) -> str:
    mltrail.set_tracking_uri(sqlite_uri)
    return sqlite_uri
