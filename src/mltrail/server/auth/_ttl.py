"""A small per-process cache whose entries expire after a few seconds.

An authenticating server checks credentials and grants on every request; reading them from the
database each time would cost several queries per call.  Answers are kept for
``auth_cache_ttl_seconds`` (MLflow's key; mltrail's default 2 s, 0 turns caching off): a
revoked token, a changed password or a withdrawn grant is refused by every server process at
most that long after the change, and at once by the process that made it (it drops what the
change touches).  Memory is bounded: at most *max_size* entries, the oldest dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["TtlCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class TtlCache(Generic[K, V]):
    """``get(key, load)``: the cached value of *key*, or ``load()``'s, kept *ttl* seconds."""

    def __init__(
        self, ttl: float, max_size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        if self.ttl <= 0:
            return load()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
        value = load()
        with self._lock:
            self._entries[key] = (now + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (after a change this process made)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
