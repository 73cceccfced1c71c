"""The official mlflow client against a real ``mltrail server`` process (``server_factory`` and
:class:`ServerProcess` are in tests/_live_server.py, for the whole suite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests._live_server import ServerProcess

MLFLOW_WARNINGS = (
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore::PendingDeprecationWarning",
    "ignore::ResourceWarning",
)


@pytest.fixture
def mlflow_server(
    server_factory: Callable[..., ServerProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ServerProcess]:
    """A server with the default store in its folder; MLFLOW_TRACKING_URI points at it.

    MLflow's fluent state (active run, active experiment, tracking URI) is reset afterwards so
    the next test, against another server, starts clean.
    """
    server = server_factory(cwd=tmp_path / "srv")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    import mlflow
    import mlflow.tracking._tracking_service.utils as tracking_utils
    import mlflow.tracking.fluent as fluent

    mlflow.set_tracking_uri(server.url)
    try:
        yield server
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        fluent._active_experiment_id = None
        tracking_utils._tracking_uri = None
