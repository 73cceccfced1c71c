"""Failed-login limits: after N failures within a window, a user or an address is refused
(429) until the oldest failure leaves the window.

The counts live in this process (a server of several processes allows N per process: the
limit slows guessing, it does not need to be exact).  Memory is bounded: at most
:data:`MAX_KEYS` keys are tracked, the oldest dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

from mltrail._exceptions import RequestLimitExceeded

__all__ = ["MAX_KEYS", "LoginLimiter"]

#: The most users and addresses tracked at once.
MAX_KEYS = 100_000


class LoginLimiter:
    """Counts failed logins per key (``user:<name>``, ``address:<ip>``) in a sliding window."""

    def __init__(
        self,
        attempts: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def check(self, keys: Iterable[str]) -> None:
        """RequestLimitExceeded when any of *keys* has used up its failures."""
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.attempts:
                    wait = max(1, int(times[0] + self.window - now + 0.999))
                    kind, _, name = key.partition(":")
                    raise RequestLimitExceeded(
                        f"Too many failed logins for {kind} {name!r}: try again in {wait} s"
                    )

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = deque()
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        """A successful login clears that key's failures (an address's stay counted)."""
        with self._lock:
            self._failures.pop(key, None)

    def tracked(self) -> int:
        with self._lock:
            return len(self._failures)
