"""The REST store against MLflow's own tracking server: the wire format is MLflow's.

Starts ``mlflow server`` (the real one, a test dependency) on a free 127.0.0.1 port over a fresh
SQLite file, then drives it through mltrail's RestBackend and fluent API.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import mltrail
from mltrail._exceptions import AlreadyExists, NotFound
from mltrail.entities import ExperimentTag, Metric, Param, RunTag, ViewType
from mltrail.store.rest import RestBackend

pytestmark = pytest.mark.slow


@pytest.fixture
def mlflow_server(tmp_path: Path, free_port: Callable[[], int]) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    args = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--artifacts-destination",
        str(tmp_path / "mlflow-artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = (tmp_path / "mlflow-server.log").open("wb")
    # Its own process group: `mlflow server` runs the web server as a child process.
    proc = subprocess.Popen(
        args, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with {proc.returncode}: "
                    + (tmp_path / "mlflow-server.log").read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mlflow server did not answer /health within 120 s")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
        proc.wait(10)
        log.close()


def test_the_rest_store_and_fluent_api_speak_to_mlflows_server(mlflow_server: str) -> None:
    # One test: starting MLflow's server takes seconds (minutes on a busy machine).
    store = RestBackend(mlflow_server)
    try:
        assert store.experiments.get_experiment("0").name == "Default"
        eid = store.experiments.create_experiment("exp", tags=[ExperimentTag("team", "a")])
        assert store.experiments.get_experiment_by_name("exp").tags == {"team": "a"}  # type: ignore[union-attr]
        assert store.experiments.get_experiment_by_name("missing") is None
        with pytest.raises(AlreadyExists):
            store.experiments.create_experiment("exp")
        run = store.runs.create_run(eid, "ann", 1000, [RunTag("t", "1")], "first")
        rid = run.info.run_id
        metrics = [Metric("loss", i / 2, 1000 + i, i) for i in range(1200)]
        store.runs.log_batch(rid, [*metrics, Metric("nan", math.nan, 1, 0)], [Param("p", "1")])
        got = store.runs.get_run(rid)
        assert got.data.params == {"p": "1"}
        assert got.data.metrics["loss"] == 1199 / 2
        assert math.isnan(got.data.metrics["nan"])
        assert store.metrics.get_metric_history(rid, "loss") == metrics
        page = store.runs.search_runs([eid], "metrics.loss > 1", ViewType.ACTIVE_ONLY, 10)
        assert [r.info.run_id for r in page] == [rid]
        info = store.runs.update_run_info(rid, "FINISHED", 5000, None)
        assert (info.status, info.end_time) == ("FINISHED", 5000)
        with pytest.raises(NotFound):
            store.runs.get_run("0" * 32)
    finally:
        store.close()

    mltrail.set_tracking_uri(mlflow_server)
    with mltrail.start_run() as fluent:
        for i in range(1500):
            mltrail.log_metric("acc", i / 1500, step=i)
        mltrail.log_params({"lr": 0.1, "depth": 3})
    history = mltrail.MlflowClient().get_metric_history(fluent.info.run_id, "acc")
    assert [m.step for m in history] == list(range(1500))
    stored = mltrail.get_run(fluent.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"lr": "0.1", "depth": "3"}
