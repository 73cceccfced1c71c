"""``set_system_metrics_*``: the sampling interval, the number of samples averaged into each
logged value, and a node id in the metric names; they set MLflow's environment variables, as
MLflow's functions do (compared with the real ``mlflow``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

import mltrail as mlflow
from mltrail._exceptions import InvalidArgument
from mltrail.tracking import _system_metrics

_VARS = (
    "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL",
    "MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING",
    "MLFLOW_SYSTEM_METRICS_NODE_ID",
)


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    yield
    for name in _VARS:
        os.environ.pop(name, None)


def _settings() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in _VARS}


def test_the_setters_set_what_mlflows_set() -> None:
    import mlflow as real

    calls = [("sampling_interval", 0.5), ("samples_before_logging", 3), ("node_id", "node-1")]
    for name, value in calls:
        getattr(real, f"set_system_metrics_{name}")(value)
    theirs = _settings()
    for name, _ in calls:
        getattr(real, f"set_system_metrics_{name}")(None)
    assert _settings() == dict.fromkeys(_VARS)
    for name, value in calls:
        getattr(mlflow, f"set_system_metrics_{name}")(value)
    assert _settings() == theirs
    for name, _ in calls:
        getattr(mlflow, f"set_system_metrics_{name}")(None)
    assert _settings() == dict.fromkeys(_VARS)


@pytest.mark.parametrize(
    ("setter", "value"),
    [
        ("sampling_interval", 0),
        ("sampling_interval", "fast"),
        ("samples_before_logging", 0),
        ("samples_before_logging", 1.5),
    ],
)
def test_bad_settings_are_refused_naming_the_rule(setter: str, value: object) -> None:
    with pytest.raises(InvalidArgument, match="must be a positive"):
        getattr(mlflow, f"set_system_metrics_{setter}")(value)
    assert _settings() == dict.fromkeys(_VARS)


def _two_points(client: mlflow.MlflowClient, run_id: str, key: str) -> list[Any]:
    """The metric's history once it has two points (the monitor's thread logs them)."""
    deadline = time.monotonic() + 60  # a bound on waiting, not a measured duration
    history: list[Any] = []
    while time.monotonic() < deadline and len(history) < 2:
        time.sleep(0.02)
        mlflow.flush()
        history = client.get_metric_history(run_id, key)
    return history


def test_samples_are_averaged_and_logged_under_the_node_id(sqlite_uri: str) -> None:
    pytest.importorskip("psutil")
    mlflow.set_tracking_uri(sqlite_uri)
    mlflow.set_system_metrics_sampling_interval(0.02)
    mlflow.set_system_metrics_samples_before_logging(3)
    mlflow.set_system_metrics_node_id("node-1")
    client = mlflow.MlflowClient()
    with mlflow.start_run(log_system_metrics=True) as run:
        history = _two_points(client, run.info.run_id, "system/node-1/disk_usage_percentage")
    keys = set(client.get_run(run.info.run_id).data.metrics)
    assert "system/node-1/cpu_utilization_percentage" in keys
    assert not [k for k in keys if k.startswith("system/") and not k.startswith("system/node-1/")]
    assert [m.step for m in history[:2]] == [0, 1]
    assert all(0 <= m.value <= 100 for m in history)


def test_each_logged_value_is_the_mean_of_its_samples(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psutil")
    readings = iter(range(1, 1000))
    monkeypatch.setattr(
        _system_metrics, "sample_system_metrics", lambda: {"gpu_x": float(next(readings))}
    )
    mlflow.set_tracking_uri(sqlite_uri)
    mlflow.set_system_metrics_sampling_interval(0.01)
    mlflow.set_system_metrics_samples_before_logging(3)
    client = mlflow.MlflowClient()
    with mlflow.start_run(log_system_metrics=True) as run:
        history = _two_points(client, run.info.run_id, "system/gpu_x")
    # samples 1, 2, 3 then 4, 5, 6: their means, at steps 0 and 1
    assert [(m.step, m.value) for m in history[:2]] == [(0, 2.0), (1, 5.0)]
