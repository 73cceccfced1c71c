"""The fluent API as MLflow scripts use it, with ``import mltrail as mlflow``."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import pytest

import mltrail as mlflow
from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.tracking import _background


def test_zero_config_store_in_the_working_directory(tmp_path: Path) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("learning_rate", 0.01)
        mlflow.log_metric("accuracy", 0.95)
    assert (tmp_path / "mltrail.db").exists()
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'mltrail.db'}"
    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.end_time is not None
    assert stored.info.end_time >= stored.info.start_time
    assert stored.data.params == {"learning_rate": "0.01"}
    assert stored.data.metrics == {"accuracy": 0.95}
    assert stored.info.artifact_uri.startswith((tmp_path / "mltrail-artifacts").as_uri())


def test_tracking_uri_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///from-env.db")
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", "sqlite:///ours.db")
    assert mlflow.get_tracking_uri().endswith("/ours.db")
    mlflow.set_tracking_uri("sqlite:///explicit.db")
    assert mlflow.get_tracking_uri().endswith("/explicit.db")


def test_set_experiment_by_name_and_id_and_seed_style_tags() -> None:
    mlflow.create_experiment("My Experiment")
    mlflow.set_experiment_tag("My Experiment", "owner", "user1")  # seed 004's form
    exp = mlflow.set_experiment("My Experiment")
    assert exp.tags == {"owner": "user1"}
    mlflow.set_experiment_tag("stage", "dev")  # MLflow's form: the active experiment
    mlflow.set_experiment_tags({"a": "1"})
    assert mlflow.get_experiment(exp.experiment_id).tags == {
        "owner": "user1",
        "stage": "dev",
        "a": "1",
    }
    created = mlflow.set_experiment("brand new")
    assert mlflow.get_experiment_by_name("brand new") == created
    assert mlflow.set_experiment(experiment_id=exp.experiment_id).name == "My Experiment"
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == exp.experiment_id
    names = {e.name for e in mlflow.list_experiments()}
    assert names == {"Default", "My Experiment", "brand new"}
    with pytest.raises(InvalidArgument):
        mlflow.set_experiment()


def test_experiment_lifecycle_by_name() -> None:
    eid = mlflow.create_experiment("gone")
    mlflow.delete_experiment("gone")  # seed 004 deletes by name
    assert mlflow.get_experiment(eid).lifecycle_stage == "deleted"
    mlflow.restore_experiment(eid)
    mlflow.rename_experiment(eid, "back")
    assert mlflow.get_experiment(eid).name == "back"
    with pytest.raises(NotFound):
        mlflow.delete_experiment("never existed")


def test_run_statuses_failed_and_killed() -> None:
    with pytest.raises(ValueError, match="boom"), mlflow.start_run() as failed:
        raise ValueError("boom")
    assert mlflow.get_run(failed.info.run_id).info.status == "FAILED"
    with pytest.raises(KeyboardInterrupt), mlflow.start_run() as killed:
        raise KeyboardInterrupt
    assert mlflow.get_run(killed.info.run_id).info.status == "KILLED"
    assert mlflow.active_run() is None


def test_nested_runs_resume_and_description() -> None:
    with mlflow.start_run(run_name="parent", description="the **parent**") as parent:
        with pytest.raises(InvalidArgument, match="already active"):
            mlflow.start_run()
        with mlflow.start_run(nested=True, run_name="child") as child:
            assert mlflow.active_run() is child
        assert mlflow.active_run() is parent
    child_run = mlflow.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert mlflow.get_run(parent.info.run_id).data.tags["mlflow.note.content"] == "the **parent**"
    with mlflow.start_run(run_id=parent.info.run_id) as resumed:
        assert resumed.info.status == "RUNNING"
        mlflow.log_metric("after_resume", 1.0)
    assert mlflow.get_run(parent.info.run_id).data.metrics == {"after_resume": 1.0}
    last = mlflow.last_active_run()
    assert last is not None
    assert last.info.run_id == parent.info.run_id


def test_logging_without_a_run_starts_one() -> None:
    mlflow.log_metric("m", 1.0)
    run = mlflow.active_run()
    assert run is not None
    mlflow.end_run()
    assert mlflow.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_metrics_steps_timestamps_and_special_values() -> None:
    with mlflow.start_run() as run:
        for step in range(100):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics(
            {"nan": math.nan, "inf": math.inf, "neg": -math.inf}, step=3, timestamp=42
        )
    client = mlflow.MlflowClient()
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == list(range(100))
    assert history[-1].value == 0.01
    (nan,) = client.get_metric_history(run.info.run_id, "nan")
    assert math.isnan(nan.value)
    assert nan.timestamp == 42
    assert nan.step == 3
    metrics = mlflow.get_run(run.info.run_id).data.metrics
    assert metrics["inf"] == math.inf
    assert metrics["neg"] == -math.inf


def test_params_tags_and_errors_surface_at_next_call() -> None:
    with mlflow.start_run() as run:
        mlflow.log_params({"a": 1, "b": "two"})
        mlflow.set_tags({"t1": "x", "t2": None})
        mlflow.set_tag("t3", 3)
        mlflow.delete_tag("t1")
        with pytest.raises(InvalidArgument, match="Changing param values"):
            mlflow.log_param("a", 2)  # changed value: refused at the call, as in MLflow
        mlflow.log_metric("still", 1.0)
    data = mlflow.get_run(run.info.run_id).data
    assert data.params == {"a": "1", "b": "two"}
    assert data.tags["t2"] == ""
    assert data.tags["t3"] == "3"
    assert "t1" not in data.tags
    assert data.metrics == {"still": 1.0}


def test_invalid_input_is_refused_at_the_call() -> None:
    with mlflow.start_run():
        with pytest.raises(InvalidArgument, match="must be a number"):
            mlflow.log_metric("m", "high")
        with pytest.raises(InvalidArgument, match="limit is 6000"):
            mlflow.log_param("p", "x" * 6001)
        with pytest.raises(InvalidArgument, match="key"):
            mlflow.set_tag("../etc", "x")
        with pytest.raises(InvalidArgument, match="step"):
            mlflow.log_metric("m", 1.0, step=1.5)  # type: ignore[arg-type]


def test_automatic_run_context() -> None:
    with mlflow.start_run() as run:
        pass
    tags = mlflow.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"]
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.name"]
    assert tags["mlflow.runName"] == run.info.run_name
    assert run.info.user_id == tags["mlflow.user"]


def test_search_runs_dataframe_and_list() -> None:
    mlflow.set_experiment("My Experiment")
    for i in range(5):
        with mlflow.start_run(run_name=f"r{i}"):
            mlflow.log_param("i", i)
            mlflow.log_metric("f1_score", i / 4)
            mlflow.log_metric("precision_score", 1 - i / 10)
    df = mlflow.search_runs(
        experiment_names=["My Experiment"],
        filter_string="metrics.f1_score > 0.3",
        order_by=["metrics.precision_score DESC"],
    )
    assert list(df["params.i"]) == ["2", "3", "4"]
    for column in ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"):
        assert column in df.columns
    assert str(df["start_time"].dtype).startswith("datetime64")
    assert list(df["metrics.f1_score"]) == [0.5, 0.75, 1.0]
    assert list(df["tags.mlflow.runName"]) == ["r2", "r3", "r4"]
    runs = mlflow.search_runs(output_format="list", order_by=["params.i ASC"], max_results=2)
    assert [r.data.params["i"] for r in runs] == ["0", "1"]
    everywhere = mlflow.search_runs(search_all_experiments=True)
    assert len(everywhere) == 5
    empty = mlflow.search_runs(experiment_ids=["0"])
    assert len(empty) == 0
    assert "run_id" in empty.columns


def test_seed_client_style_best_run() -> None:
    for loss in (0.3, 0.123, 0.5):
        with mlflow.start_run():
            mlflow.log_metric("val_loss", loss)
    client = mlflow.tracking.MlflowClient()
    best_run = client.search_runs("0", order_by=["metrics.val_loss ASC"], max_results=1)[0]
    assert best_run.data.metrics == {"val_loss": 0.123}
    assert mlflow.Client is mlflow.MlflowClient
    from mltrail.client import MlflowClient

    assert MlflowClient is mlflow.MlflowClient


def test_artifacts_text_dict_and_files(tmp_path: Path) -> None:
    src = tmp_path / "data"
    src.mkdir()
    (src / "a.txt").write_text("hello")
    (src / "sub").mkdir()
    (src / "sub" / "b.txt").write_text("world")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(src / "a.txt"))
        mlflow.log_artifacts(str(src), artifact_path="copy")
        mlflow.log_text("some text", "notes/readme.txt")
        mlflow.log_dict({"x": [1, 2]}, "config.yaml")
        mlflow.log_dict({"x": [1, 2]}, "config.json")
        uri = mlflow.get_artifact_uri()
    assert uri == run.info.artifact_uri
    client = mlflow.MlflowClient()
    top = {f.path: f.is_dir for f in client.list_artifacts(run.info.run_id)}
    assert top == {
        "a.txt": False,
        "copy": True,
        "notes": True,
        "config.yaml": False,
        "config.json": False,
    }
    local = client.download_artifacts(run.info.run_id, "copy", str(tmp_path / "out"))
    assert Path(local, "sub", "b.txt").read_text() == "world"
    text = client.download_artifacts(run.info.run_id, "config.yaml", str(tmp_path / "out2"))
    assert "x:" in Path(text).read_text()


def test_log_input_dataset_from_pandas() -> None:
    import pandas as pd

    df = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    dataset = mlflow.data.from_pandas(df, name="train", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    (used,) = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert used.dataset.name == "train"
    assert used.dataset.digest == dataset.digest
    assert [(t.key, t.value) for t in used.tags] == [("mlflow.data.context", "training")]
    found = mlflow.search_runs(filter_string="datasets.context = 'training'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    with pytest.raises(InvalidArgument, match="log_input"):
        mlflow.log_input(df)


def test_values_are_durable_after_end_run_in_another_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import mltrail as mlflow\n"
        "with mlflow.start_run() as run:\n"
        "    for i in range(5000):\n"
        "        mlflow.log_metric('m', i, step=i)\n"
        "print(run.info.run_id)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    run_id = out.stdout.strip()
    history = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mltrail.db'}").get_metric_history(
        run_id, "m"
    )
    assert len(history) == 5000
    assert history[-1].value == 4999


def test_values_logged_without_end_run_survive_interpreter_exit(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import mltrail as mlflow\n"
        "run = mlflow.start_run()\n"
        "mlflow.log_metric('m', 7.0)\n"
        "print(run.info.run_id)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    run = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mltrail.db'}").get_run(out.stdout.strip())
    assert run.data.metrics == {"m": 7.0}


def test_log_figure_and_image(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import plotly.graph_objects as go

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with mlflow.start_run() as run:
        mlflow.log_figure(fig, "plots/line.png")
        mlflow.log_figure(go.Figure(data=[go.Bar(y=[1, 2])]), "plots/bar.html")
        mlflow.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "images/black.png")
        mlflow.log_image(np.ones((4, 4)), key="mask", step=3)
    plt.close(fig)
    client = mlflow.MlflowClient()
    plots = {f.path for f in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {"plots/line.png", "plots/bar.html"}
    png = Path(client.download_artifacts(run.info.run_id, "plots/line.png", str(tmp_path / "d")))
    assert png.read_bytes().startswith(b"\x89PNG")
    assert [f.path for f in client.list_artifacts(run.info.run_id, "images")] == [
        "images/black.png",
        "images/mask",
    ]
    assert [f.path for f in client.list_artifacts(run.info.run_id, "images/mask")] == [
        "images/mask/step_3.png"
    ]


def test_a_run_answers_to_mlflows_private_names_too() -> None:
    """MLflow's own examples read ``run._info.run_id``; every part of a run is there."""
    with mlflow.start_run() as run:
        assert run._info.run_id == run.info.run_id
        assert run._data is run.data
        assert run._inputs is run.inputs
        assert run._outputs is run.outputs
    stored = mlflow.get_run(run.info.run_id)
    assert stored._info.status == "FINISHED"
    assert stored._data.tags == stored.data.tags


def test_another_client_reads_what_the_fluent_api_queued() -> None:
    """Values the fluent API queued in the background are visible to any client's reads."""
    with mlflow.start_run() as run:
        mlflow.log_metrics({f"m{i}": float(i) for i in range(200)})
        mlflow.log_param("alpha", "0.5")
        seen = mlflow.MlflowClient().get_run(run.info.run_id).data
        assert len(seen.metrics) == 200
        assert seen.params == {"alpha": "0.5"}


def test_logging_an_artifact_does_not_wait_for_background_work() -> None:
    """Autologging logs estimator.html while its plots are drawn in the background: the upload
    goes ahead at once, while reads of the run's artifacts wait for the background work."""
    release = threading.Event()
    finished = threading.Event()

    def plots() -> None:
        release.wait(60)
        finished.set()

    with mlflow.start_run() as run:
        _background.submit(plots)
        mlflow.log_text("<html/>", "estimator.html")  # would wait for `plots` if it flushed
        assert not finished.is_set()
        release.set()
        paths = [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)]
        assert finished.is_set()  # the listing waited for the background work
        assert paths == ["estimator.html"]
