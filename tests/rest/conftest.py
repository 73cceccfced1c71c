"""Fixtures of the REST client tests."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from tests.rest._clock import VirtualClock

from mltrail.store.rest import _http


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """Replaces the ``time`` module the REST client's HTTP layer sees (``time.time`` stays)."""
    virtual = VirtualClock()
    monkeypatch.setattr(
        _http,
        "time",
        SimpleNamespace(sleep=virtual.sleep, monotonic=virtual.monotonic, time=time.time),
    )
    return virtual
