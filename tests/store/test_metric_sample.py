"""``MetricStore.sample_metric_history``: MLflow's get-history-bulk-interval sample.

What MLflow answers is compared in tests/compat/test_metric_interval_differential.py; here the
work the SQL store does for it is counted (statements sent, stored chunks decoded: never a
whole history read point by point), and the REST store's sample (the server's, or from whole
histories beyond the endpoint's limits) is checked against the SQL store's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from tests._visibility import counted_statements

import mltrail.store.sql._series as sql_series
from mltrail.entities import Metric
from mltrail.server import ServerSettings, create_app
from mltrail.store._sample import ntile_firsts, sample_indices
from mltrail.store.rest import RestBackend
from mltrail.store.sql import SqlBackend

BATCH = 1000  # points per log_batch: one stored chunk each


@pytest.fixture
def store(db_uri: str, tmp_path: Any) -> Iterator[SqlBackend]:
    backend = SqlBackend(db_uri, (tmp_path / "a").as_uri())
    try:
        yield backend
    finally:
        backend.close()


def _run(store: SqlBackend) -> str:
    return store.runs.create_run("0", "u", 1, [], None).info.run_id


def _log(store: SqlBackend, run_id: str, points: list[tuple[int, int, float]], key: str) -> None:
    for at in range(0, len(points), BATCH):
        batch = [Metric(key, v, t, s) for s, t, v in points[at : at + BATCH]]
        store.runs.log_batch(run_id, metrics=batch)


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many stored chunks the SQL store decodes (one entry per series, its chunk count)."""
    seen: list[int] = []
    real = sql_series._column

    def counting(parts: list[Any], index: int, dtype: str) -> Any:
        if index == 0:
            seen.append(len(parts))
        return real(parts, index, dtype)

    monkeypatch.setattr(sql_series, "_column", counting)
    return seen


def test_ntile_groups() -> None:
    assert ntile_firsts(10, 4) == [0, 3, 6, 8]  # groups of 3, 3, 2, 2
    assert ntile_firsts(3, 5) == [0, 1, 2]
    assert ntile_firsts(7, 1) == [0]


def test_sample_ranks_nan_as_zero_and_keeps_the_last_point() -> None:
    steps = [5, 1, 1, 1, 2, 3]
    stamps = [0, 7, 7, 7, 0, 0]
    values = [9.0, math.nan, 0.0, -1.0, 4.0, 2.0]
    # order: (1,7,-1) (1,7,0) (1,7,NaN) (2,..) (3,..) (5,..)
    assert sample_indices(steps, stamps, values, 100).tolist() == [3, 2, 1, 4, 5, 0]
    # NTILE(2): first of {(1,7,-1),(1,7,0),(1,7,NaN)} and of {2,3,5}; the last replaces it
    assert sample_indices(steps, stamps, values, 2).tolist() == [3, 0]
    assert sample_indices(steps, stamps, values, 4).tolist() == [3, 1, 5, 0]
    assert sample_indices(steps, stamps, values, 1).tolist() == [0]
    assert sample_indices(steps, stamps, values, 3, 2, 4).tolist() == [4, 5]
    assert sample_indices(steps, stamps, values, 3, 6, 9).tolist() == []


def test_the_sql_store_samples_in_one_query_from_the_chunks_in_range(
    store: SqlBackend, decoded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = [_run(store) for _ in range(3)]
    for n, run_id in enumerate(runs):
        _log(store, run_id, [(s * 2, s, float(s % 17)) for s in range(25_000 - n * 5000)], "m")
        _log(store, run_id, [(s, s, 1.0) for s in range(500)], "other")

    def no_history(*_: Any, **__: Any) -> Any:
        raise AssertionError("the sample read a whole history")

    monkeypatch.setattr(store.metrics, "get_metric_history", no_history)
    metrics = store.metrics
    with counted_statements(store) as statements:
        sample = metrics.sample_metric_history(runs, "m", 320)
    assert len(statements) == 1
    assert decoded == [25, 20, 15]  # every chunk of each run's series, once
    assert [m.run_id for m in sample] == [r for r in runs for _ in range(320)]
    assert [m.step for m in sample[:3]] == [0, 158, 316]  # 25,000 = 40 x 79 + 280 x 78

    decoded.clear()
    with counted_statements(store) as statements:
        window = metrics.sample_metric_history(runs[:1], "m", 10, 20_000, 21_999)
    assert len(statements) == 1
    assert decoded == [1]  # only the chunk of steps 20,000-21,998 (points 10,000-10,999)
    assert [m.step for m in window] == [*range(20_000, 21_800, 200), 21_998]

    decoded.clear()
    with counted_statements(store) as statements:
        twice = metrics.sample_metric_history([runs[2], "unknown", runs[2]], "m", 5)
    assert len(statements) == 1
    assert decoded == [15]
    assert [m.run_id for m in twice] == [runs[2]] * 10
    assert metrics.sample_metric_history(runs, "missing", 5) == []


def test_the_rest_store_samples_as_the_sql_store(
    store: SqlBackend,
    tmp_path: Any,
    asgi_backend: Callable[[Starlette], RestBackend],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = f"sqlite:///{tmp_path / 'served.db'}"
    app = create_app(
        ServerSettings(backend_store_uri=served, default_artifact_root=tmp_path.as_uri())
    )
    rest = asgi_backend(app)
    points = [(s // 3, 100 - s % 5, math.nan if s % 11 == 0 else s / 3) for s in range(3000)]
    pairs = []
    for backend in (store, rest):
        eid = backend.experiments.create_experiment("e")
        run_id = backend.runs.create_run(eid, "u", 1, [], None).info.run_id
        for at in range(0, len(points), BATCH):
            batch = [Metric("m", v, t, s) for s, t, v in points[at : at + BATCH]]
            backend.runs.log_batch(run_id, metrics=batch)
        pairs.append((backend, run_id))

    def shape(sample: list[Metric]) -> list[tuple[int, int, str]]:
        return [(m.step, m.timestamp, repr(m.value)) for m in sample]

    # 2600 is over the endpoint's limit: the REST store samples whole histories itself
    (sql, sql_run), (over_rest, rest_run) = pairs
    histories: list[str] = []
    read_history = over_rest.metrics.get_metric_history

    def counted(run_id: str, key: str, *args: Any, **kwargs: Any) -> Any:
        histories.append(run_id)
        return read_history(run_id, key, *args, **kwargs)

    monkeypatch.setattr(over_rest.metrics, "get_metric_history", counted)
    for limit, window in [(7, None), (2500, None), (1, None), (30, (100, 400)), (2600, None)]:
        start, end = window or (None, None)
        ours = sql.metrics.sample_metric_history([sql_run], "m", limit, start, end)
        theirs = over_rest.metrics.sample_metric_history([rest_run], "m", limit, start, end)
        assert shape(ours) == shape(theirs), (limit, window)
        assert {m.run_id for m in theirs} == {rest_run}
    assert histories == [rest_run]  # only the sample over the endpoint's limit read it whole
