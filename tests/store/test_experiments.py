"""Conformance: experiments, on every backend."""

from __future__ import annotations

import pytest

from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound
from mltrail.entities import ExperimentTag, LifecycleStage, ViewType
from mltrail.store import Backend


def test_fresh_store_has_the_default_experiment(store: Backend) -> None:
    exp = store.experiments.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == LifecycleStage.ACTIVE
    assert exp.artifact_location.endswith("/artifacts/0")
    assert exp.artifact_location.startswith("file:///")


def test_create_get_and_tags(store: Backend) -> None:
    eid = store.experiments.create_experiment("exp-a", tags=[ExperimentTag("team", "vision")])
    assert eid != "0"
    exp = store.experiments.get_experiment(eid)
    assert exp.name == "exp-a"
    assert exp.tags == {"team": "vision"}
    assert exp.artifact_location.endswith(f"/{eid}")
    assert exp.creation_time is not None
    assert store.experiments.get_experiment_by_name("exp-a") == exp
    assert store.experiments.get_experiment_by_name("missing") is None


def test_names_are_unique_and_case_sensitive(store: Backend) -> None:
    store.experiments.create_experiment("Name")
    with pytest.raises(AlreadyExists, match="already exists"):
        store.experiments.create_experiment("Name")
    assert (
        store.experiments.create_experiment("name")
        != store.experiments.get_experiment_by_name("Name").experiment_id
    )  # type: ignore[union-attr]


def test_invalid_names_and_ids(store: Backend) -> None:
    with pytest.raises(InvalidArgument, match="experiment name"):
        store.experiments.create_experiment("")
    with pytest.raises(InvalidArgument, match="limit is 500"):
        store.experiments.create_experiment("x" * 501)
    with pytest.raises(NotFound):
        store.experiments.get_experiment("12345")
    with pytest.raises(InvalidArgument, match="must be an integer"):
        store.experiments.get_experiment("abc")


def test_delete_restore_rename(store: Backend) -> None:
    eid = store.experiments.create_experiment("to-delete")
    run = store.runs.create_run(eid, "u", 1, [], "r1")
    store.experiments.delete_experiment(eid)
    assert store.experiments.get_experiment(eid).lifecycle_stage == LifecycleStage.DELETED
    assert store.runs.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(AlreadyExists, match="deleted state"):
        store.experiments.create_experiment("to-delete")
    with pytest.raises(InvalidArgument, match="active"):
        store.runs.create_run(eid, "u", 1, [], None)
    store.experiments.restore_experiment(eid)
    assert store.runs.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    store.experiments.rename_experiment(eid, "renamed")
    assert store.experiments.get_experiment(eid).name == "renamed"
    store.experiments.create_experiment("other")
    with pytest.raises(AlreadyExists):
        store.experiments.rename_experiment(eid, "other")
    with pytest.raises(InvalidArgument, match="cannot be deleted"):
        store.experiments.delete_experiment("0")


def test_experiment_tags_set_overwrite_delete(store: Backend) -> None:
    eid = store.experiments.create_experiment("tags")
    store.experiments.set_experiment_tag(eid, ExperimentTag("k", "v1"))
    store.experiments.set_experiment_tag(eid, ExperimentTag("k", "v2"))
    store.experiments.set_experiment_tag(eid, ExperimentTag("long", "x" * 20000))
    assert store.experiments.get_experiment(eid).tags == {"k": "v2", "long": "x" * 20000}
    with pytest.raises(InvalidArgument, match="limit is 20000"):
        store.experiments.set_experiment_tag(eid, ExperimentTag("long", "x" * 20001))
    store.experiments.delete_experiment_tag(eid, "k")
    assert "k" not in store.experiments.get_experiment(eid).tags
    with pytest.raises(NotFound):
        store.experiments.delete_experiment_tag(eid, "k")


def test_search_experiments_filter_order_and_pages(store: Backend) -> None:
    ids = [
        store.experiments.create_experiment(f"e{i:02d}", tags=[ExperimentTag("i", str(i % 3))])
        for i in range(12)
    ]
    store.experiments.delete_experiment(ids[0])
    active = store.experiments.search_experiments(ViewType.ACTIVE_ONLY)
    assert {e.name for e in active} == {f"e{i:02d}" for i in range(1, 12)} | {"Default"}
    deleted = store.experiments.search_experiments(ViewType.DELETED_ONLY)
    assert [e.name for e in deleted] == ["e00"]
    found = store.experiments.search_experiments(
        filter_string="name LIKE 'e0%' AND tags.i = '1'", order_by=["name DESC"]
    )
    assert [e.name for e in found] == ["e07", "e04", "e01"]
    either = store.experiments.search_experiments(
        filter_string="name = 'e03' OR name = 'e05'", order_by=["name"]
    )
    assert [e.name for e in either] == ["e03", "e05"]
    seen: list[str] = []
    token = None
    while True:
        page = store.experiments.search_experiments(
            max_results=5, order_by=["name ASC"], page_token=token
        )
        seen.extend(e.name for e in page)
        token = page.token
        if token is None:
            break
    assert seen == sorted(["Default"] + [f"e{i:02d}" for i in range(1, 12)])
    with pytest.raises(InvalidArgument, match="page_token"):
        store.experiments.search_experiments(page_token="garbage!!")
