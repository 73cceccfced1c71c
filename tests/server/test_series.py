"""Reduced metric series: the store method, its SQL implementation and both endpoints."""

from __future__ import annotations

import json
import math
import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from tests.server.conftest import Api

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import Metric
from mltrail.server._metrics import PACKED_SERIES_MEDIA_TYPE
from mltrail.store import Backend, open_backend, series_from_histories
from mltrail.store._series import reduce_series
from mltrail.store.sql._metrics import SqlMetrics


def _same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True)
    )


def test_reduce_exact_when_short() -> None:
    s = reduce_series("r", "k", [3, 1, 2], [30, 10, 20], [0.3, 0.1, 0.2], 10)
    assert s.exact
    assert s.count == 3
    assert s.steps == [1, 2, 3]
    assert s.last == [0.1, 0.2, 0.3] == s.min == s.max


def test_reduce_buckets_min_max_last() -> None:
    steps = list(range(100))
    values = [float(i % 10) for i in steps]
    values[55] = math.nan
    s = reduce_series("r", "k", steps, steps, values, 10)
    assert not s.exact
    assert s.count == 100
    assert s.steps == [9, 19, 29, 39, 49, 59, 69, 79, 89, 99]
    assert s.min == [0.0] * 10
    assert s.max == [9.0] * 10
    assert s.last == [9.0] * 10
    ranged = reduce_series("r", "k", steps, steps, values, 4, 10, 29)
    assert ranged.count == 20
    assert ranged.steps == [14, 19, 24, 29]
    assert ranged.min == [0.0, 5.0, 0.0, 5.0]
    assert ranged.max == [4.0, 9.0, 4.0, 9.0]


def test_reduce_same_step_keeps_the_later_point() -> None:
    s = reduce_series("r", "k", [1, 1, 1], [5, 5, 5], [1.0, 2.0, 3.0], 1)
    assert s.last == [3.0]
    assert s.min == [1.0]
    assert s.max == [3.0]


@pytest.fixture
def sql_backend(db_uri: str) -> Iterator[Backend]:
    with open_backend(db_uri) as backend:
        yield backend


def test_sql_matches_the_generic_implementation(sql_backend: Backend) -> None:
    store = sql_backend
    eid = store.experiments.create_experiment("s")
    runs = [store.runs.create_run(eid, "u", 0, [], None).info.run_id for _ in range(3)]
    for n, run_id in enumerate(runs):
        for lo in range(0, 3000, 1000):
            store.runs.log_batch(
                run_id,
                metrics=[
                    Metric("loss", math.nan if i % 97 == 0 else (i * (n + 1)) % 13, i, i)
                    for i in range(lo, lo + 1000)
                ]
                + [
                    Metric("acc", -math.inf if i == 7 else i / 3000, i, i // 2)
                    for i in range(lo, lo + 1000, 3)
                ],
            )
    for args in [
        (50, None, None),
        (5000, None, None),
        (17, 100, 2000),
        (1, 2500, 2500),
        (7, 4000, 5000),
    ]:
        fast = store.metrics.get_metric_series(runs, ["loss", "acc", "missing"], *args)
        slow = series_from_histories(store.metrics, runs, ["loss", "acc", "missing"], *args, True)
        assert [(s.run_id, s.key) for s in fast] == [(s.run_id, s.key) for s in slow]
        for a, b in zip(fast, slow, strict=True):
            assert (a.exact, a.count, a.steps, a.timestamps) == (
                b.exact,
                b.count,
                b.steps,
                b.timestamps,
            )
            assert _same(a.last, b.last)
            assert _same(a.min, b.min)
            assert _same(a.max, b.max)
            assert len(a.steps) <= args[0]
    with pytest.raises(NotFound):
        store.metrics.get_metric_series(["f" * 32], ["loss"])
    with pytest.raises(InvalidArgument, match="start_step"):
        store.metrics.get_metric_series(runs, ["loss"], 10, 5, 1)
    with pytest.raises(InvalidArgument, match="max_buckets"):
        store.metrics.get_metric_series(runs, ["loss"], 0)


def test_series_and_bulk_interval_endpoints(api: Api) -> None:
    eid = api.experiment()
    a, b = api.run(eid)["run_id"], api.run(eid)["run_id"]
    for run_id in (a, b):
        metrics = [{"key": "m", "value": float(i), "timestamp": i, "step": i} for i in range(1000)]
        api.ok(
            "POST", "/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
        )
    series = api.ok(
        "POST",
        "/ajax-api/2.0/mltrail/metrics/series",
        json={
            "run_ids": [a, b],
            "metric_keys": ["m"],
            "max_buckets": 10,
            "start_step": 100,
            "end_step": 199,
        },
    )["series"]
    assert [s["run_id"] for s in series] == [a, b]
    assert series[0]["count"] == 100
    assert not series[0]["exact"]
    assert series[0]["steps"] == list(range(109, 200, 10))
    assert series[0]["min"] == [float(x) for x in range(100, 200, 10)]
    bulk = api.ok(
        "GET",
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={
            "run_ids": [a, b],
            "metric_key": "m",
            "max_results": 10,
            "start_step": 100,
            "end_step": 199,
        },
    )["metrics"]
    assert len(bulk) == 20
    # MLflow's sample: the first point of each of 10 even groups, the last point in place of
    # the last pick (the series endpoint keeps each bucket's last point instead)
    assert [m["step"] for m in bulk if m["run_id"] == a] == [*range(100, 190, 10), 199]
    assert set(bulk[0]) == {"key", "value", "timestamp", "step", "run_id"}
    too_many = api.get(
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": [a] * 101, "metric_key": "m"},
    )
    assert too_many.status_code == 400
    assert "at most 100 run_ids" in too_many.json()["message"]
    bad = api.get(
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": [a], "metric_key": "m", "max_results": 2501},
    )
    assert bad.status_code == 400


def test_series_reads_only_the_chunks_in_range(make_api: Callable[..., Api]) -> None:
    """A long series reduced on the server: the response is small whatever the history."""
    api = make_api()
    rid = api.run(api.experiment())["run_id"]
    for lo in range(0, 20000, 1000):
        metrics = [
            {"key": "m", "value": i, "timestamp": i, "step": i} for i in range(lo, lo + 1000)
        ]
        api.ok("POST", "/api/2.0/mlflow/runs/log-batch", json={"run_id": rid, "metrics": metrics})
    body = api.ok(
        "POST",
        "/api/2.0/mltrail/metrics/series",
        json={"run_ids": [rid], "metric_keys": ["m"], "max_buckets": 100},
    )
    (s,) = body["series"]
    assert s["count"] == 20000
    assert len(s["steps"]) == 100
    assert s["max"][-1] == 19999
    # over 10,000 points too, bulk-interval samples as MLflow does: the first of each of 100
    # even groups, the last point in place of the last pick
    bulk = api.ok(
        "GET",
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": [rid], "metric_key": "m", "max_results": 100},
    )["metrics"]
    assert [m["step"] for m in bulk] == [*range(0, 19800, 200), 19999]


def test_series_fields_pick_the_lists(make_api: Callable[..., Api]) -> None:
    """``fields`` leaves out the lists a chart does not draw; non-finite values still travel."""
    api = make_api()
    rid = api.run(api.experiment())["run_id"]
    metrics = [{"key": "m", "value": float(i), "timestamp": 100 + i, "step": i} for i in range(50)]
    metrics[7]["value"] = "NaN"
    api.ok("POST", "/api/2.0/mlflow/runs/log-batch", json={"run_id": rid, "metrics": metrics})
    url = "/api/2.0/mltrail/metrics/series"
    body = {"run_ids": [rid], "metric_keys": ["m"], "fields": ["last"]}
    (s,) = api.ok("POST", url, json=body)["series"]
    assert set(s) == {"run_id", "key", "exact", "count", "steps", "last"}
    assert s["last"][7] == "NaN"
    assert s["last"][:3] == [0.0, 1.0, 2.0]
    (full,) = api.ok("POST", url, json={"run_ids": [rid], "metric_keys": ["m"]})["series"]
    assert full["timestamps"][:2] == [100, 101]
    assert full["min"] == full["max"] == full["last"]
    bad = api.post(url, json={"run_ids": [rid], "metric_keys": ["m"], "fields": ["nope"]})
    assert bad.status_code == 400
    assert "fields" in bad.json()["message"]


def test_reduce_out_of_order_steps_are_sorted() -> None:
    s = reduce_series("r", "k", [2, 0, 1, 1], [1, 1, 9, 5], [2.0, 0.0, 1.9, 1.5], 10)
    assert s.steps == [0, 1, 1, 2]
    assert s.timestamps == [1, 5, 9, 1]
    assert s.last == [0.0, 1.5, 1.9, 2.0]
    tied = reduce_series("r", "k", [0, 1, 1], [1, 9, 5], [0.0, 1.9, 1.5], 10)
    assert tied.timestamps == [1, 5, 9]


def _check_same(fast: list, slow: list) -> None:  # type: ignore[type-arg]
    assert [(s.run_id, s.key) for s in fast] == [(s.run_id, s.key) for s in slow]
    for a, b in zip(fast, slow, strict=True):
        assert (a.exact, a.count, a.steps, a.timestamps) == (
            b.exact,
            b.count,
            b.steps,
            b.timestamps,
        )
        assert _same(a.last, b.last)
        assert _same(a.min, b.min)
        assert _same(a.max, b.max)


def test_sql_without_timestamps_matches(sql_backend: Backend) -> None:
    """With and without timestamps, the SQL store gives what the generic implementation gives:
    in-order, repeated and out-of-order steps (whose timestamps decide), NaN and infinities,
    step ranges."""
    rng = random.Random(5)
    store = sql_backend
    assert isinstance(store.metrics, SqlMetrics)
    eid = store.experiments.create_experiment("b")
    runs = [store.runs.create_run(eid, "u", 0, [], None).info.run_id for _ in range(6)]
    for n, run_id in enumerate(runs):
        for key in ("a", "b", "c"):
            length = rng.choice([1, 2, 40, 300, 1500])
            steps = list(range(0, length * 3, 3))
            if (n + len(key)) % 4 == 0:
                steps[length // 2] = steps[length // 3]  # a repeated step
            if n == 5 and key == "c":
                rng.shuffle(steps)  # out of order
            values = [
                rng.choice([math.nan, math.inf, -math.inf]) if rng.random() < 0.03 else rng.random()
                for _ in steps
            ]
            stamps = [rng.randrange(1000) for _ in steps]
            for lo in range(0, length, 700):
                store.runs.log_batch(
                    run_id,
                    metrics=[
                        Metric(key, values[i], stamps[i], steps[i])
                        for i in range(lo, min(length, lo + 700))
                    ],
                )
    for args in [(1000, None, None), (10, None, None), (1, None, None), (7, 30, 2000)]:
        slow = series_from_histories(store.metrics, runs, ["c", "a", "b", "zz"], *args, True)
        fast = store.metrics.get_metric_series(runs, ["c", "a", "b", "zz"], *args)
        _check_same(fast, slow)
        bare = store.metrics.get_metric_series(runs, ["c", "a", "b", "zz"], *args, timestamps=False)
        _check_same(bare, [replace(s, timestamps=[]) for s in slow])


def _unpack(body: bytes) -> tuple[dict, list[list[float]]]:  # type: ignore[type-arg]
    assert body[:4] == b"MTS1"
    (length,) = struct.unpack("<I", body[4:8])
    assert (8 + length) % 8 == 0
    header = json.loads(body[8 : 8 + length])
    values = struct.unpack(f"<{(len(body) - 8 - length) // 8}d", body[8 + length :])
    lists, at = [], 0
    for s in header["series"]:
        for _ in header["fields"]:
            lists.append(list(values[at : at + s["length"]]))
            at += s["length"]
    assert at == len(values)
    return header, lists


def test_packed_series_endpoint(make_api: Callable[..., Api]) -> None:
    """series-packed: the JSON endpoint's series as float64 arrays, NaN and infinities as
    IEEE values; the same checks and errors as the JSON endpoint."""
    api = make_api()
    eid = api.experiment()
    a, b = api.run(eid)["run_id"], api.run(eid)["run_id"]
    metrics = [{"key": "m", "value": float(i), "timestamp": 100 + i, "step": i} for i in range(50)]
    metrics[7]["value"] = "NaN"
    metrics[8]["value"] = "-Infinity"
    api.ok("POST", "/api/2.0/mlflow/runs/log-batch", json={"run_id": a, "metrics": metrics})
    api.ok("POST", "/api/2.0/mlflow/runs/log-batch", json={"run_id": b, "metrics": metrics[:5]})
    url = "/ajax-api/2.0/mltrail/metrics/series-packed"
    body = {"run_ids": [a, b], "metric_keys": ["m"], "max_buckets": 10, "fields": ["last"]}
    response = api.post(url, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == PACKED_SERIES_MEDIA_TYPE
    header, lists = _unpack(response.content)
    assert header["fields"] == ["steps", "last"]
    assert [(s["run_id"], s["exact"], s["count"], s["length"]) for s in header["series"]] == [
        (a, False, 50, 10),
        (b, True, 5, 5),
    ]
    json_a = api.ok("POST", url.replace("-packed", ""), json=body)["series"][0]
    assert lists[0] == json_a["steps"]
    assert lists[1] == json_a["last"]
    assert lists[2:] == [[0, 1, 2, 3, 4], [0.0, 1.0, 2.0, 3.0, 4.0]]
    full = {"run_ids": [a], "metric_keys": ["m"], "max_buckets": 100}
    header, lists = _unpack(api.post(url, json=full).content)
    assert header["fields"] == ["steps", "timestamps", "last", "min", "max"]
    _steps, stamps, last, low, high = lists
    assert stamps[:2] == [100, 101]
    assert math.isnan(last[7])
    assert last[8] == -math.inf
    assert _same(low, last)
    assert _same(high, last)
    bad = api.post(url, json={"run_ids": [a], "metric_keys": ["m"], "fields": ["nope"]})
    assert bad.status_code == 400
    assert "fields" in bad.json()["message"]
    missing = api.post(url, json={"run_ids": ["f" * 32], "metric_keys": ["m"]})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api.post(url, json={"metric_keys": ["m"]}).status_code == 400
