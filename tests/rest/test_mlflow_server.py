"""The REST store against MLflow's own tracking server: the wire format is MLflow's.

Starts ``mlflow server`` (the real one, a test dependency) on a free 127.0.0.1 port over a fresh
SQLite file, then drives it through mltrail's RestBackend and fluent API.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests._live_server import start_mlflow_server

import mltrail
from mltrail._exceptions import AlreadyExists, NotFound
from mltrail.entities import ExperimentTag, Metric, Param, RunTag, ViewType
from mltrail.store.rest import RestBackend

pytestmark = pytest.mark.slow


@pytest.fixture
def mlflow_server(tmp_path: Path, free_port: Callable[[], int]) -> Iterator[str]:
    with start_mlflow_server(
        tmp_path, artifacts=tmp_path / "mlflow-artifacts", timeout=120
    ) as server:
        yield server.url


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
