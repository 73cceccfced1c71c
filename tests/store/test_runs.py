"""Conformance: runs, params, tags, metrics and datasets, on every backend."""

from __future__ import annotations

import math

import pytest

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import Dataset, DatasetInput, InputTag, LifecycleStage, Metric, Param, RunTag
from mltrail.store import Backend


def _run(store: Backend, name: str | None = "run", experiment_id: str = "0") -> str:
    return store.runs.create_run(experiment_id, "alice", 1000, [RunTag("t", "1")], name).info.run_id


def test_create_and_get_run(store: Backend) -> None:
    run = store.runs.create_run("0", "alice", 1234, [RunTag("a", "b")], "my-run")
    info = run.info
    assert len(info.run_id) == 32
    assert info.run_uuid == info.run_id
    assert (info.run_name, info.user_id, info.status, info.start_time) == (
        "my-run",
        "alice",
        "RUNNING",
        1234,
    )
    assert info.end_time is None
    assert info.lifecycle_stage == LifecycleStage.ACTIVE
    assert info.artifact_uri.endswith(f"/0/{info.run_id}/artifacts")
    got = store.runs.get_run(info.run_id)
    assert got.info == info
    assert got.data.tags == {"a": "b", "mlflow.runName": "my-run"}
    with pytest.raises(NotFound, match="not found"):
        store.runs.get_run("0" * 32)


def test_run_name_generated_and_tag_consistency(store: Backend) -> None:
    run = store.runs.create_run("0", "u", 1, [], None)
    assert run.info.run_name
    assert store.runs.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name
    by_tag = store.runs.create_run("0", "u", 1, [RunTag("mlflow.runName", "from-tag")], None)
    assert by_tag.info.run_name == "from-tag"
    with pytest.raises(InvalidArgument, match="different values"):
        store.runs.create_run("0", "u", 1, [RunTag("mlflow.runName", "a")], "b")


def test_update_run_info_and_rename(store: Backend) -> None:
    rid = _run(store)
    info = store.runs.update_run_info(rid, "FINISHED", 5000, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 5000, "renamed")
    assert store.runs.get_run(rid).data.tags["mlflow.runName"] == "renamed"
    with pytest.raises(InvalidArgument, match="run status"):
        store.runs.update_run_info(rid, "DONE", None, None)


def test_delete_restore_run(store: Backend) -> None:
    rid = _run(store)
    store.runs.delete_run(rid)
    assert store.runs.get_run(rid).info.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(InvalidArgument, match="active"):
        store.runs.log_batch(rid, params=[Param("p", "1")])
    store.runs.restore_run(rid)
    store.runs.log_batch(rid, params=[Param("p", "1")])
    assert store.runs.get_run(rid).data.params == {"p": "1"}


def test_params_are_immutable(store: Backend) -> None:
    rid = _run(store)
    store.runs.log_batch(rid, params=[Param("lr", "0.1"), Param("depth", "3")])
    store.runs.log_batch(rid, params=[Param("lr", "0.1")])  # the same value again is fine
    with pytest.raises(InvalidArgument, match="Changing param values is not allowed"):
        store.runs.log_batch(rid, params=[Param("lr", "0.2"), Param("new", "x")])
    # All or nothing: the batch with the conflict stored nothing.
    assert store.runs.get_run(rid).data.params == {"lr": "0.1", "depth": "3"}
    with pytest.raises(InvalidArgument, match="Duplicate parameter key"):
        store.runs.log_batch(rid, params=[Param("a", "1"), Param("a", "2")])


def test_tags_last_write_wins_and_delete(store: Backend) -> None:
    rid = _run(store)
    store.runs.log_batch(rid, tags=[RunTag("k", "1")])
    store.runs.log_batch(rid, tags=[RunTag("k", "2")])
    assert store.runs.get_run(rid).data.tags["k"] == "2"
    store.runs.delete_tag(rid, "k")
    assert "k" not in store.runs.get_run(rid).data.tags
    with pytest.raises(NotFound, match="No tag"):
        store.runs.delete_tag(rid, "k")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": [Param("p", "x" * 6001)]}, "6001 characters, the limit is 6000"),
        ({"tags": [RunTag("t", "x" * 8001)]}, "8001 characters, the limit is 8000"),
        ({"params": [Param("../up", "1")]}, "unique relative path"),
        ({"params": [Param("bad key!", "1")]}, "may contain only"),
        ({"metrics": [Metric("m", "nan-string", 1, 0)]}, "must be a number"),  # type: ignore[arg-type]
        ({"metrics": [Metric("k" * 251, 1.0, 1, 0)]}, "limit is 250"),
    ],
)
def test_invalid_values_name_the_key_and_rule(store: Backend, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    rid = _run(store)
    with pytest.raises(InvalidArgument, match=message):
        store.runs.log_batch(rid, **kwargs)
    assert store.runs.get_run(rid).data.params == {}


def test_long_values_at_the_limit_are_stored_whole(store: Backend) -> None:
    rid = _run(store)
    store.runs.log_batch(rid, params=[Param("p", "é" * 6000)], tags=[RunTag("t", "x" * 8000)])
    data = store.runs.get_run(rid).data
    assert data.params["p"] == "é" * 6000
    assert data.tags["t"] == "x" * 8000


def test_metrics_latest_history_and_special_values(store: Backend) -> None:
    rid = _run(store)
    points = [
        Metric("loss", v, 100 + i, i)
        for i, v in enumerate([3.0, math.nan, math.inf, -math.inf, 1.5])
    ]
    store.runs.log_batch(rid, metrics=points)
    history = store.metrics.get_metric_history(rid, "loss")
    assert [(m.step, m.timestamp) for m in history] == [(i, 100 + i) for i in range(5)]
    values = [m.value for m in history]
    assert values[0] == 3.0
    assert math.isnan(values[1])
    assert values[2] == math.inf
    assert values[3] == -math.inf
    assert values[4] == 1.5
    assert store.runs.get_run(rid).data.metrics == {"loss": 1.5}
    # An older step does not replace the latest value; a later step does, even if NaN.
    store.runs.log_batch(rid, metrics=[Metric("loss", 9.0, 1, 2)])
    assert store.runs.get_run(rid).data.metrics["loss"] == 1.5
    store.runs.log_batch(rid, metrics=[Metric("loss", math.inf, 1, 10)])
    assert store.runs.get_run(rid).data.metrics["loss"] == math.inf
    assert len(store.metrics.get_metric_history(rid, "loss")) == 7
    assert store.metrics.get_metric_history(rid, "missing") == []


def test_metric_history_paging(store: Backend) -> None:
    rid = _run(store)
    for batch in range(3):
        store.runs.log_batch(
            rid, metrics=[Metric("m", float(batch * 10 + i), 0, batch * 10 + i) for i in range(10)]
        )
    seen: list[int] = []
    token = None
    while True:
        page = store.metrics.get_metric_history(rid, "m", max_results=7, page_token=token)
        assert len(page) <= 7
        seen.extend(m.step for m in page)
        token = page.token
        if token is None:
            break
    assert seen == list(range(30))


def test_log_batch_is_all_or_nothing(store: Backend) -> None:
    rid = _run(store)
    with pytest.raises(InvalidArgument):
        store.runs.log_batch(
            rid,
            metrics=[Metric("good", 1.0, 1, 0)],
            params=[Param("ok", "1")],
            tags=[RunTag("bad/../key", "x")],
        )
    run = store.runs.get_run(rid)
    assert run.data.metrics == {}
    assert run.data.params == {}


def test_datasets_inputs(store: Backend) -> None:
    rid = _run(store)
    ds = Dataset(
        "iris",
        "abc123",
        "local",
        '{"uri": "/data/iris.csv"}',
        '{"mlflow_colspec": []}',
        '{"num_rows": 150}',
    )
    store.runs.log_inputs(rid, [DatasetInput(ds, [InputTag("mlflow.data.context", "training")])])
    store.runs.log_inputs(rid, [DatasetInput(ds, [InputTag("mlflow.data.context", "training")])])
    inputs = store.runs.get_run(rid).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset == ds
    assert inputs[0].tags == [InputTag("mlflow.data.context", "training")]


def test_move_runs_and_hard_delete(store: Backend) -> None:
    eid = store.experiments.create_experiment("target")
    rid = _run(store)
    store.runs.move_runs([rid], eid)
    assert store.runs.get_run(rid).info.experiment_id == eid
    store.runs.log_batch(rid, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "1")])
    store.runs.delete_run(rid)
    assert [r.run_id for r in store.runs.deleted_runs()] == [rid]
    assert store.runs.deleted_runs(older_than_ms=0) == []
    store.runs.hard_delete_run(rid)
    with pytest.raises(NotFound):
        store.runs.get_run(rid)
    store.experiments.delete_experiment(eid)
    assert [e.experiment_id for e in store.experiments.deleted_experiments()] == [eid]
    store.experiments.hard_delete_experiment(eid)
    with pytest.raises(NotFound):
        store.experiments.get_experiment(eid)
