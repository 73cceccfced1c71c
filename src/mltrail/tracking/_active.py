"""Process state of the fluent API: the active experiment, the per-thread stack of active runs."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from mltrail.entities import Run, RunStatus

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from mltrail.tracking._client import MlflowClient

__all__ = ["ActiveRun", "run_stack", "state"]


class ActiveRun(Run):
    """The run a ``with start_run():`` block works in; ends it when the block exits.

    It ends FINISHED, FAILED if the block raised, KILLED on KeyboardInterrupt, through the
    fluent API's ``end_run``, which the fluent API hands it (this module sits below the fluent API).
    """

    __slots__ = ("_end_run", "client")
    client: MlflowClient
    _end_run: Callable[[str], None]

    def __init__(self, run: Run, client: MlflowClient, end_run: Callable[[str], None]) -> None:
        object.__setattr__(self, "info", run.info)
        object.__setattr__(self, "data", run.data)
        object.__setattr__(self, "inputs", run.inputs)
        object.__setattr__(self, "outputs", run.outputs)
        object.__setattr__(self, "client", client)
        object.__setattr__(self, "_end_run", end_run)

    @classmethod
    def from_dictionary(cls, the_dict: dict[str, Any]) -> Run:  # type: ignore[override]
        """A plain :class:`Run` from a run's dictionary (an active run needs a live client)."""
        return Run.from_dictionary(the_dict)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        if any(r.info.run_id == self.info.run_id for r in run_stack()):
            self._end_run(RunStatus.to_string(status))

    def __repr__(self) -> str:
        return f"<ActiveRun: run_id={self.info.run_id!r}, run_name={self.info.run_name!r}>"


class _State:
    """The fluent API's process-wide settings."""

    def __init__(self) -> None:
        self.experiment_id: str | None = None
        self.last_run_id: str | None = None
        self.last_client: MlflowClient | None = None
        self.local = threading.local()

    def env_experiment(self) -> tuple[str | None, str | None]:
        """(id, name) from MLTRAIL_/MLFLOW_ EXPERIMENT_ID and EXPERIMENT_NAME."""
        eid = os.environ.get("MLTRAIL_EXPERIMENT_ID") or os.environ.get("MLFLOW_EXPERIMENT_ID")
        name = os.environ.get("MLTRAIL_EXPERIMENT_NAME") or os.environ.get("MLFLOW_EXPERIMENT_NAME")
        return eid, name


state = _State()


def run_stack() -> list[ActiveRun]:
    stack: Any = getattr(state.local, "stack", None)
    if stack is None:
        stack = state.local.stack = []
    return stack  # type: ignore[no-any-return]
