"""Work handed off the caller's thread, finished before anything can observe it half-done.

Autologging returns from the user's ``fit`` once training is over and what it logs is queued:
drawing and uploading the training plots, and ending the run it started, run here, in order,
on one daemon thread.  :func:`wait` returns when everything submitted before it is done; the
tracking client's ``flush`` (and so ``end_run``, every read through the client, and interpreter
exit) calls it, so a script that reads its run after ``fit`` sees the whole run.  Called from
the worker itself (the work logging through the client), it does not wait for itself.

A job that fails is reported on the ``mltrail`` logger by the job's own code or here; it never
stops the jobs after it.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque
from collections.abc import Callable

__all__ = ["submit", "wait"]

_logger = logging.getLogger("mltrail")


class _Worker:
    def __init__(self) -> None:
        self._jobs: deque[Callable[[], None]] = deque()
        self._cond = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._thread: threading.Thread | None = None
        self._exit_hook = False

    def submit(self, job: Callable[[], None]) -> None:
        with self._cond:
            self._jobs.append(job)
            self._submitted += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="mltrail-background", daemon=True
                )
                self._thread.start()
            if not self._exit_hook:
                # Registered after the tracking library's exit handlers (a run exists by now),
                # so it runs before them: the jobs finish while the store still works.
                atexit.register(self.wait)
                self._exit_hook = True
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._jobs:
                    self._cond.wait()
                job = self._jobs.popleft()
            try:
                job()
            except Exception:  # one failed job never stops the ones after it
                _logger.warning("mltrail: background work failed", exc_info=True)
            finally:
                with self._cond:
                    self._done += 1
                    self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the jobs submitted so far (False if *timeout* ran out first)."""
        if threading.current_thread() is self._thread:
            return True
        with self._cond:
            target = self._submitted
            return self._cond.wait_for(lambda: self._done >= target, timeout)


_worker = _Worker()
submit = _worker.submit
wait = _worker.wait
