"""Conformance: search_runs grammar, ordering and cursor paging, on every backend."""

from __future__ import annotations

import math

import pytest

from mltrail._exceptions import InvalidArgument
from mltrail.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag, ViewType
from mltrail.store import Backend


@pytest.fixture
def runs(store: Backend) -> dict[str, str]:
    """Six runs in experiment 0 and one elsewhere; returns run name -> run id."""
    spec = {
        "a": ({"model": "rf", "depth": "3"}, {"acc": [0.5, 0.9, 0.7]}, {"team": "red"}),
        "b": ({"model": "xgb", "depth": "5"}, {"acc": [0.8]}, {"team": "blue"}),
        "c": ({"model": "rf", "depth": "7"}, {"acc": [0.6, 0.65]}, {"team": "Red"}),
        "d": ({"model": "lr"}, {"acc": [math.nan]}, {}),
        "e": ({"model": "xgb"}, {"acc": [math.inf], "loss": [0.1]}, {"team": "blue"}),
        "f": ({}, {}, {"team": "green"}),
    }
    ids: dict[str, str] = {}
    for i, (name, (params, metrics, tags)) in enumerate(spec.items()):
        rid = store.runs.create_run(
            "0", f"user{i % 2}", 1000 + i, [RunTag(k, v) for k, v in tags.items()], name
        ).info.run_id
        points = [Metric(k, v, 1, s) for k, vs in metrics.items() for s, v in enumerate(vs)]
        store.runs.log_batch(rid, metrics=points, params=[Param(k, v) for k, v in params.items()])
        ids[name] = rid
    other = store.experiments.create_experiment("other")
    ids["z"] = store.runs.create_run(other, "u", 999, [], "z").info.run_id
    store.runs.log_batch(ids["z"], params=[Param("model", "rf")])
    ds = Dataset("iris", "d1", "local", "{}")
    store.runs.log_inputs(
        ids["b"], [DatasetInput(ds, [InputTag("mlflow.data.context", "training")])]
    )
    return ids


def names(
    store: Backend,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    experiment_ids: tuple[str, ...] | None = ("0",),
) -> list[str]:
    found = store.runs.search_runs(
        experiment_ids, filter_string, ViewType.ACTIVE_ONLY, 1000, order_by
    )
    return [r.info.run_name for r in found]


def test_default_order_is_newest_first(store: Backend, runs: dict[str, str]) -> None:
    assert names(store) == ["f", "e", "d", "c", "b", "a"]


def test_equal_start_times_are_ordered_by_run_id(store: Backend) -> None:
    """As MLflow orders them (start_time DESC, then run id ascending), page after page."""
    eid = store.experiments.create_experiment("ties")
    ids = sorted(store.runs.create_run(eid, "u", 1, [], None).info.run_id for _ in range(10))
    late = store.runs.create_run(eid, "u", 2, [], None).info.run_id
    seen, token = [], None
    while True:
        page = store.runs.search_runs([eid], max_results=4, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if not token:
            break
    assert seen == [late, *ids]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.model = 'rf'", {"a", "c"}),
        ("params.model != 'rf'", {"b", "d", "e"}),
        ("params.model IN ('rf', 'lr')", {"a", "c", "d"}),
        ("params.model NOT IN ('rf', 'lr')", {"b", "e"}),
        ("params.depth IS NULL", {"d", "e", "f"}),
        ("params.depth IS NOT NULL", {"a", "b", "c"}),
        ("metrics.acc > 0.66", {"a", "b", "e"}),
        ("metrics.acc >= 0.65 AND metrics.acc < 0.8", {"a", "c"}),
        ("max(metrics.acc) >= 0.9", {"a", "e"}),
        ("min(metrics.acc) <= 0.5", {"a"}),
        ("metrics.loss IS NULL", {"a", "b", "c", "d", "f"}),
        ("tags.team = 'red'", {"a"}),
        ("tags.team LIKE 'r%'", {"a"}),
        ("tags.team ILIKE 'r%'", {"a", "c"}),
        ("tags.team LIKE '%e%'", {"a", "c", "b", "e", "f"}),
        ("params.model = 'rf' OR tags.team = 'blue'", {"a", "b", "c", "e"}),
        ("(params.model = 'rf' OR params.model = 'xgb') AND metrics.acc > 0.7", {"b", "e"}),
        ("NOT params.model = 'rf'", {"b", "d", "e", "f"}),
        ("attributes.run_name IN ('a', 'b')", {"a", "b"}),
        ("run_name NOT IN ('a', 'b', 'c')", {"d", "e", "f"}),
        ("attributes.user_id = 'user1'", {"b", "d", "f"}),
        ("attributes.status = 'RUNNING' AND start_time >= 1004", {"e", "f"}),
        ("datasets.name = 'iris'", {"b"}),
        ("datasets.context = 'training'", {"b"}),
        ("metrics.acc = NaN", {"d"}),
        ("attributes.end_time IS NULL", {"a", "b", "c", "d", "e", "f"}),
        ("attributes.experiment_id = '0' AND params.model = 'rf'", {"a", "c"}),
    ],
)
def test_filters(
    store: Backend, runs: dict[str, str], filter_string: str, expected: set[str]
) -> None:
    assert set(names(store, filter_string)) == expected


def test_experiment_id_filter_across_experiments(store: Backend, runs: dict[str, str]) -> None:
    other = store.experiments.get_experiment_by_name("other")
    assert other is not None
    found = names(store, f"experiment_id IN ('{other.experiment_id}')", experiment_ids=None)
    assert found == ["z"]
    with pytest.raises(InvalidArgument, match="integers"):
        names(store, "experiment_id = 'abc'", experiment_ids=None)


def test_run_id_filter(store: Backend, runs: dict[str, str]) -> None:
    assert names(store, f"attributes.run_id = '{runs['c']}'") == ["c"]
    assert set(names(store, f"run_id IN ('{runs['a']}', '{runs['b']}')")) == {"a", "b"}


def test_order_by_metric_missing_last_both_directions(store: Backend, runs: dict[str, str]) -> None:
    # Latest acc: a 0.7, b 0.8, c 0.65, d NaN, e inf; f has none. NaN and missing go last.
    assert names(store, order_by=["metrics.acc DESC"])[:4] == ["e", "b", "a", "c"]
    assert names(store, order_by=["metrics.acc ASC"])[:4] == ["c", "a", "b", "e"]
    assert set(names(store, order_by=["metrics.acc ASC"])[4:]) == {"d", "f"}
    assert names(store, order_by=["max(metrics.acc) DESC"])[:3] == ["e", "a", "b"]


def test_order_by_param_tag_and_attribute(store: Backend, runs: dict[str, str]) -> None:
    assert names(store, order_by=["params.depth DESC"])[:3] == ["c", "b", "a"]
    assert names(store, order_by=["tags.team ASC", "run_name DESC"]) == [
        "c",
        "e",
        "b",
        "f",
        "a",
        "d",
    ]
    assert names(store, order_by=["attributes.run_name"]) == ["a", "b", "c", "d", "e", "f"]


def test_search_all_experiments(store: Backend, runs: dict[str, str]) -> None:
    assert set(names(store, "params.model = 'rf'", experiment_ids=None)) == {"a", "c", "z"}


def test_view_types(store: Backend, runs: dict[str, str]) -> None:
    store.runs.delete_run(runs["a"])
    assert "a" not in names(store)
    deleted = store.runs.search_runs(["0"], None, ViewType.DELETED_ONLY)
    assert [r.info.run_name for r in deleted] == ["a"]
    assert len(store.runs.search_runs(["0"], None, ViewType.ALL)) == 6


def test_results_carry_whole_runs(store: Backend, runs: dict[str, str]) -> None:
    (run,) = store.runs.search_runs(["0"], "attributes.run_name = 'a'")
    assert run.data.params == {"model": "rf", "depth": "3"}
    assert run.data.metrics == {"acc": 0.7}
    assert run.data.tags["team"] == "red"


def test_cursor_pages_neither_repeat_nor_skip_while_runs_arrive(store: Backend) -> None:
    for i in range(25):
        rid = store.runs.create_run("0", "u", 1000 + i // 3, [], f"r{i:02d}").info.run_id
        store.runs.log_batch(rid, metrics=[Metric("m", float(i % 4), 0, 0)])
    for order in (None, ["metrics.m DESC"], ["run_name ASC"]):
        seen: list[str] = []
        token = None
        extra = 0
        while True:
            page = store.runs.search_runs(["0"], None, ViewType.ACTIVE_ONLY, 4, order, token)
            seen.extend(r.info.run_id for r in page)
            # New runs arrive between pages: newer start times, metric values in the middle.
            rid = store.runs.create_run("0", "u", 5000 + extra, [], f"new{extra}").info.run_id
            store.runs.log_batch(rid, metrics=[Metric("m", 1.5, 0, 0)])
            extra += 1
            token = page.token
            if token is None:
                break
        assert len(seen) == len(set(seen))
        assert len(seen) >= 25


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("metrics.acc >", "position"),
        ("params.model = rf", "position"),
        ("foo.bar = '1'", "position"),
        ("metrics.acc > 1 AND", "position"),
        ("(params.a = '1'", "position"),
    ],
)
def test_malformed_filters_name_the_position(store: Backend, bad: str, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match=fragment):
        store.runs.search_runs(["0"], bad)


def test_bad_max_results_and_token(store: Backend) -> None:
    with pytest.raises(InvalidArgument, match="max_results"):
        store.runs.search_runs(["0"], None, ViewType.ACTIVE_ONLY, 50001)
    with pytest.raises(InvalidArgument, match="page_token"):
        store.runs.search_runs(["0"], None, ViewType.ACTIVE_ONLY, 10, None, "bogus")


def test_key_sort_pages_through_runs_lacking_the_key(store: Backend) -> None:
    """Runs with the sort key come first (by value), then those lacking it or NaN (newest
    first), page after page, exactly as in one page."""
    eid = store.experiments.create_experiment("paged-sort")
    values = [0.5, None, 0.2, math.nan, 0.9, None, 0.2, None]
    for i, v in enumerate(values):
        rid = store.runs.create_run(eid, "u", 1000 + i, [], f"r{i}").info.run_id
        if v is not None:
            store.runs.log_batch(rid, metrics=[Metric("m", v, 0, 0)], params=[Param("p", str(v))])
    for order in (["metrics.m DESC"], ["metrics.m ASC"], ["params.p DESC", "metrics.m ASC"]):
        whole = store.runs.search_runs([eid], None, ViewType.ACTIVE_ONLY, 100, order)
        expected = [r.info.run_name for r in whole]
        for size in (1, 2, 3):
            got, token = [], None
            while True:
                page = store.runs.search_runs([eid], None, ViewType.ACTIVE_ONLY, size, order, token)
                got += [r.info.run_name for r in page]
                token = page.token
                if not token:
                    break
            assert got == expected, (order, size)
    desc = store.runs.search_runs([eid], None, ViewType.ACTIVE_ONLY, 100, ["metrics.m DESC"])
    assert [r.info.run_name for r in desc] == ["r4", "r0", "r6", "r2", "r7", "r5", "r3", "r1"]


def test_dataset_summaries_of_experiments(store: Backend) -> None:
    """Distinct (dataset, context) pairs of the runs' inputs, as MLflow's UI lists them."""
    a = store.experiments.create_experiment("ds-a")
    b = store.experiments.create_experiment("ds-b")
    train = Dataset("iris", "d1", "code", "src")
    other = Dataset("wine", "d2", "code", "src")
    context = [InputTag("mlflow.data.context", "training")]
    for _ in range(2):  # the same pair twice is listed once
        rid = store.runs.create_run(a, "u", 1, [], None).info.run_id
        store.runs.log_inputs(rid, [DatasetInput(train, context), DatasetInput(other)])
    rid = store.runs.create_run(b, "u", 1, [], None).info.run_id
    store.runs.log_inputs(rid, [DatasetInput(train, [InputTag("mlflow.data.context", "eval")])])
    found = {
        (s.experiment_id, s.name, s.digest, s.context)
        for s in store.runs.search_dataset_summaries([a, b])
    }
    assert found == {
        (a, "iris", "d1", "training"),
        (a, "wine", "d2", None),
        (b, "iris", "d1", "eval"),
    }
    assert store.runs.search_dataset_summaries([b])[0].to_dict() == {
        "experiment_id": b,
        "name": "iris",
        "digest": "d1",
        "context": "eval",
    }
    with pytest.raises(InvalidArgument):
        store.runs.search_dataset_summaries(["x"])
