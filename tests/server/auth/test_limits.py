"""The failed-login limiter on its own, with a clock the test moves: N failures within the
window refuse a key until the oldest leaves it, a success clears a user's count, and memory
stays bounded (the oldest keys are dropped first)."""

from __future__ import annotations

import pytest

from mltrail._exceptions import RequestLimitExceeded
from mltrail.server.auth._limits import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_in_the_window_refuse_until_the_oldest_leaves_it() -> None:
    clock = Clock()
    limiter = LoginLimiter(3, 60, clock)
    keys = ["user:sam", "address:10.0.0.1"]
    for _ in range(3):
        limiter.check(keys)
        limiter.failed(keys)
        clock.now += 10
    with pytest.raises(RequestLimitExceeded, match="user 'sam': try again in 30 s"):
        limiter.check(keys)
    limiter.check(["user:other", "address:10.0.0.2"])  # others are not affected
    clock.now += 30  # the first failure (at 1000) has left the 60 s window
    limiter.check(keys)


def test_a_success_clears_its_key_only() -> None:
    limiter = LoginLimiter(2, 60, Clock())
    limiter.failed(["user:sam", "address:10.0.0.1"])
    limiter.failed(["user:sam", "address:10.0.0.1"])
    limiter.succeeded("user:sam")
    limiter.check(["user:sam"])
    with pytest.raises(RequestLimitExceeded, match=r"address '10\.0\.0\.1'"):
        limiter.check(["address:10.0.0.1"])


def test_at_most_max_keys_are_tracked_the_oldest_dropped_first() -> None:
    limiter = LoginLimiter(1, 60, Clock(), max_keys=3)
    for i in range(5):
        limiter.failed([f"address:10.0.0.{i}"])
    assert limiter.tracked() == 3
    limiter.check(["address:10.0.0.0", "address:10.0.0.1"])  # forgotten
    for i in (2, 3, 4):
        with pytest.raises(RequestLimitExceeded):
            limiter.check([f"address:10.0.0.{i}"])
    # a key that fails again counts as the newest: it outlives older ones
    limiter.failed(["address:10.0.0.2"])
    limiter.failed(["address:10.0.0.9"])
    with pytest.raises(RequestLimitExceeded):
        limiter.check(["address:10.0.0.2"])
    limiter.check(["address:10.0.0.3"])
