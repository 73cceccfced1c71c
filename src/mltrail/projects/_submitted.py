"""A project run in progress: its process, and the run's status following it.

The command runs in a process group of its own (a new session), so that cancelling ends
the whole tree it started, and Ctrl-C in a terminal reaches ``mltrail run`` alone, which
then cancels it.  A watcher thread waits for the process and records how it ended (the exit
code tag, then FINISHED, FAILED or KILLED); the thread is not a daemon, so a program that
started runs with ``synchronous=False`` waits for them to end before it exits (as MLflow
documents).
"""

from __future__ import annotations

import abc
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

__all__ = ["LocalSubmittedRun", "SubmittedRun"]

_GRACE_S = 10.0  # between SIGTERM and SIGKILL when a run is cancelled

#: Records how the process ended: (exit code, cancelled) -> the run's final status.
OnExit = Callable[[int, bool], str]


class SubmittedRun(abc.ABC):
    """A project run that was started: its run id, and waiting for or cancelling it."""

    @property
    @abc.abstractmethod
    def run_id(self) -> str:
        """The id of the run the project logs into."""

    @abc.abstractmethod
    def wait(self) -> bool:
        """Wait for the run to end; True when its command succeeded."""

    @abc.abstractmethod
    def get_status(self) -> str:
        """RUNNING, or how the run ended: FINISHED, FAILED or KILLED."""

    @abc.abstractmethod
    def cancel(self) -> None:
        """End the run's command (and every process it started) and wait until it is over."""


class LocalSubmittedRun(SubmittedRun):
    """A project's command running as a local process group."""

    def __init__(
        self,
        run_id: str,
        command_proc: subprocess.Popen[bytes],
        on_exit: OnExit,
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        self._run_id = run_id
        self.command_proc = command_proc
        self._on_exit = on_exit
        self._cleanup = cleanup
        self._cancelled = False
        self._status = "RUNNING"
        self._done = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, name=f"mltrail-project-run-{run_id}", daemon=False
        )
        self._watcher.start()

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def exit_code(self) -> int | None:
        """The command's exit code once it ended (negative: killed by that signal)."""
        return self.command_proc.returncode if self._done.is_set() else None

    def _watch(self) -> None:
        code = self.command_proc.wait()
        try:
            self._status = self._on_exit(code, self._cancelled)
        except Exception as exc:  # the store went away: say so, the process's end still counts
            self._status = "KILLED" if self._cancelled else ("FINISHED" if code == 0 else "FAILED")
            print(
                f"mltrail: could not record the end of run {self._run_id}: {exc}",
                file=sys.stderr,
                flush=True,
            )
        finally:
            if self._cleanup is not None:
                with contextlib.suppress(Exception):
                    self._cleanup()
            self._done.set()

    def wait(self) -> bool:
        self._watcher.join()
        return self.command_proc.returncode == 0 and not self._cancelled

    def get_status(self) -> str:
        return self._status if self._done.is_set() else "RUNNING"

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.command_proc.pid, sig)

    def cancel(self) -> None:
        if not self._done.is_set() and self.command_proc.poll() is None:
            self._cancelled = True
            self._signal_group(signal.SIGTERM)
            self._done.wait(_GRACE_S)
            self._signal_group(signal.SIGKILL)  # still running, or what it left in its group
        self._watcher.join()

    def __repr__(self) -> str:
        return f"<LocalSubmittedRun: run_id={self._run_id!r}, status={self.get_status()!r}>"
