"""Runs that fail end FAILED and leave nothing active: a write refused in the background, a
changed param (refused at the call, as MLflow does), a ``start_run`` that fails half-way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mltrail as mlflow
from mltrail import MlflowClient
from mltrail._exceptions import InvalidArgument, MissingDependency
from mltrail.tracking import _fluent


def _runs() -> list[Any]:
    return list(MlflowClient().search_runs(None, run_view_type="ALL"))


def _changed(key: str, old: str, new: str, run_id: str) -> str:
    return (
        f"Changing param values is not allowed. Param with key='{key}' was already logged with "
        f"value='{old}' for run ID='{run_id}'. Attempted logging new value '{new}'."
    )


# -- a changed param is refused at the call ---------------------------------------------------


def test_a_changed_param_is_refused_at_the_call_and_the_run_goes_on() -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        with pytest.raises(InvalidArgument) as caught:
            mlflow.log_param("lr", 0.2)
        assert caught.value.message == _changed("lr", "0.1", "0.2", run.info.run_id)
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
        with pytest.raises(InvalidArgument, match="key='lr'"):
            mlflow.log_params({"epochs": 3, "lr": 0.3})
        with pytest.raises(InvalidArgument, match="key='lr'"):
            mlflow.log_param("lr", 0.4, synchronous=True)
        mlflow.log_param("lr", 0.1)  # the same value again is fine, as in MLflow
        mlflow.log_metric("loss", 1.0)
    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"lr": "0.1", "epochs": "3"}
    assert stored.data.metrics == {"loss": 1.0}


def test_the_client_refuses_a_changed_param_at_the_call_too() -> None:
    client = MlflowClient()
    run = client.create_run("0")
    client.log_param(run.info.run_id, "depth", 3, synchronous=False)
    with pytest.raises(InvalidArgument) as caught:
        client.log_param(run.info.run_id, "depth", 4, synchronous=False)
    assert caught.value.message == _changed("depth", "3", "4", run.info.run_id)
    client.set_terminated(run.info.run_id)
    assert client.get_run(run.info.run_id).data.params == {"depth": "3"}


def test_params_of_other_runs_do_not_conflict() -> None:
    with mlflow.start_run():
        mlflow.log_param("lr", 0.1)
    with mlflow.start_run() as second:
        mlflow.log_param("lr", 0.2)
    assert mlflow.get_run(second.info.run_id).data.params == {"lr": "0.2"}


# -- a write refused in the background ends the run FAILED ------------------------------------


def test_a_write_refused_in_the_background_ends_the_run_failed_and_is_raised() -> None:
    started: list[str] = []

    def train() -> None:
        with mlflow.start_run() as run:
            started.append(run.info.run_id)
            # Another process (here: another client) logged the param first.
            MlflowClient().log_param(run.info.run_id, "lr", "0.1")
            mlflow.log_param("lr", 0.2)  # not known here: the store refuses it, in the background
            mlflow.log_metric("loss", 1.0)

    with pytest.raises(InvalidArgument) as caught:
        train()
    [run_id] = started
    assert caught.value.message == _changed("lr", "0.1", "0.2", run_id)
    stored = mlflow.get_run(run_id)
    assert stored.info.status == "FAILED"
    assert stored.info.end_time is not None
    assert stored.data.metrics == {"loss": 1.0}  # the other values were stored
    assert mlflow.active_run() is None
    with mlflow.start_run() as after:
        pass
    assert mlflow.get_run(after.info.run_id).info.status == "FINISHED"


def test_end_run_raises_the_refused_write_and_ends_the_run_failed() -> None:
    run = mlflow.start_run()
    MlflowClient().log_param(run.info.run_id, "lr", "0.1")
    mlflow.log_param("lr", 0.2)
    with pytest.raises(InvalidArgument, match="key='lr'"):
        mlflow.end_run()
    assert mlflow.active_run() is None
    assert mlflow.get_run(run.info.run_id).info.status == "FAILED"


def test_a_run_left_open_at_exit_with_a_refused_write_ends_failed_in_one_line(
    tmp_path: Path,
) -> None:
    script = (
        "import mltrail as mlflow\n"
        "run = mlflow.start_run()\n"
        "print(run.info.run_id)\n"
        "mlflow.MlflowClient().log_param(run.info.run_id, 'lr', '0.1')\n"
        "mlflow.log_param('lr', 0.2)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    assert (
        done.stderr
        == f"mltrail: run {run_id} failed at exit: {_changed('lr', '0.1', '0.2', run_id)}\n"
    )
    assert mlflow.get_run(run_id).info.status == "FAILED"


# -- a start_run that fails leaves nothing active and no RUNNING run --------------------------


def test_system_metrics_without_psutil_start_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)
    with pytest.raises(MissingDependency, match=r"pip install 'mltrail\[system-metrics\]'"):
        mlflow.start_run(log_system_metrics=True)
    assert mlflow.active_run() is None
    assert _runs() == []  # refused before a run was created
    with mlflow.start_run() as run:
        pass
    assert mlflow.get_run(run.info.run_id).info.status == "FINISHED"


def test_a_start_failing_after_the_run_was_created_ends_it_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_monitor(run_id: str, client: MlflowClient) -> None:
        raise RuntimeError("the monitor could not start")

    monkeypatch.setattr(_fluent, "start_monitor", broken_monitor)
    with pytest.raises(RuntimeError, match="could not start"):
        mlflow.start_run(log_system_metrics=True)
    assert mlflow.active_run() is None
    [failed] = _runs()
    assert failed.info.status == "FAILED"
    assert failed.info.end_time is not None
    with mlflow.start_run() as run:  # no "already active"
        pass
    assert run.info.run_id != failed.info.run_id
    assert {r.info.status for r in _runs()} == {"FAILED", "FINISHED"}


def test_a_resumed_run_whose_start_fails_ends_failed() -> None:
    with mlflow.start_run() as run:
        pass
    with pytest.raises(InvalidArgument):
        mlflow.start_run(run_id=run.info.run_id, tags={"": "an empty key is refused"})
    assert mlflow.active_run() is None
    assert mlflow.get_run(run.info.run_id).info.status == "FAILED"
