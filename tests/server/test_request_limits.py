"""Requests built to exhaust the server are refused at once with a 400 that names the limit.

Holes found when the server was attacked: a JSON body nested 10,000 levels deep (500), a search
with 1,000 ``order_by`` items (500 after seconds), a 10,000-term OR filter (503 "database
unavailable" after seconds, which clients retry).  Every request list of every endpoint has a
bound, and a database error that a request caused is never answered as unavailability.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from tests.server.conftest import Api

from mltrail.search import MAX_FILTER_TERMS, MAX_FILTER_VALUES, MAX_ORDER_BY_ITEMS
from mltrail.server import Endpoint, ServerSettings, create_app
from mltrail.server._access import AUTHENTICATED
from mltrail.server._app import server_endpoints
from mltrail.server._schema import obj

API = "/api/2.0/mlflow"
DEEP = "[" * 10_000 + "]" * 10_000


def _refused(response: Any, *fragments: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST")
    for fragment in fragments:
        assert fragment in body["message"]
    assert "Traceback" not in body["message"]
    assert "SELECT" not in body["message"]
    return body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("experiments/create", '{"name": "x", "tags": ' + DEEP + "}"),
        ("runs/log-batch", '{"run_id": "r", "metrics": ' + DEEP + "}"),
        ("runs/log-batch", '{"run_id": "r", "metrics": [{"value": NaN, "x": ' + DEEP + "}]}"),
        ("runs/search", DEEP),
    ],
    ids=["create-tags", "log-batch-metrics", "log-batch-with-nan", "top-level-array"],
)
def test_deeply_nested_json_is_a_400(api: Api, path: str, body: str) -> None:
    response = api.client.post(
        f"{API}/{path}", content=body, headers={"Content-Type": "application/json"}
    )
    _refused(response, "nested")


def test_deeply_nested_model_json_is_a_400(api: Api) -> None:
    run_id = api.run(api.experiment())["run_id"]
    response = api.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": DEEP})
    _refused(response, "model_json", "nested")


def test_over_long_order_by_is_refused_naming_the_field_and_the_limit(api: Api) -> None:
    eid = api.experiment()
    keys = [f"metrics.m{i}" for i in range(1000)]
    response = api.post(f"{API}/runs/search", json={"experiment_ids": [eid], "order_by": keys})
    _refused(response, "order_by", f"at most {MAX_ORDER_BY_ITEMS} items")
    at_limit = keys[:MAX_ORDER_BY_ITEMS]
    api.ok("POST", f"{API}/runs/search", json={"experiment_ids": [eid], "order_by": at_limit})
    response = api.get(f"{API}/experiments/search", params={"order_by": ["name"] * 1000})
    _refused(response, "order_by", f"at most {MAX_ORDER_BY_ITEMS} items")


def test_a_huge_or_filter_is_refused_at_once_naming_the_limit(api: Api) -> None:
    eid = api.experiment()
    run_id = api.run(eid)["run_id"]
    api.ok("POST", f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "7"})
    huge = " OR ".join(f"params.p = '{i}'" for i in range(10_000))
    response = api.post(f"{API}/runs/search", json={"experiment_ids": [eid], "filter": huge})
    body = _refused(response, f"at most {MAX_FILTER_TERMS} comparisons")
    position = huge.index(f"params.p = '{MAX_FILTER_TERMS}'")
    assert body["details"]["position"] == position
    # At the limit, the filter works on the database.
    most = " OR ".join(f"params.p = '{i}'" for i in range(MAX_FILTER_TERMS))
    found = api.ok("POST", f"{API}/runs/search", json={"experiment_ids": [eid], "filter": most})
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]


def test_a_huge_in_list_is_refused_naming_the_limit(api: Api) -> None:
    eid = api.experiment()
    values = ", ".join(f"'{i}'" for i in range(MAX_FILTER_VALUES + 1))
    response = api.post(
        f"{API}/runs/search",
        json={"experiment_ids": [eid], "filter": f"params.p IN ({values})"},
    )
    _refused(response, f"at most {MAX_FILTER_VALUES} values")


def _request_arrays(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if schema.get("type") == "array":
        yield path, schema
        yield from _request_arrays(schema["items"], path + "[]")
    for name, field in schema.get("properties", {}).items():
        yield from _request_arrays(field, f"{path}.{name}" if path else name)


def test_every_request_list_has_a_bound() -> None:
    unbounded = [
        f"{e.method} {e.path}: {field}"
        for e in server_endpoints(ServerSettings())
        for field, schema in _request_arrays(e.params, "")
        if "maxItems" not in schema
    ]
    assert unbounded == []


@pytest.fixture
def db_error_app(tmp_path: Any) -> Callable[[BaseException], tuple[int, dict[str, Any]]]:
    def call(error: BaseException) -> tuple[int, dict[str, Any]]:
        def fail(ctx: object, args: object) -> dict[str, object]:
            raise error

        settings = ServerSettings(
            backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}",
            artifacts_destination=str(tmp_path / "artifacts"),
        )
        extra = [
            Endpoint(
                "GET", "/mltrail/test/fail", "fail", obj({}), handler=fail, access=AUTHENTICATED
            )
        ]
        app = create_app(settings, extra_endpoints=extra)

        from httpx import ASGITransport, AsyncClient

        async def get() -> tuple[int, dict[str, Any]]:
            transport = ASGITransport(app=app)
            async with AsyncClient(transport=transport, base_url="http://localhost") as client:
                response = await client.get("/api/2.0/mltrail/test/fail")
                return response.status_code, response.json()

        return asyncio.run(get())

    return call


def _operational(message: str) -> OperationalError:
    return OperationalError("SELECT 1 FROM runs", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    "message",
    [
        "Expression tree is too large (maximum depth 1000)",
        "too many SQL variables",
        "no such table",
    ],
)
def test_a_database_error_the_request_caused_is_not_a_503(
    db_error_app: Callable[[BaseException], tuple[int, dict[str, Any]]], message: str
) -> None:
    status, body = db_error_app(_operational(message))
    assert (status, body["error_code"]) == (500, "INTERNAL_ERROR")
    assert "SELECT" not in body["message"]
    assert message not in body["message"]


@pytest.mark.parametrize(
    "message", ["database is locked", "unable to open database file", "database is busy"]
)
def test_an_unavailable_database_is_a_503(
    db_error_app: Callable[[BaseException], tuple[int, dict[str, Any]]], message: str
) -> None:
    status, body = db_error_app(_operational(message))
    assert (status, body["error_code"]) == (503, "TEMPORARILY_UNAVAILABLE")
