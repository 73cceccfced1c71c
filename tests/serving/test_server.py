"""The scoring server through a real uvicorn subprocess: protocol, errors, limits, metrics."""

from __future__ import annotations

import concurrent.futures
import io
import json
import time
from typing import Any

import httpx
import pandas as pd
import pytest
from tests.serving.conftest import Models, Server

pytestmark = pytest.mark.slow

JSON = {"Content-Type": "application/json"}


def _post(server: Server, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(
        server.url + "/invocations", content=content, headers=headers or JSON, timeout=30
    )


def _error(response: httpx.Response, status: int, code: str, *fragments: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    for fragment in fragments:
        assert fragment in body["message"], body["message"]
    return str(body["message"])


def test_health_endpoints(pyfunc_server: Server) -> None:
    import mltrail

    for path in ("/ping", "/health"):
        response = httpx.get(pyfunc_server.url + path)
        assert response.status_code == 200
    version = httpx.get(pyfunc_server.url + "/version")
    assert version.status_code == 200
    assert version.text == mltrail.__version__


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": ["x", "y"], "data": [[1.5, 1], [2.0, 2]]}},
        {"dataframe_records": [{"x": 1.5, "y": 1}, {"x": 2.0, "y": 2}]},
        {"instances": [{"x": 1.5, "y": 1}, {"x": 2.0, "y": 2}]},
        {"inputs": {"x": [1.5, 2.0], "y": [1, 2]}},
        # JSON integers for a double column are read as doubles, as MLflow does.
        {"dataframe_split": {"columns": ["y", "x"], "data": [[1, 1.5], [2, 2]]}},
    ],
)
def test_json_formats(pyfunc_server: Server, payload: dict[str, Any]) -> None:
    response = _post(pyfunc_server, payload)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [{"0": 2.5}, {"0": 4.0}]}


def test_params_and_output_shapes(pyfunc_server: Server) -> None:
    rows = {"dataframe_records": [{"x": 1.0, "y": 1}, {"x": 2.0, "y": 0}]}
    shapes = {
        "series": [{"0": 3.0}, {"0": 4.0}],
        "frame": [{"total": 3.0, "twice": 6.0}, {"total": 4.0, "twice": 8.0}],
        "array": [3.0, 4.0],
        "dict": {"total": [3.0, 4.0], "count": 2},
        "list": [3.0, 4.0],
    }
    for output, expected in shapes.items():
        response = _post(pyfunc_server, {**rows, "params": {"factor": 2, "output": output}})
        assert response.status_code == 200, response.text
        assert response.json() == {"predictions": expected}, output


def test_csv_and_parquet(pyfunc_server: Server) -> None:
    csv = _post(pyfunc_server, "x,y\n1.5,1\n2,2\n", {"Content-Type": "text/csv; charset=utf-8"})
    assert csv.json() == {"predictions": [{"0": 2.5}, {"0": 4.0}]}
    pytest.importorskip("pyarrow")
    buffer = io.BytesIO()
    pd.DataFrame({"x": [1.5, 2.0], "y": [1, 2]}).to_parquet(buffer)
    parquet = _post(
        pyfunc_server, buffer.getvalue(), {"Content-Type": "application/vnd.apache.parquet"}
    )
    assert parquet.json() == {"predictions": [{"0": 2.5}, {"0": 4.0}]}


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ("{not json", ["not valid JSON"]),
        ([1, 2], ["expected a JSON object, got a list"]),
        ({"inputz": [1]}, ["unknown key(s) 'inputz'"]),
        ({"inputs": [1], "instances": [1]}, ["exactly one of"]),
        ({"dataframe_records": [{"x": 1.0}]}, ["'y'"]),  # a required column is missing
        ({"dataframe_records": [{"x": "abc", "y": 1}]}, ["'x'", "double"]),
        ({"dataframe_records": [{"x": 1.0, "y": 1}], "params": {"factor": "big"}}, ["factor"]),
        ({"dataframe_records": [{"x": 1.0, "y": 1}], "params": [1]}, ["'params'"]),
    ],
)
def test_bad_input_is_400_naming_the_problem(
    pyfunc_server: Server, body: Any, fragments: list[str]
) -> None:
    response = _post(pyfunc_server, body)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")
    _error(response, 400, response.json()["error_code"], *fragments)


def test_model_errors_are_400_and_the_server_survives(pyfunc_server: Server) -> None:
    body = {"dataframe_records": [{"x": 1.0, "y": 1}], "params": {"fail": True}}
    _error(_post(pyfunc_server, body), 400, "BAD_REQUEST", "ValueError", "refused this input")
    assert _post(pyfunc_server, {"inputs": {"x": [1.0], "y": [1]}}).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "fragment"),
    [
        ("text/plain", "'text/plain'"),
        ("application/json; charset=latin-1", "latin-1"),
        ("application/json; format=pandas-split", "'format'"),
    ],
)
def test_unsupported_content_types_are_415(
    pyfunc_server: Server, content_type: str, fragment: str
) -> None:
    response = _post(pyfunc_server, "{}", {"Content-Type": content_type})
    _error(response, 415, "BAD_REQUEST", fragment)


def test_missing_content_type_is_415(pyfunc_server: Server) -> None:
    response = httpx.post(pyfunc_server.url + "/invocations", content=b"x,y\n1,2\n")
    _error(response, 415, "BAD_REQUEST", "Content-Type")


def test_oversized_bodies_are_413(pyfunc_server: Server) -> None:
    rows = [{"x": 1.0, "y": 1}] * 3000  # about 60,000 bytes, over the 50,000 limit
    _error(_post(pyfunc_server, {"dataframe_records": rows}), 413, "BAD_REQUEST", "50000")

    def chunks() -> Any:  # no Content-Length: the limit applies while reading
        for _ in range(100):
            yield b" " * 1000

    response = httpx.post(
        pyfunc_server.url + "/invocations", content=chunks(), headers=JSON, timeout=30
    )
    _error(response, 413, "BAD_REQUEST", "50000")
    assert _post(pyfunc_server, {"inputs": {"x": [1.0], "y": [1]}}).status_code == 200


def test_slow_predictions_are_503_and_do_not_block_the_server(pyfunc_server: Server) -> None:
    body = {"dataframe_records": [{"x": 1.0, "y": 1}], "params": {"sleep": 8}}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(_post, pyfunc_server, body)
        time.sleep(0.5)
        assert httpx.get(pyfunc_server.url + "/ping", timeout=5).status_code == 200
        quick = _post(pyfunc_server, {"inputs": {"x": [1.0], "y": [1]}})
        assert quick.status_code == 200
        # Both were answered while the slow prediction was still running (it ends at the
        # server's 3 s timeout), not after it.
        assert not slow.done()
        _error(slow.result(), 503, "TEMPORARILY_UNAVAILABLE", "timeout of 3 seconds")


def test_unknown_paths_and_methods(pyfunc_server: Server) -> None:
    _error(httpx.get(pyfunc_server.url + "/nope"), 404, "ENDPOINT_NOT_FOUND", "/nope")
    _error(httpx.get(pyfunc_server.url + "/invocations"), 405, "ENDPOINT_NOT_FOUND", "GET")


def _metric(text: str, line_start: str) -> float:
    values = [
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)
    ]
    return sum(values)


def test_metrics_count_requests_latency_and_errors(pyfunc_server: Server) -> None:
    before = httpx.get(pyfunc_server.url + "/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain; version=0.0.4")
    ok_key = 'mltrail_scoring_requests_total{path="/invocations",method="POST",status="200"}'
    bad_key = 'mltrail_scoring_errors_total{status="400",error_code="BAD_REQUEST"}'
    count_key = 'mltrail_scoring_request_duration_seconds_count{path="/invocations"}'
    ok0, bad0, count0 = (_metric(before.text, k) for k in (ok_key, bad_key, count_key))
    rows0 = _metric(before.text, "mltrail_scoring_predicted_rows_total")
    for _ in range(3):
        assert _post(pyfunc_server, {"inputs": {"x": [1.0, 2.0], "y": [1, 2]}}).status_code == 200
    assert _post(pyfunc_server, "{").status_code == 400
    after = httpx.get(pyfunc_server.url + "/metrics").text
    assert _metric(after, ok_key) == ok0 + 3
    assert _metric(after, bad_key) == bad0 + 1
    assert _metric(after, count_key) == count0 + 4
    assert _metric(after, "mltrail_scoring_predicted_rows_total") == rows0 + 6
    inf = _metric(
        after, 'mltrail_scoring_request_duration_seconds_bucket{path="/invocations",le="+Inf"}'
    )
    assert inf == _metric(after, count_key)
    assert "# TYPE mltrail_scoring_request_duration_seconds histogram" in after


def test_many_concurrent_requests(pyfunc_server: Server) -> None:
    body = {"dataframe_split": {"columns": ["x", "y"], "data": [[float(i), i] for i in range(100)]}}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: _post(pyfunc_server, body), range(40)))
    assert all(r.status_code == 200 for r in responses)
    assert responses[0].json()["predictions"][99] == {"0": 198.0}


def test_sklearn_from_registry_alias_with_two_workers(models: Models, tmp_path: Any) -> None:
    import psutil
    from tests.serving.conftest import child_env, run_server

    uri = f"models:/{models.registered_name}@champion"
    with run_server(["-m", uri, "-w", "2"], tmp_path, child_env(models.tracking_uri)) as server:
        children = psutil.Process(server.process.pid).children(recursive=True)
        assert len([c for c in children if "python" in c.name().lower()]) >= 2
        row = dict.fromkeys(models.features, 1.0)
        for _ in range(10):
            response = _post(
                server, {"dataframe_records": [row, dict.fromkeys(models.features, -1.0)]}
            )
            assert response.status_code == 200, response.text
            assert response.json() == {"predictions": [1, 0]}
        missing = _post(server, {"dataframe_records": [{"sepal_length": 1.0}]})
        _error(missing, 400, "INVALID_PARAMETER_VALUE", "petal_length")
        csv = _post(
            server,
            ",".join(models.features) + "\n1,1,1,1\n-1,-1,-1,-1\n",
            {"Content-Type": "text/csv"},
        )
        assert csv.json() == {"predictions": [1, 0]}


def test_sklearn_from_a_run(models: Models, tmp_path: Any) -> None:
    from tests.serving.conftest import child_env, run_server

    with run_server(
        ["-m", models.sklearn_run_uri], tmp_path, child_env(models.tracking_uri)
    ) as server:
        response = _post(server, {"instances": [dict.fromkeys(models.features, 2.0)]})
        assert response.json() == {"predictions": [1]}


def test_a_model_that_cannot_load_stops_the_command(tmp_path: Any) -> None:
    import subprocess

    from tests.serving.conftest import child_env, cli_command

    proc = subprocess.run(
        cli_command("models", "serve", "-m", str(tmp_path / "missing"), "-p", "0"),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "Error: " in proc.stderr
    assert "Traceback" not in proc.stderr
