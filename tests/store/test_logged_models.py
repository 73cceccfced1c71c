"""Conformance: MLflow 3's logged models on every backend (SQLite, PostgreSQL, MariaDB, REST)."""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import Metric
from mltrail.entities._logged_model import (
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
)
from mltrail.store import Backend
from mltrail.store._logged_models_base import LoggedModelStore


def _lm(store: Backend) -> LoggedModelStore:
    return store.logged_models


def _run(store: Backend, experiment_id: str) -> str:
    return store.runs.create_run(experiment_id, "u", 1_000, [], None).info.run_id


def _create_apart(lm: LoggedModelStore, experiment_id: str, **kwargs: Any) -> LoggedModel:
    """Create a logged model, then wait until the clock has passed its creation millisecond.

    Models created in the same millisecond tie on the creation time and are then ordered by
    their random ids (as MLflow's are), so tests of the newest-first order space them apart.
    """
    model = lm.create_logged_model(experiment_id, **kwargs)
    while time.time_ns() // 1_000_000 <= model.creation_timestamp:
        time.sleep(0.001)
    return model


def test_create_get_finalize_delete(store: Backend) -> None:
    lm = _lm(store)
    eid = store.experiments.create_experiment("lm")
    run_id = _run(store, eid)
    model = lm.create_logged_model(
        eid,
        name="model",
        source_run_id=run_id,
        tags={"team": "a"},
        params={"alpha": "0.5"},
        model_type="sklearn",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.status == LoggedModelStatus.PENDING
    assert (model.name, model.experiment_id, model.source_run_id) == ("model", eid, run_id)
    assert (model.tags, model.params, model.model_type) == (
        {"team": "a"},
        {"alpha": "0.5"},
        "sklearn",
    )
    assert model.artifact_location.endswith(f"/{eid}/models/{model.model_id}/artifacts")
    assert model.creation_timestamp == model.last_updated_timestamp > 0
    assert lm.get_logged_model(model.model_id) == model

    ready = lm.finalize_logged_model(model.model_id, "LOGGED_MODEL_READY")
    assert ready.status == LoggedModelStatus.READY
    assert lm.finalize_logged_model(model.model_id, "FAILED").status == LoggedModelStatus.FAILED

    unnamed = lm.create_logged_model(eid)
    assert unnamed.name
    assert unnamed.source_run_id is None
    assert unnamed.tags == {}

    lm.delete_logged_model(model.model_id)
    with pytest.raises(NotFound, match="not found"):
        lm.get_logged_model(model.model_id)
    assert lm.get_logged_model(model.model_id, allow_deleted=True).model_id == model.model_id
    with pytest.raises(NotFound):
        lm.delete_logged_model(model.model_id)


def test_errors(store: Backend) -> None:
    lm = _lm(store)
    eid = store.experiments.create_experiment("lm-errors")
    with pytest.raises(NotFound):
        lm.get_logged_model("m-" + "0" * 32)
    with pytest.raises(InvalidArgument, match="model_id"):
        lm.get_logged_model("bad id!")
    with pytest.raises(InvalidArgument, match="name"):
        lm.create_logged_model(eid, name="a/b")
    with pytest.raises(NotFound):
        lm.create_logged_model("12345")
    # a source run tracked elsewhere is kept as given, as MLflow keeps it
    assert lm.create_logged_model(eid, source_run_id="f" * 32).source_run_id == "f" * 32
    model = lm.create_logged_model(eid, params={"p": "1"})
    with pytest.raises(InvalidArgument, match="status"):
        lm.finalize_logged_model(model.model_id, "DONE")
    with pytest.raises(InvalidArgument, match="param"):
        lm.log_logged_model_params(model.model_id, {"p": "2"})
    with pytest.raises(NotFound, match="tag"):
        lm.delete_logged_model_tag(model.model_id, "missing")
    store.experiments.delete_experiment(eid)
    with pytest.raises(InvalidArgument, match="active"):
        lm.create_logged_model(eid)


def test_tags_and_params(store: Backend) -> None:
    lm = _lm(store)
    eid = store.experiments.create_experiment("lm-tags")
    model = lm.create_logged_model(eid, tags={"a": "1"}, params={"p": "1"})
    lm.set_logged_model_tags(model.model_id, {"a": "2", "b/c": "x"})
    lm.delete_logged_model_tag(model.model_id, "b/c")
    lm.log_logged_model_params(model.model_id, {"p": "1", "q": "2"})  # same value again: fine
    got = lm.get_logged_model(model.model_id)
    assert got.tags == {"a": "2"}
    assert got.params == {"p": "1", "q": "2"}
    assert got.last_updated_timestamp >= model.last_updated_timestamp


def test_linked_metrics_and_run_links(store: Backend) -> None:
    lm = _lm(store)
    eid = store.experiments.create_experiment("lm-metrics")
    run_id = _run(store, eid)
    model = lm.create_logged_model(eid, source_run_id=run_id)
    store.runs.log_batch(run_id, metrics=[Metric("acc", 0.5, 10, 0)])
    lm.log_model_metrics(
        run_id,
        [
            # a copy of the run's point: linked, not stored twice in the run
            LoggedModelMetric("acc", 0.5, 10, 0, model_id=model.model_id),
            LoggedModelMetric("acc", 0.5, 10, 0, model_id=model.model_id),
            LoggedModelMetric("loss", math.nan, 11, 1, model_id=model.model_id, dataset_name="val"),
        ],
    )
    assert [(p.value, p.step) for p in store.metrics.get_metric_history(run_id, "acc")] == [
        (0.5, 0)
    ]
    loss = store.metrics.get_metric_history(run_id, "loss")
    assert len(loss) == 1
    assert math.isnan(loss[0].value)
    got = lm.get_logged_model(model.model_id)
    assert [(m.key, m.step, m.run_id, m.dataset_name) for m in got.metrics] == [
        ("acc", 0, run_id, None),
        ("loss", 1, run_id, "val"),
    ]
    assert math.isnan(got.metrics[1].value)
    with pytest.raises(NotFound):
        lm.log_model_metrics(run_id, [LoggedModelMetric("x", 1.0, 1, 0, model_id="m-" + "1" * 32)])

    other = lm.create_logged_model(eid)
    lm.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])
    lm.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])  # once only
    lm.log_model_inputs(run_id, [LoggedModelInput(other.model_id)])
    run = store.runs.get_run(run_id)
    assert run.outputs.model_outputs == [LoggedModelOutput(model.model_id, 3)]
    assert run.inputs.model_inputs == [LoggedModelInput(other.model_id)]
    # runs/search carries them too (as MLflow's does), for the runs that have them
    bare = _run(store, eid)
    found = {r.info.run_id: r for r in store.runs.search_runs([eid], max_results=10)}
    assert found[run_id].outputs.model_outputs == [LoggedModelOutput(model.model_id, 3)]
    assert found[run_id].inputs.model_inputs == [LoggedModelInput(other.model_id)]
    assert found[bare].outputs.model_outputs == []
    assert found[bare].inputs.model_inputs == []


def test_search_filters(store: Backend) -> None:
    lm = _lm(store)
    eid = store.experiments.create_experiment("lm-search")
    other_eid = store.experiments.create_experiment("lm-search-other")
    run_id = _run(store, eid)
    a = _create_apart(lm, eid, name="a", params={"lr": "0.1"}, tags={"t": "x"})
    b = _create_apart(lm, eid, name="b", source_run_id=run_id, model_type="torch")
    c = _create_apart(lm, other_eid, name="c")
    lm.finalize_logged_model(b.model_id, "READY")
    lm.log_model_metrics(
        run_id,
        [
            LoggedModelMetric("acc", 0.7, 1, 0, model_id=a.model_id, dataset_name="train"),
            LoggedModelMetric("acc", 0.9, 2, 1, model_id=a.model_id, dataset_name="val"),
            LoggedModelMetric("acc", 0.8, 3, 0, model_id=b.model_id, dataset_name="val"),
        ],
    )

    def names(filter_string: str | None = None, **kwargs: object) -> list[str]:
        page = lm.search_logged_models([eid], filter_string, **kwargs)  # type: ignore[arg-type]
        return [m.name for m in page]

    assert names() == ["b", "a"]  # newest first
    assert [m.name for m in lm.search_logged_models([eid, other_eid])] == ["c", "b", "a"]
    assert names("name = 'a'") == ["a"]
    assert names(f"model_id = '{b.model_id}'") == ["b"]
    assert names("status = 'READY'") == ["b"]
    assert names("status = 'LOGGED_MODEL_PENDING'") == ["a"]
    assert names(f"source_run_id = '{run_id}'") == ["b"]
    assert names("model_type = 'torch'") == ["b"]
    assert names("params.lr = '0.1'") == ["a"]
    assert names("tags.t LIKE 'x%'") == ["a"]
    assert names("tags.t IS NULL") == ["b"]
    assert names("metrics.acc > 0.85") == ["a"]  # any of its values
    assert names("metrics.acc >= 0.8 AND name != 'a'") == ["b"]
    assert names("max(metrics.acc) < 0.85") == ["b"]
    assert names("name = 'a' OR name = 'b'") == ["b", "a"]
    assert names("creation_time > 0") == ["b", "a"]
    assert names("metrics.acc > 0.85", datasets=[{"dataset_name": "train"}]) == []
    assert names(datasets=[{"dataset_name": "train"}]) == ["a"]
    with pytest.raises(InvalidArgument):
        lm.search_logged_models([eid], "metrics.acc LIKE 'x'")
    with pytest.raises(InvalidArgument):
        lm.search_logged_models([eid], "nonsense = 1")
    lm.delete_logged_model(a.model_id)
    assert names() == ["b"]
    assert c.model_id not in {m.model_id for m in lm.search_logged_models([eid])}


def test_search_order_and_pages(store: Backend) -> None:
    lm = _lm(store)
    eid = store.experiments.create_experiment("lm-order")
    run_id = _run(store, eid)
    ids = []
    for i, value in enumerate([0.3, 0.9, None, 0.5]):
        model = _create_apart(lm, eid, name=f"m{i}")
        ids.append(model.model_id)
        if value is not None:
            lm.log_model_metrics(
                run_id, [LoggedModelMetric("acc", value, i, 0, model_id=model.model_id)]
            )

    def order(*items: object) -> list[str]:
        return [m.name for m in lm.search_logged_models([eid], order_by=list(items))]  # type: ignore[arg-type]

    assert order({"field_name": "metrics.acc", "ascending": False}) == ["m1", "m3", "m0", "m2"]
    assert order({"field_name": "metrics.acc"}) == ["m0", "m3", "m1", "m2"]  # missing last
    assert order("name DESC") == ["m3", "m2", "m1", "m0"]
    assert order({"field_name": "creation_timestamp", "ascending": True})[0] == "m0"
    with pytest.raises(InvalidArgument):
        order({"field_name": "params.x"})

    seen: list[str] = []
    token = None
    while True:
        page = lm.search_logged_models(
            [eid],
            max_results=3,
            order_by=[{"field_name": "metrics.acc", "ascending": False}],
            page_token=token,
        )
        seen.extend(m.name for m in page)
        token = page.token
        if token is None:
            break
    assert seen == ["m1", "m3", "m0", "m2"]
    with pytest.raises(InvalidArgument, match="page_token"):
        lm.search_logged_models([eid], page_token="garbage")
    with pytest.raises(InvalidArgument, match="max_results"):
        lm.search_logged_models([eid], max_results=0)


def test_permanent_deletes_take_links_and_models(store: Backend) -> None:
    from mltrail._exceptions import NotImplementedYet
    from mltrail.store.rest import RestBackend

    lm = _lm(store)
    eid = store.experiments.create_experiment("lm-gc")
    run_id = _run(store, eid)
    model = lm.create_logged_model(eid, source_run_id=run_id, tags={"a": "1"}, params={"p": "1"})
    lm.log_model_metrics(run_id, [LoggedModelMetric("x", 1.0, 1, 0, model_id=model.model_id)])
    lm.log_outputs(run_id, [LoggedModelOutput(model.model_id)])
    store.runs.delete_run(run_id)
    if isinstance(store, RestBackend):
        with pytest.raises(NotImplementedYet):  # gc works on the database only
            store.runs.hard_delete_run(run_id)
        with pytest.raises(NotImplementedYet):
            lm.hard_delete_logged_model(model.model_id)
        with pytest.raises(NotImplementedYet):
            lm.deleted_logged_models()
        return
    with pytest.raises(InvalidArgument, match="is not deleted"):
        lm.hard_delete_logged_model(model.model_id)
    assert lm.deleted_logged_models() == []
    gone = lm.create_logged_model(eid, tags={"t": "1"}, params={"p": "2"})
    lm.delete_logged_model(gone.model_id)
    assert [m.model_id for m in lm.deleted_logged_models()] == [gone.model_id]
    assert lm.deleted_logged_models(older_than_ms=gone.creation_timestamp - 1) == []
    lm.hard_delete_logged_model(gone.model_id)
    with pytest.raises(NotFound):
        lm.get_logged_model(gone.model_id, allow_deleted=True)
    assert lm.deleted_logged_models() == []
    store.runs.hard_delete_run(run_id)  # the run goes, with its links; the model stays
    assert lm.get_logged_model(model.model_id).source_run_id == run_id
    store.experiments.delete_experiment(eid)
    store.experiments.hard_delete_experiment(eid)
    with pytest.raises(NotFound):
        lm.get_logged_model(model.model_id, allow_deleted=True)
