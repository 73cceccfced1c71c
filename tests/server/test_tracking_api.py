"""The tracking endpoints: MLflow's JSON shapes, both prefixes, errors with the right status."""

from __future__ import annotations

import math

import pytest
from tests.server.conftest import Api

API = "/api/2.0/mlflow"


def test_experiment_lifecycle(api: Api) -> None:
    created = api.ok(
        "POST",
        f"{API}/experiments/create",
        json={"name": "e1", "tags": [{"key": "team", "value": "a"}]},
    )
    eid = created["experiment_id"]
    assert isinstance(eid, str)
    exp = api.ok("GET", f"{API}/experiments/get", params={"experiment_id": eid})["experiment"]
    assert exp["name"] == "e1"
    assert exp["artifact_location"] == f"mlflow-artifacts:/{eid}"
    assert exp["lifecycle_stage"] == "active"
    assert {"key": "team", "value": "a"} in exp["tags"]
    assert isinstance(exp["creation_time"], int)
    by_name = api.ok("GET", f"{API}/experiments/get-by-name", params={"experiment_name": "e1"})
    assert by_name["experiment"]["experiment_id"] == eid

    assert (
        api.ok("POST", f"{API}/experiments/update", json={"experiment_id": eid, "new_name": "e2"})
        == {}
    )
    api.ok(
        "POST",
        f"{API}/experiments/set-experiment-tag",
        json={"experiment_id": eid, "key": "k", "value": "v"},
    )
    api.ok(
        "POST",
        f"{API}/experiments/delete-experiment-tag",
        json={"experiment_id": eid, "key": "team"},
    )
    exp = api.ok("GET", f"{API}/experiments/get", params={"experiment_id": eid})["experiment"]
    assert exp["name"] == "e2"
    assert exp["tags"] == [{"key": "k", "value": "v"}]

    api.ok("POST", f"{API}/experiments/delete", json={"experiment_id": eid})
    active = api.ok("GET", f"{API}/experiments/search", params={"view_type": "ACTIVE_ONLY"})
    assert eid not in [e["experiment_id"] for e in active["experiments"]]
    deleted = api.ok("POST", f"{API}/experiments/search", json={"view_type": "DELETED_ONLY"})
    assert [e["experiment_id"] for e in deleted["experiments"]] == [eid]
    api.ok("POST", f"{API}/experiments/restore", json={"experiment_id": eid})
    found = api.ok("POST", f"{API}/experiments/search", json={"filter": "name = 'e2'"})
    assert [e["experiment_id"] for e in found["experiments"]] == [eid]


def test_experiment_search_pages(api: Api) -> None:
    for i in range(5):
        api.experiment(f"p{i}")
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, object] = {"max_results": 2, "order_by": ["name ASC"]}
        if token:
            params["page_token"] = token
        page = api.ok("GET", f"{API}/experiments/search", params=params)
        seen += [e["name"] for e in page["experiments"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == ["Default", "p0", "p1", "p2", "p3", "p4"]


def test_run_lifecycle_and_logging(api: Api) -> None:
    eid = api.experiment()
    run = api.ok(
        "POST",
        f"{API}/runs/create",
        json={
            "experiment_id": eid,
            "run_name": "r",
            "start_time": 1000,
            "user_id": "u",
            "tags": [{"key": "t", "value": "1"}],
        },
    )["run"]
    rid = run["info"]["run_id"]
    assert run["info"]["run_uuid"] == rid
    assert run["info"]["status"] == "RUNNING"
    assert run["info"]["artifact_uri"] == f"mlflow-artifacts:/{eid}/{rid}/artifacts"
    api.ok(
        "POST",
        f"{API}/runs/log-metric",
        json={"run_id": rid, "key": "m", "value": 1.5, "timestamp": 5, "step": 1},
    )
    api.ok(
        "POST",
        f"{API}/runs/log-metric",
        json={"run_uuid": rid, "key": "m", "value": "NaN", "timestamp": "6", "step": "2"},
    )
    api.ok("POST", f"{API}/runs/log-parameter", json={"run_id": rid, "key": "p", "value": "x"})
    api.ok("POST", f"{API}/runs/set-tag", json={"run_id": rid, "key": "s", "value": "y"})
    api.ok("POST", f"{API}/runs/delete-tag", json={"run_id": rid, "key": "t"})
    api.ok(
        "POST",
        f"{API}/runs/log-batch",
        json={
            "run_id": rid,
            "metrics": [{"key": "b", "value": "Infinity", "timestamp": 1, "step": 0}],
            "params": [{"key": "q", "value": "2"}],
            "tags": [{"key": "u", "value": "3"}],
        },
    )
    api.ok(
        "POST",
        f"{API}/runs/log-inputs",
        json={
            "run_id": rid,
            "datasets": [
                {
                    "dataset": {
                        "name": "d",
                        "digest": "abc",
                        "source_type": "local",
                        "source": "{}",
                    },
                    "tags": [{"key": "mlflow.data.context", "value": "train"}],
                }
            ],
        },
    )
    got = api.ok("GET", f"{API}/runs/get", params={"run_id": rid})["run"]
    metrics = {m["key"]: m["value"] for m in got["data"]["metrics"]}
    assert metrics == {"m": "NaN", "b": "Infinity"}
    assert {p["key"]: p["value"] for p in got["data"]["params"]} == {"p": "x", "q": "2"}
    tags = {t["key"]: t["value"] for t in got["data"]["tags"]}
    assert tags["s"] == "y"
    assert tags["u"] == "3"
    assert "t" not in tags
    assert got["inputs"]["dataset_inputs"][0]["dataset"]["name"] == "d"

    history = api.ok("GET", f"{API}/metrics/get-history", params={"run_id": rid, "metric_key": "m"})
    assert [(m["step"], m["value"]) for m in history["metrics"]] == [(1, 1.5), (2, "NaN")]

    info = api.ok(
        "POST", f"{API}/runs/update", json={"run_id": rid, "status": "FINISHED", "end_time": 2000}
    )["run_info"]
    assert info["status"] == "FINISHED"
    assert info["end_time"] == 2000
    api.ok("POST", f"{API}/runs/delete", json={"run_id": rid})
    assert (
        api.ok("GET", f"{API}/runs/get", params={"run_id": rid})["run"]["info"]["lifecycle_stage"]
        == "deleted"
    )
    api.ok("POST", f"{API}/runs/restore", json={"run_id": rid})


def test_search_runs_filter_order_and_pages(api: Api) -> None:
    eid = api.experiment()
    ids = []
    for i in range(5):
        rid = api.run(eid)["run_id"]
        api.ok(
            "POST",
            f"{API}/runs/log-metric",
            json={"run_id": rid, "key": "acc", "value": i / 10, "timestamp": 1},
        )
        ids.append(rid)
    body = {
        "experiment_ids": [eid],
        "filter": "metrics.acc >= 0.1",
        "order_by": ["metrics.acc DESC"],
        "max_results": 2,
    }
    first = api.ok("POST", f"{API}/runs/search", json=body)
    second = api.ok(
        "POST", f"{API}/runs/search", json={**body, "page_token": first["next_page_token"]}
    )
    found = [r["info"]["run_id"] for r in first["runs"] + second["runs"]]
    assert found == [ids[4], ids[3], ids[2], ids[1]]
    assert "next_page_token" not in second


def test_ajax_prefix_serves_the_same(api: Api) -> None:
    eid = api.experiment()
    body = api.ok("GET", "/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": eid})
    assert body["experiment"]["experiment_id"] == eid


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code", "fragment"),
    [
        (
            "GET",
            f"{API}/experiments/get",
            {"params": {"experiment_id": "12345"}},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "12345",
        ),
        (
            "GET",
            f"{API}/experiments/get-by-name",
            {"params": {"experiment_name": "nope"}},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "nope",
        ),
        ("GET", f"{API}/experiments/get", {}, 400, "INVALID_PARAMETER_VALUE", "'experiment_id'"),
        (
            "GET",
            f"{API}/experiments/get",
            {"params": {"experiment_id": "abc"}},
            400,
            "INVALID_PARAMETER_VALUE",
            "'experiment_id'",
        ),
        (
            "POST",
            f"{API}/experiments/create",
            {"json": {"name": 5}},
            400,
            "INVALID_PARAMETER_VALUE",
            "'name'",
        ),
        (
            "POST",
            f"{API}/experiments/create",
            {"json": {"name": "Default"}},
            400,
            "RESOURCE_ALREADY_EXISTS",
            "Default",
        ),
        (
            "POST",
            f"{API}/experiments/create",
            {"content": b"{not json"},
            400,
            "INVALID_PARAMETER_VALUE",
            "JSON",
        ),
        (
            "POST",
            f"{API}/experiments/create",
            {"json": [1]},
            400,
            "INVALID_PARAMETER_VALUE",
            "object",
        ),
        (
            "POST",
            f"{API}/experiments/search",
            {"json": {"max_results": 0}},
            400,
            "INVALID_PARAMETER_VALUE",
            "'max_results'",
        ),
        (
            "POST",
            f"{API}/experiments/search",
            {"json": {"view_type": "SOME"}},
            400,
            "INVALID_PARAMETER_VALUE",
            "'view_type'",
        ),
        (
            "POST",
            f"{API}/runs/search",
            {"json": {"filter": "metrics.a >"}},
            400,
            "INVALID_PARAMETER_VALUE",
            "",
        ),
        (
            "GET",
            f"{API}/runs/get",
            {"params": {"run_id": "0" * 32}},
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "0" * 32,
        ),
        ("GET", f"{API}/runs/get", {}, 400, "INVALID_PARAMETER_VALUE", "'run_id'"),
        (
            "POST",
            f"{API}/runs/log-metric",
            {"json": {"run_id": "x", "key": "k", "value": "abc", "timestamp": 1}},
            400,
            "INVALID_PARAMETER_VALUE",
            "'value'",
        ),
        (
            "POST",
            f"{API}/runs/log-metric",
            {"json": {"run_id": "x", "key": "k", "value": 1, "timestamp": 2**70}},
            400,
            "INVALID_PARAMETER_VALUE",
            "'timestamp'",
        ),
        (
            "POST",
            f"{API}/runs/log-batch",
            {"json": {"run_id": "x", "metrics": [{"key": "k", "value": 1}]}},
            400,
            "INVALID_PARAMETER_VALUE",
            "'metrics[0].timestamp'",
        ),
        (
            "POST",
            f"{API}/runs/set-tag",
            {"json": {"run_id": "x", "key": "k\x00", "value": "v"}},
            400,
            "INVALID_PARAMETER_VALUE",
            "NUL",
        ),
        ("GET", f"{API}/nope", {}, 404, "ENDPOINT_NOT_FOUND", "/api/2.0/mlflow/nope"),
        ("GET", f"{API}/runs/create", {}, 405, "ENDPOINT_NOT_FOUND", "GET"),
        ("DELETE", f"{API}/experiments/get", {}, 405, "ENDPOINT_NOT_FOUND", "DELETE"),
        ("GET", "/ajax-api/2.0/unknown/thing", {}, 404, "ENDPOINT_NOT_FOUND", ""),
    ],
)
def test_errors(
    api: Api,
    method: str,
    path: str,
    kwargs: dict[str, object],
    status: int,
    code: str,
    fragment: str,
) -> None:
    response = api.client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    body = response.json()
    # MLflow's two keys, and details (a filter error's position) when the error has any.
    assert {"error_code", "message"} <= set(body) <= {"error_code", "message", "details"}
    assert body["error_code"] == code
    assert fragment in body["message"]
    assert "Traceback" not in body["message"]


def test_param_change_and_batch_limits(api: Api) -> None:
    rid = api.run(api.experiment())["run_id"]
    api.ok("POST", f"{API}/runs/log-parameter", json={"run_id": rid, "key": "p", "value": "1"})
    response = api.post(f"{API}/runs/log-parameter", json={"run_id": rid, "key": "p", "value": "2"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    metrics = [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]
    response = api.post(f"{API}/runs/log-batch", json={"run_id": rid, "metrics": metrics})
    assert response.status_code == 400
    assert "1000" in response.json()["message"]


def test_log_model_records_history(api: Api) -> None:
    rid = api.run(api.experiment())["run_id"]
    model = '{"artifact_path": "model", "flavors": {"python_function": {}}}'
    api.ok("POST", f"{API}/runs/log-model", json={"run_id": rid, "model_json": model})
    api.ok("POST", f"{API}/runs/log-model", json={"run_id": rid, "model_json": model})
    tags = {
        t["key"]: t["value"]
        for t in api.ok("GET", f"{API}/runs/get", params={"run_id": rid})["run"]["data"]["tags"]
    }
    import json

    assert [m["artifact_path"] for m in json.loads(tags["mlflow.log-model.history"])] == [
        "model",
        "model",
    ]


def test_move_runs_extension(api: Api) -> None:
    a, b = api.experiment("a"), api.experiment("b")
    rid = api.run(a)["run_id"]
    api.ok("POST", "/api/2.0/mltrail/runs/move", json={"run_ids": [rid], "experiment_id": b})
    assert (
        api.ok("GET", f"{API}/runs/get", params={"run_id": rid})["run"]["info"]["experiment_id"]
        == b
    )


def test_meta_endpoints(api: Api) -> None:
    assert api.get("/health").text == "OK"
    assert api.get("/version").status_code == 200
    info = api.ok("GET", "/api/3.0/mlflow/server-info")
    assert info["store_type"] == "SqlStore"
    assert info["multipart_uploads_enabled"] is False
    assert info["serve_artifacts"] is True
    document = api.ok("GET", "/api/openapi.json")
    assert document["openapi"].startswith("3.")
    assert "/api/2.0/mlflow/runs/log-batch" in document["paths"]
    assert "/api/2.0/mlflow-artifacts/artifacts/{artifact_path}" in document["paths"]


def test_every_declared_endpoint_is_routed(api: Api) -> None:
    """No endpoint in the OpenAPI document answers 404/405 for its own method."""
    document = api.ok("GET", "/api/openapi.json")
    for path, item in document["paths"].items():
        concrete = path.replace("{artifact_path}", "x")
        for method in item:
            response = api.client.request(method.upper(), concrete, content=b"{}")
            assert (
                response.status_code not in (404, 405)
                or response.json()["error_code"] != "ENDPOINT_NOT_FOUND"
            ), (method, path)


def test_metric_value_precision(api: Api) -> None:
    rid = api.run(api.experiment())["run_id"]
    value = math.pi * 1e300
    api.ok(
        "POST",
        f"{API}/runs/log-metric",
        json={"run_id": rid, "key": "m", "value": value, "timestamp": 1},
    )
    history = api.ok("GET", f"{API}/metrics/get-history", params={"run_id": rid, "metric_key": "m"})
    assert history["metrics"][0]["value"] == value


def test_bodies_orjson_refuses_still_parse(api: Api) -> None:
    """Bodies are decoded with orjson; what it refuses but the standard parser takes (NaN and
    Infinity literals, integers past 64 bits) gets the same answer as before."""
    rid = api.run(api.experiment())["run_id"]
    metrics_text = (
        '[{"key": "n", "value": NaN, "timestamp": 1, "step": 0},'
        ' {"key": "i", "value": -Infinity, "timestamp": 1, "step": 0}]'
    )
    literal = f'{{"run_id": "{rid}", "metrics": {metrics_text}}}'
    api.ok("POST", f"{API}/runs/log-batch", content=literal.encode())
    run = api.ok("GET", f"{API}/runs/get", params={"run_id": rid})["run"]
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    assert metrics == {"n": "NaN", "i": "-Infinity"}
    huge = f'{{"run_id": "{rid}", "key": "m", "value": 1, "timestamp": {2**70}}}'
    response = api.client.post(f"{API}/runs/log-metric", content=huge.encode())
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'timestamp'" in body["message"]
