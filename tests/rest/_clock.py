"""A virtual clock for the REST client's retry tests (fixture ``clock`` in conftest.py)."""

from __future__ import annotations

import time

__all__ = ["VirtualClock"]


class VirtualClock:
    """The REST client's clock, in which ``sleep`` only records what was asked for: retries and
    backoff are checked by the waits requested, never by the seconds a test took."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self._start = time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def monotonic(self) -> float:
        """Time passes only by sleeping (requests take none): retry deadlines are exact."""
        return self._start + sum(self.sleeps)
