"""The official mlflow client (MLFLOW_TRACKING_URI) against a real ``mltrail server``."""

from __future__ import annotations

import functools
import hashlib
import operator
import os
import threading
import time
from pathlib import Path

import pytest
from tests._live_server import ServerProcess
from tests.compat.conftest import MLFLOW_WARNINGS

pytestmark = [pytest.mark.filterwarnings(w) for w in MLFLOW_WARNINGS]


def test_experiments(mlflow_server: ServerProcess) -> None:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient()
    eid = mlflow.create_experiment("compat-exp", tags={"team": "a"})
    exp = client.get_experiment(eid)
    assert exp.name == "compat-exp"
    assert exp.tags["team"] == "a"
    assert exp.artifact_location == f"mlflow-artifacts:/{eid}"
    assert client.get_experiment_by_name("compat-exp").experiment_id == eid
    client.rename_experiment(eid, "renamed")
    client.set_experiment_tag(eid, "k", "v")
    client.delete_experiment_tag(eid, "team")
    exp = client.get_experiment(eid)
    assert exp.name == "renamed"
    assert exp.tags == {"k": "v"}
    client.delete_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "deleted"
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [eid]
    client.restore_experiment(eid)
    found = mlflow.search_experiments(filter_string="name = 'renamed'")
    assert [e.experiment_id for e in found] == [eid]
    assert client.get_experiment_by_name("missing") is None


def test_runs_and_logging(mlflow_server: ServerProcess, tmp_path: Path) -> None:
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient()
    mlflow.set_experiment("runs")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"beta": 1, "gamma": "x"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
        mlflow.set_tag("team", "a")
        mlflow.set_tags({"x": "1"})
        dataset = mlflow.data.from_pandas(pd.DataFrame({"a": [1.0, 2.0]}), name="train-set")
        mlflow.log_input(dataset, context="training")
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("batch", float(i), 1000 + i, i) for i in range(1000)],
        params=[Param("p", "v")],
        tags=[RunTag("t", "w")],
    )
    got = client.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "first"
    assert got.data.params == {"alpha": "0.5", "beta": "1", "gamma": "x", "p": "v"}
    assert got.data.metrics["loss"] == 0.2
    assert got.data.metrics["batch"] == 999.0
    assert got.data.tags["team"] == "a"
    assert got.data.tags["t"] == "w"
    assert got.inputs.dataset_inputs[0].dataset.name == "train-set"
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(i, 1.0 / (i + 1)) for i in range(5)]
    assert len(client.get_metric_history(run_id, "batch")) == 1000

    client.set_terminated(run_id, "KILLED")
    assert client.get_run(run_id).info.status == "KILLED"
    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"
    client.delete_tag(run_id, "x")
    assert "x" not in client.get_run(run_id).data.tags
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    with pytest.raises(mlflow.exceptions.MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        client.get_run("0" * 32)


def test_search_runs_filters_order_and_paging(mlflow_server: ServerProcess) -> None:
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    eid = mlflow.create_experiment("search")
    ids = []
    for i in range(7):
        run = client.create_run(eid, run_name=f"r{i}", tags={"parity": str(i % 2)})
        client.log_metric(run.info.run_id, "score", float(i))
        client.log_param(run.info.run_id, "i", str(i))
        ids.append(run.info.run_id)
    found = client.search_runs(
        [eid], "metrics.score >= 2 and tags.parity = '0'", order_by=["metrics.score DESC"]
    )
    assert [r.info.run_id for r in found] == [ids[6], ids[4], ids[2]]
    pages, token = [], None
    while True:
        page = client.search_runs([eid], order_by=["params.i ASC"], max_results=3, page_token=token)
        pages.append([r.info.run_id for r in page])
        token = page.token
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert functools.reduce(operator.iadd, pages, []) == ids
    frame = mlflow.search_runs([eid], filter_string="attributes.run_name = 'r3'")
    assert list(frame["run_id"]) == [ids[3]]
    client.delete_run(ids[0])
    assert len(client.search_runs([eid])) == 6


def test_artifacts_through_the_proxy(mlflow_server: ServerProcess, tmp_path: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "nested" / "b.txt").write_text("beta")
    mlflow.set_experiment("artifacts")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(source / "a.txt"))
        mlflow.log_artifacts(str(source), artifact_path="dir")
        mlflow.log_dict({"k": 1}, "conf/d.json")
        mlflow.log_text("hello", "notes.txt")
    client = MlflowClient()
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert [f.path for f in client.list_artifacts(run_id)] == ["a.txt", "conf", "dir", "notes.txt"]
    assert [f.path for f in client.list_artifacts(run_id, "dir")] == ["dir/a.txt", "dir/nested"]
    local = client.download_artifacts(run_id, "dir", str(tmp_path / "down"))
    assert (Path(local) / "nested" / "b.txt").read_text() == "beta"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/conf/d.json") == {"k": 1}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes.txt") == "hello"
    stored = tmp_path / "srv" / "mltrail-artifacts" / run.info.experiment_id / run_id / "artifacts"
    assert (stored / "dir" / "nested" / "b.txt").read_text() == "beta"


def test_sklearn_autolog(mlflow_server: ServerProcess) -> None:
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("autolog")
    mlflow.sklearn.autolog(log_models=False)
    try:
        features, labels = load_iris(return_X_y=True)
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=300).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = mlflow.get_run(run.info.run_id)
    assert got.data.params["max_iter"] == "300"
    assert got.data.metrics["training_accuracy_score"] > 0.9
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    names = [f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id)]
    assert "training_confusion_matrix.png" in names


class _RssWatcher(threading.Thread):
    def __init__(self, server: ServerProcess) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.05)


@pytest.mark.slow
def test_one_gigabyte_artifact_each_way(mlflow_server: ServerProcess, tmp_path: Path) -> None:
    """1 GiB up and down through the proxy; the server's memory stays flat."""
    import mlflow
    from mlflow import MlflowClient

    size = 1 << 30
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(big, "wb") as out:
        for i in range(size >> 20):
            chunk = block[i % 1024 :] + block[: i % 1024]
            digest.update(chunk)
            out.write(chunk)
    baseline = mlflow_server.rss_mb()
    watcher = _RssWatcher(mlflow_server)
    watcher.start()
    try:
        mlflow.set_experiment("big")
        with mlflow.start_run() as run:
            started = time.perf_counter()
            mlflow.log_artifact(str(big))
            upload_s = time.perf_counter() - started
        started = time.perf_counter()
        local = MlflowClient().download_artifacts(run.info.run_id, "big.bin", str(tmp_path / "d"))
        download_s = time.perf_counter() - started
    finally:
        watcher.done.set()
        watcher.join()
    down = hashlib.sha256()
    with open(local, "rb") as stream:
        while chunk := stream.read(1 << 20):
            down.update(chunk)
    assert down.hexdigest() == digest.hexdigest()
    print(
        f"\n1 GiB through the proxy: up {size / upload_s / 1e6:.0f} MB/s ({upload_s:.1f} s), "
        f"down {size / download_s / 1e6:.0f} MB/s ({download_s:.1f} s); server RSS "
        f"{baseline:.0f} MB before, {watcher.peak:.0f} MB peak"
    )
    assert watcher.peak < baseline + 100, (baseline, watcher.peak)
