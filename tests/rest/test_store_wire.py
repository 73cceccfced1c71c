"""What RestBackend puts on the wire: MLflow's endpoints, JSON shapes and request limits.

A recording Starlette app on 127.0.0.1 answers each path with a scripted JSON object (or the
next of several) and keeps every request, so the tests can check the exact requests sent.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mltrail._exceptions import EndpointNotFound, InvalidArgument, MltrailError, PayloadTooLarge
from mltrail.entities import Metric, Param, RunTag, ViewType
from mltrail.store.rest import HttpConfig, RestBackend

API = "/api/2.0/mlflow/"
RUN_INFO = {
    "run_id": "a" * 32,
    "run_uuid": "a" * 32,
    "experiment_id": "0",
    "run_name": "r",
    "user_id": "u",
    "status": "RUNNING",
    "start_time": 1,
    "artifact_uri": "mlflow-artifacts:/0/" + "a" * 32 + "/artifacts",
    "lifecycle_stage": "active",
}


class Recorder:
    def __init__(self) -> None:
        self.answers: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []

    def plan(self, endpoint: str, *answers: dict[str, Any], status: int = 200) -> None:
        self.answers[API + endpoint].extend((status, a) for a in answers)

    def bodies(self, endpoint: str) -> list[Any]:
        return [body for _, path, _, body in self.requests if path == API + endpoint]

    def queries(self, endpoint: str) -> list[dict[str, list[str]]]:
        return [query for _, path, query, _ in self.requests if path == API + endpoint]

    def app(self) -> Starlette:
        async def handle(request: Request) -> JSONResponse:
            raw = await request.body()
            query: dict[str, list[str]] = defaultdict(list)
            for key, value in request.query_params.multi_items():
                query[key].append(value)
            body = json.loads(raw) if raw else None
            self.requests.append((request.method, request.url.path, dict(query), body))
            queue = self.answers.get(request.url.path)
            status, answer = queue.popleft() if queue else (200, {})
            return JSONResponse(answer, status_code=status)

        return Starlette(routes=[Route("/{p:path}", handle, methods=["GET", "POST", "DELETE"])])


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def store(serve: Callable[..., Any], recorder: Recorder) -> Iterator[RestBackend]:
    server = serve(recorder.app())
    s = RestBackend(server.url + "/", config=HttpConfig(max_retries=0))
    yield s
    s.close()


def test_a_big_log_batch_goes_as_requests_within_mlflows_limits(
    store: RestBackend, recorder: Recorder
) -> None:
    metrics = [Metric(f"m{i % 3}", float(i), 1000 + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(120)]
    store.runs.log_batch("r1", metrics, params, tags)
    bodies = recorder.bodies("runs/log-batch")
    for body in bodies:
        assert body["run_id"] == "r1"
        assert len(body["metrics"]) <= 1000
        assert len(body["params"]) <= 100
        assert len(body["tags"]) <= 100
        assert len(body["metrics"]) + len(body["params"]) + len(body["tags"]) <= 1000
    sent_metrics = [Metric.from_dict(m) for b in bodies for m in b["metrics"]]
    assert sent_metrics == metrics  # each once, in logging order
    assert [Param.from_dict(p) for b in bodies for p in b["params"]] == params
    assert [RunTag.from_dict(t) for b in bodies for t in b["tags"]] == tags
    assert len(bodies) == 3  # 150 params + 120 tags + 2500 metrics fit in three requests


def test_a_batch_within_the_limits_is_one_request(store: RestBackend, recorder: Recorder) -> None:
    store.runs.log_batch("r1", [Metric("m", 1.0, 5, 0)] * 1000)
    store.runs.log_batch("r1", params=[Param("p", "v")])
    assert [len(b["metrics"]) for b in recorder.bodies("runs/log-batch")] == [1000, 0]


def test_special_metric_values_travel_as_mlflows_strings(
    store: RestBackend, recorder: Recorder
) -> None:
    values = [math.nan, math.inf, -math.inf, 1.5, -0.0]
    store.runs.log_batch("r1", [Metric("m", v, 7, i) for i, v in enumerate(values)])
    (body,) = recorder.bodies("runs/log-batch")
    assert [m["value"] for m in body["metrics"]] == ["NaN", "Infinity", "-Infinity", 1.5, -0.0]
    recorder.plan(
        "metrics/get-history",
        {
            "metrics": [
                {"key": "m", "value": v, "timestamp": 7, "step": 0}
                for v in ("NaN", "Infinity", "-Infinity")
            ]
        },
    )
    nan, inf, ninf = store.metrics.get_metric_history("r1", "m")
    assert math.isnan(nan.value)
    assert (inf.value, ninf.value) == (math.inf, -math.inf)


def test_a_whole_history_is_read_page_by_page(store: RestBackend, recorder: Recorder) -> None:
    def point(step: int) -> dict[str, Any]:
        return {"key": "loss", "value": step / 2, "timestamp": 100 + step, "step": step}

    recorder.plan(
        "metrics/get-history",
        {"metrics": [point(0), point(1)], "next_page_token": "T1"},
        {"metrics": [point(2)]},
    )
    history = store.metrics.get_metric_history("r1", "loss")
    assert history == [Metric("loss", s / 2, 100 + s, s) for s in range(3)]
    assert history.token is None
    first, second = recorder.queries("metrics/get-history")
    assert first == {"run_id": ["r1"], "metric_key": ["loss"], "max_results": ["25000"]}
    assert second["page_token"] == ["T1"]
    recorder.plan("metrics/get-history", {"metrics": [point(0)], "next_page_token": "T2"})
    page = store.metrics.get_metric_history("r1", "loss", max_results=1)
    assert (len(page), page.token) == (1, "T2")


def test_search_runs_sends_mlflows_fields(store: RestBackend, recorder: Recorder) -> None:
    recorder.plan(
        "runs/search",
        {
            "runs": [{"info": RUN_INFO, "data": {"params": [{"key": "a", "value": "1"}]}}],
            "next_page_token": "N",
        },
        {},
    )
    page = store.runs.search_runs(
        ["1", "2"], "metrics.x > 1", ViewType.ALL, 10, ["metrics.x DESC"], "P"
    )
    assert page.token == "N"
    assert page[0].info.run_id == "a" * 32
    assert page[0].data.params == {"a": "1"}
    assert recorder.bodies("runs/search")[0] == {
        "experiment_ids": ["1", "2"],
        "filter": "metrics.x > 1",
        "run_view_type": "ALL",
        "max_results": 10,
        "order_by": ["metrics.x DESC"],
        "page_token": "P",
    }
    assert list(store.runs.search_runs(None)) == []
    assert "experiment_ids" not in recorder.bodies("runs/search")[1]  # every experiment


def test_an_errors_details_come_back_as_fields_and_its_status_picks_the_class(
    store: RestBackend, recorder: Recorder
) -> None:
    refused = {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Invalid filter 'metrics.x > 1 AND': expected a comparison at position 16",
        "details": {"position": 16},
    }
    recorder.plan("runs/search", refused, status=400)
    with pytest.raises(InvalidArgument) as info:
        store.runs.search_runs(["1"], "metrics.x > 1")
    assert info.value.details == {"position": 16}
    assert info.value.to_dict() == refused
    too_large = {"error_code": "BAD_REQUEST", "message": "Request body too large"}
    recorder.plan("experiments/create", too_large, status=413)
    with pytest.raises(PayloadTooLarge) as too:
        store.experiments.create_experiment("x")
    assert too.value.details == {}
    assert too.value.to_dict() == too_large


def test_get_experiment_by_name_missing_is_none(store: RestBackend, recorder: Recorder) -> None:
    missing = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such experiment"}
    recorder.plan("experiments/get-by-name", missing, status=404)
    assert store.experiments.get_experiment_by_name("nope") is None
    assert recorder.queries("experiments/get-by-name") == [{"experiment_name": ["nope"]}]
    wrong = {"error_code": "ENDPOINT_NOT_FOUND", "message": "no such endpoint"}
    recorder.plan("experiments/get-by-name", wrong, status=404)
    with pytest.raises(EndpointNotFound):
        store.experiments.get_experiment_by_name("nope")


def test_update_run_sends_status_names(store: RestBackend, recorder: Recorder) -> None:
    recorder.plan("runs/update", {"run_info": {**RUN_INFO, "status": "KILLED", "end_time": 9}})
    info = store.runs.update_run_info("a" * 32, 5, 9, None)
    assert (info.status, info.end_time) == ("KILLED", 9)
    assert recorder.bodies("runs/update") == [
        {"run_id": "a" * 32, "run_uuid": "a" * 32, "status": "KILLED", "end_time": 9}
    ]


def test_a_server_that_ignores_a_chosen_run_id_is_an_error(
    store: RestBackend, recorder: Recorder
) -> None:
    recorder.plan("runs/create", {"run": {"info": RUN_INFO}})
    with pytest.raises(MltrailError, match="does not let a client choose the run id"):
        store.runs.create_run("0", "u", 1, [], None, run_id="b" * 32)
    assert recorder.bodies("runs/create")[0]["run_id"] == "b" * 32


def test_the_store_keeps_no_secret_in_its_repr(
    serve: Callable[..., Any], recorder: Recorder
) -> None:
    url = serve(recorder.app()).url
    store = RestBackend(url.replace("http://", "http://ann:pa55@") + "/base/")
    try:
        assert repr(store) == f"RestBackend('{url}/base')"
    finally:
        store.close()
