"""The official mlflow client against a real ``mltrail server`` process (``server_factory`` and
:class:`ServerProcess` are in tests/_live_server.py, for the whole suite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._live_server import ServerProcess

MLFLOW_WARNINGS = (
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore::PendingDeprecationWarning",
    "ignore::ResourceWarning",
)


@pytest.fixture(autouse=True)
def _mlflow_writes_its_default_requirements(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's save_model and log_model infer pip requirements by loading the model again in a
    new Python process (seconds per model, most of these tests' time).  What is under test here
    is the model and the wire, not MLflow's requirements: it writes its flavor's default list
    instead, as it does when inference fails."""
    import mlflow.models

    def defaults(model_uri: str, flavor: str, fallback: Any = None, **_: Any) -> list[str]:
        return list(fallback or [])

    monkeypatch.setattr(mlflow.models, "infer_pip_requirements", defaults)


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
