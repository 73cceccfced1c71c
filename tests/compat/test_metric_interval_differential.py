"""Differential: ``get-history-bulk-interval`` on MLflow's own server and on mltrail's.

The same long series (25,000 points of irregular steps: gaps, several points per step, points
logged out of order, NaN values, values that tie on step and time) are logged over HTTP to a
real ``mlflow server`` (SQLite) and to an mltrail server on SQLite, PostgreSQL and MariaDB;
then the same requests (sizes, step ranges, runs given twice, unknown runs, a metric a run does
not have) must get the same answers, point for point and in the same order.

One deliberate difference is mapped before comparing: MLflow stores an infinite value as
+-1.7976931348623157e308 and answers that; mltrail keeps it and answers ``"Infinity"``
(``docs``: metric values are stored exactly).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._live_server import (
    ThreadedServer,
    start_mlflow_server,
)

from mltrail.server import ServerSettings, create_app

pytestmark = pytest.mark.slow

INTERVAL = "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
MAX_DOUBLE = 1.7976931348623157e308


def _series(seed: int, length: int) -> list[dict[str, Any]]:
    """*length* points with irregular steps, partly logged out of order, no two alike."""
    rng = random.Random(seed)
    points: list[dict[str, Any]] = []
    step = -3
    while len(points) < length:
        step += rng.choice((1, 1, 1, 2, 7, 40))
        stamp = 1_700_000_000_000 + step * 10
        if step % 97 == 0:  # a NaN and a 0 at one step and time: MLflow ranks NaN as 0
            points.append({"key": "", "value": math.nan, "timestamp": stamp, "step": step})
            points.append({"key": "", "value": 0.0, "timestamp": stamp, "step": step})
            continue
        for k in range(rng.choice((1, 1, 1, 2, 3))):  # several points at some steps
            value = round(rng.uniform(-5, 5), 3) + 20 * k  # k 0 and 1 share the time
            if rng.random() < 0.002:
                value = math.inf
            points.append({"key": "", "value": value, "timestamp": stamp + k // 2, "step": step})
    points = points[:length]
    block = points[1000:3000]
    rng.shuffle(block)  # logged out of step order
    points[1000:3000] = block
    return points


#: (run label, metric key, series seed, length)
SERIES = [
    ("a", "loss", 1, 25_000),
    ("a", "acc", 2, 12_000),
    ("b", "loss", 3, 25_000),
    ("c", "loss", 4, 3_000),
]
RUNS = ["a", "b", "c"]


def _requests() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for runs in (["a"], ["a", "b", "c"], ["c", "a", "c"], ["b", "unknown", "a"]):
        for key in ("loss", "acc"):
            for limit in (None, 1, 2, 7, 320, 2500):
                out.append({"runs": runs, "metric_key": key, "max_results": limit})
    for window in ((0, 5000), (-3, -1), (100, 100), (3000, 90_000), (200_000, 300_000)):
        for limit in (None, 3, 100, 2500):
            out.append(
                {
                    "runs": ["a", "b", "c"],
                    "metric_key": "loss",
                    "max_results": limit,
                    "start_step": window[0],
                    "end_step": window[1],
                }
            )
    return out


def _log(url: str, experiment: str) -> dict[str, str]:
    """Create the runs and log every series to the server at *url*; run label -> run id."""
    with httpx.Client(base_url=url, timeout=120) as http:
        eid = http.post(
            "/api/2.0/mlflow/experiments/create", json={"name": experiment}
        ).raise_for_status()
        experiment_id = eid.json()["experiment_id"]
        ids = {}
        for label in RUNS:
            made = http.post(
                "/api/2.0/mlflow/runs/create",
                json={"experiment_id": experiment_id, "start_time": 1},
            ).raise_for_status()
            ids[label] = made.json()["run"]["info"]["run_id"]
        for label, key, seed, length in SERIES:
            points = [{**p, "key": key} for p in _series(seed, length)]
            for at in range(0, len(points), 1000):
                batch = [{**p, "value": _wire(p["value"])} for p in points[at : at + 1000]]
                http.post(
                    "/api/2.0/mlflow/runs/log-batch",
                    json={"run_id": ids[label], "metrics": batch},
                ).raise_for_status()
    return ids


def _wire(value: float) -> float | str:
    """A value as protobuf's JSON writes it: NaN and infinities as strings.  (MLflow's server
    mis-reads the bare ``NaN``/``Infinity`` tokens: it stored a NaN as a point at step 0 and
    time 0, and dropped the rest of the batch after an ``Infinity``.)"""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _ask(url: str, ids: dict[str, str], request: dict[str, Any]) -> Any:
    params: dict[str, Any] = {
        "run_ids": [ids.get(r, "0123456789abcdef0123456789abcdef") for r in request["runs"]],
        "metric_key": request["metric_key"],
    }
    for name in ("max_results", "start_step", "end_step"):
        if request.get(name) is not None:
            params[name] = request[name]
    response = httpx.get(url + INTERVAL, params=params, timeout=120)
    assert response.status_code == 200, (request, response.text)
    labels = {v: k for k, v in ids.items()}
    body = response.json()
    for m in body.get("metrics", []):
        m["run_id"] = labels[m["run_id"]]
        if m["value"] in ("Infinity", "-Infinity"):
            m["value"] = MAX_DOUBLE if m["value"] == "Infinity" else -MAX_DOUBLE
    return body


@pytest.fixture(scope="module")
def mlflow_answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    """MLflow's server's answers to every request of :func:`_requests` (one server for the
    module: it takes seconds to start)."""
    pytest.importorskip("mlflow")
    folder = tmp_path_factory.mktemp("mlflow-interval")
    with start_mlflow_server(folder) as server:
        ids = _log(server.url, "interval")
        yield [_ask(server.url, ids, r) for r in _requests()]


@pytest.fixture
def mltrail_url(
    db_uri: str,
    tmp_path: Path,
    serve: Callable[..., ThreadedServer],
) -> str:
    app = create_app(
        ServerSettings(backend_store_uri=db_uri, default_artifact_root=(tmp_path / "a").as_uri())
    )
    return serve(app).url


def test_the_series_have_what_the_comparison_needs() -> None:
    """The generated series hold each case the comparison is about."""
    points = _series(1, 25_000)
    steps = [p["step"] for p in points]
    assert len(points) == 25_000
    assert len(set(steps)) < len(steps)  # several points at some steps
    assert steps != sorted(steps)  # logged out of order
    assert min(steps) < 0
    assert any(isinstance(p["value"], float) and math.isnan(p["value"]) for p in points)
    assert any(p["value"] == math.inf for p in points)
    same = {(p["step"], p["timestamp"]) for p in points}
    assert len(same) < len(points)  # points that tie on step and time
    for _, _, seed, length in SERIES:
        every = _series(seed, length)
        alike = {(p["step"], p["timestamp"], str(p["value"])) for p in every}
        assert len(alike) == len(every)  # but no two alike (MLflow would keep one)


def test_bulk_interval_picks_what_mlflow_picks(mlflow_answers: list[Any], mltrail_url: str) -> None:
    ids = _log(mltrail_url, "interval")
    requests = _requests()
    for request, theirs in zip(requests, mlflow_answers, strict=True):
        ours = _ask(mltrail_url, ids, request)
        assert ours.get("metrics", []) == theirs.get("metrics", []), request
    # the comparison covers long samples, not only short ones
    assert max(len(a.get("metrics", [])) for a in mlflow_answers) > 5000
