"""Non-blocking logging: calls enqueue, a background thread writes batches.

``log_metric``, ``log_param`` and ``set_tag`` through the fluent API return in microseconds;
the worker groups queued values by run and writes each group with one ``log_batch`` (one
transaction, or one HTTP request).  ``flush()`` waits until everything queued before it was
written; end_run, reads through the client and interpreter exit flush.  A failed write is
never swallowed: it is raised by the next call into the logger (or by flush).  A param whose
value differs from the one this logger already took for the run is refused at the call, as
MLflow refuses it (the values are remembered per run until the run is terminated).

A store with request limits (``batch_limits``, e.g. a tracking server's 1000 metrics, 100 params
and 100 tags per ``log-batch``) gets batches cut to them, each stored whole or not at all.  When
the store cannot be reached (after its own retries), the rest of what was taken off the queue
in that round is dropped and the failure is raised: values are never dropped silently.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, RequestLimitExceeded, TemporarilyUnavailable
from mltrail.entities import Metric, Param, RunTag
from mltrail.store._batches import BatchLimits, split_batch

__all__ = ["AsyncLogger", "wait_for_all"]

# Entries are (run_id, kind, payload): kind 0 metric (key, value, timestamp, step), 1 param, 2 tag.
_Entry = tuple[str, int, Any]
MAX_QUEUED = 1_000_000  # back-pressure: a producer waits when this many values are queued
_LINGER_S = 0.05  # after a write, wait this long for more values to accumulate


_Batch = tuple[list[Metric], dict[str, Param], dict[str, RunTag]]
WriteBatch = Callable[[str, Sequence[Metric], Sequence[Param], Sequence[RunTag]], None]


class _Unreachable(Exception):
    """The store could not take a batch for a reason that holds for every batch (it is down)."""


class AsyncLogger:
    def __init__(self, write_batch: WriteBatch, limits: BatchLimits | None = None) -> None:
        self._write_batch = write_batch
        self._limits = limits
        self._queue: deque[_Entry] = deque()
        self._submitted = 0  # entries ever queued
        self._put_lock = threading.Lock()
        self._done = 0  # entries ever taken off the queue and written (or failed)
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._params: dict[str, dict[str, str]] = {}  # run id -> params taken for it
        _live_loggers.add(self)

    # -- producer side ----------------------------------------------------------------------
    def _put(self, entry: _Entry) -> None:
        if self._error is not None:
            self._raise_error()
        if self._thread is None:
            self._start()
        with self._put_lock:
            self._queue.append(entry)
            self._submitted += 1
        if len(self._queue) >= MAX_QUEUED:
            self._wake.set()
            self.flush()

    def log_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        self._put((run_id, 0, Metric(key, value, timestamp, step)))

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self.check_param(run_id, key, value)
        self._put((run_id, 1, Param(key, value)))

    def check_param(self, run_id: str, key: str, value: str) -> None:
        """Refuse a new value for a param this process already logged to the run; remember
        the value otherwise."""
        logged = self._params.get(run_id)
        if logged is None:
            logged = self._params[run_id] = {}
        old = logged.get(key)
        if old is None:
            logged[key] = value
        elif old != value:
            raise InvalidArgument(
                f"Changing param values is not allowed. Param with key='{key}' was already "
                f"logged with value='{old}' for run ID='{run_id}'. Attempted logging new "
                f"value '{value}'."
            )

    def forget_params(self, run_id: str) -> None:
        """Drop what :meth:`check_param` remembers of a run (it was terminated)."""
        self._params.pop(run_id, None)

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._put((run_id, 2, RunTag(key, value)))

    def flush(self) -> None:
        """Wait until everything queued so far is written; raise the first failure."""
        self.wait()
        if self._error is not None:
            self._raise_error()

    def wait(self) -> None:
        """Wait until everything queued so far is written (a failure stays for :meth:`flush`)."""
        target = self._submitted
        if self._done < target and self._thread is not None:
            self._wake.set()
            with self._cond:
                while self._done < target and self._thread.is_alive():
                    self._cond.wait(0.5)

    def pending(self) -> int:
        return self._submitted - self._done

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        assert error is not None
        raise error

    # -- worker side ------------------------------------------------------------------------
    def _start(self) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mltrail-logger", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            if not self._queue:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            taken = self._drain()
            with self._cond:
                self._done += taken
                self._cond.notify_all()
            if not self._wake.is_set():
                self._wake.wait(_LINGER_S)

    def _drain(self) -> int:
        """Write what is queued, grouped per run; returns how many entries were taken."""
        batches: dict[str, _Batch] = {}
        taken = 0
        queue = self._queue
        try:
            while queue:
                run_id, kind, item = queue.popleft()
                taken += 1
                batch = batches.get(run_id)
                if batch is None:
                    batch = batches[run_id] = ([], {}, {})
                if kind == 0:
                    batch[0].append(item)
                elif kind == 1:
                    if item.key in batch[1] and batch[1][item.key].value != item.value:
                        self._write_grouped(run_id, batch)  # let the store report the conflict
                        batch = batches[run_id] = ([], {}, {})
                    batch[1][item.key] = item
                else:
                    batch[2][item.key] = item
            for run_id, batch in batches.items():
                self._write_grouped(run_id, batch)
        except _Unreachable:
            pass  # recorded; the rest of this round is dropped (the error is raised)
        return taken

    def _write_grouped(self, run_id: str, batch: _Batch) -> None:
        self._write_one(run_id, batch[0], list(batch[1].values()), list(batch[2].values()))

    def _write_one(
        self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
    ) -> None:
        if self._limits is None:
            self._write_checked(run_id, metrics, params, tags)
            return
        for m, p, t in split_batch(metrics, params, tags, self._limits):
            self._write_checked(run_id, list(m), list(p), list(t))

    def _write_checked(
        self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
    ) -> None:
        try:
            self._write_batch(run_id, metrics, params, tags)
        except InvalidArgument:
            # A rule broken by one value (say, a changed param) must not cost the others:
            # write the parts on their own so only the offending value fails.
            parts: list[tuple[list[Metric], list[Param], list[RunTag]]] = [
                (metrics, [], []),
                ([], [], tags),
                *(([], [p], []) for p in params),
            ]
            for part in parts:
                if any(part):
                    self._try_write(run_id, *part)
        except BaseException as exc:  # surfaced at the next call or flush
            self._try_failed(exc)

    def _try_write(
        self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
    ) -> None:
        try:
            self._write_batch(run_id, metrics, params, tags)
        except BaseException as exc:
            self._try_failed(exc)

    def _try_failed(self, exc: BaseException) -> None:
        """Record a failure; stop the round when it would fail every other batch too (the
        store is down or refuses all traffic, after its own retries)."""
        self._record(exc)
        if isinstance(exc, (TemporarilyUnavailable, RequestLimitExceeded)):
            raise _Unreachable from exc

    def _record(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = exc

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._closed = True
            self._wake.set()


_live_loggers: weakref.WeakSet[AsyncLogger] = weakref.WeakSet()


def wait_for_all(except_for: AsyncLogger | None = None) -> None:
    """Wait until every logger of the process has written what was queued so far, so that a
    read through any client sees what the fluent API (another client) logged; failures stay
    with their own logger, raised to its owner."""
    for logger in list(_live_loggers):
        if logger is not except_for:
            logger.wait()


def _flush_all_at_exit() -> None:
    for logger in list(_live_loggers):
        try:
            logger.flush()
        except Exception as exc:  # at exit there is nobody left to raise to: report it
            import sys

            print(f"mltrail: values logged at exit could not be stored: {exc}", file=sys.stderr)


atexit.register(_flush_all_at_exit)
