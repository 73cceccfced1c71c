"""Requests built to hurt the scoring server: their work is bounded before parsing, and each is
a 400 naming the problem (never a 500), or one log line when the client goes away."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from mltrail.models._schema import ColSpec, Schema
from mltrail.serving import MAX_COLUMNS, ScoringSettings, create_scoring_app

WIDE = 200_000


class _Meta:
    def __init__(self, schema: Schema | None) -> None:
        self.schema = schema

    def get_input_schema(self) -> Schema | None:
        return self.schema


class RowCounter:
    """A model answering the number of rows it was given."""

    def __init__(self, schema: Schema | None = None) -> None:
        self.metadata = _Meta(schema)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return [len(data)]


def _app(model: Any = None, **settings: Any) -> Any:
    return create_scoring_app(model or RowCounter(), ScoringSettings(**settings))


def _request(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scoring") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def _post(app: Any, body: bytes | str, content_type: str) -> httpx.Response:
    data = body.encode() if isinstance(body, str) else body
    return _request(
        app, "POST", "/invocations", content=data, headers={"Content-Type": content_type}
    )


@pytest.fixture
def pandas_never_parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fails a request that reaches pandas' CSV parser (the 400 must come before it)."""
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("pandas parsed a body that should have been refused before")

    monkeypatch.setattr(pd, "read_csv", refuse)
    yield calls
    assert calls == []


# -- width: bounded before pandas --------------------------------------------------------------


def _header(columns: int) -> str:
    return ",".join(f"c{i}" for i in range(columns))


@pytest.mark.parametrize(
    "body",
    [
        _header(WIDE) + "\n" + ",".join("1" for _ in range(WIDE)) + "\n",
        "\n \t\n" + _header(WIDE) + "\n1\n",  # blank lines before the header
        '"a\nb",' + _header(WIDE) + "\n",  # a quoted newline in the first field
    ],
    ids=["plain", "blank-lines-first", "quoted-newline"],
)
def test_a_csv_header_wider_than_the_limit_is_refused_before_pandas(
    body: str, pandas_never_parses: list[Any]
) -> None:
    app = _app()
    response = _post(app, body, "text/csv")
    assert response.status_code == 400
    message = response.json()["message"]
    assert f"limit of {MAX_COLUMNS} columns" in message
    assert "the CSV header has" in message
    assert _request(app, "GET", "/ping").status_code == 200


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"dataframe_split": {"columns": [f"c{i}" for i in range(WIDE)], "data": []}}, "columns"),
        ({"dataframe_split": {"data": [[1], list(range(WIDE))]}}, "a row of"),
        ({"dataframe_records": [{f"c{i}": 1 for i in range(WIDE)}]}, "'dataframe_records'"),
        (
            {"dataframe_records": [{f"c{r}_{i}": 1 for i in range(100)} for r in range(200)]},
            "'dataframe_records' has 20000 columns",
        ),
        ({"instances": [{f"c{i}": 1 for i in range(WIDE)}]}, "'instances'"),
        ({"inputs": {f"c{i}": [1] for i in range(WIDE)}}, "'inputs'"),
    ],
    ids=["split-columns", "split-rows", "records", "records-union", "instances", "inputs"],
)
def test_json_tables_wider_than_the_limit_are_400_naming_the_limit(
    payload: dict[str, Any], where: str
) -> None:
    response = _post(_app(), json.dumps(payload), "application/json")
    assert response.status_code == 400
    message = response.json()["message"]
    assert where in message
    assert f"limit of {MAX_COLUMNS} columns" in message


def test_the_limit_is_a_setting() -> None:
    app = _app(max_columns=3)
    assert _post(app, "a,b,c\n1,2,3\n", "text/csv").json() == {"predictions": [1]}
    wide = _post(app, "a,b,c,d\n1,2,3,4\n", "text/csv")
    assert wide.status_code == 400
    assert "the CSV header has 4 columns, more than" in wide.json()["message"]
    rows = {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3]]}}
    assert _post(app, json.dumps(rows), "application/json").status_code == 200
    with pytest.raises(ValueError, match="max_columns"):
        ScoringSettings(max_columns=0)


def test_a_tensor_input_is_not_a_table() -> None:
    """A long vector (an image, an embedding) is one input, not many columns."""
    response = _post(_app(), json.dumps({"inputs": [[0.5] * WIDE]}), "application/json")
    assert response.json() == {"predictions": [1]}


# -- integers longer than Python reads ----------------------------------------------------------

HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"inputs": [[1, 2], [3, N]]}', "inputs[1][1]"),
        ('{"dataframe_split": {"columns": ["a"], "data": [[-N]]}}', "dataframe_split.data[0][0]"),
        ('{"dataframe_records": [{"a": 1}, {"a": N}]}', "dataframe_records[1].a"),
        ('{"inputs": [1], "params": {"n": N}}', "params.n"),
    ],
    ids=["inputs", "split", "records", "params"],
)
def test_a_5000_digit_integer_is_a_400_naming_the_field(body: str, path: str) -> None:
    response = _post(_app(), body.replace("N", HUGE), "application/json")
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "BAD_REQUEST",
        "message": f"Invalid input: the integer at '{path}' has 5000 digits, more than the "
        "4300 a number may have",
    }


def test_a_csv_integer_too_large_for_its_column_is_a_400_naming_the_column() -> None:
    model = RowCounter(Schema([ColSpec("long", "a"), ColSpec("long", "b")]))
    response = _post(_app(model), f"a,b\n1,{'9' * 40}\n", "text/csv")
    assert response.status_code == 400
    assert "CSV column 'b' does not fit the model's type" in response.json()["message"]


# -- a client that goes away --------------------------------------------------------------------


def test_a_client_disconnecting_mid_body_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    app = create_scoring_app(RowCounter())
    messages = [
        {"type": "http.request", "body": b'{"inputs": [1, 2', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/invocations",
        "raw_path": b"/invocations",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
        "client": ("10.0.0.7", 50123),
        "server": ("127.0.0.1", 5000),
    }
    with caplog.at_level(logging.DEBUG, logger="mltrail.serving"):
        asyncio.run(app(scope, receive, send))
    records = [r for r in caplog.records if r.name.startswith("mltrail")]
    assert [r.getMessage() for r in records] == [
        "Client 10.0.0.7:50123 disconnected before sending the whole request body"
    ]
    assert records[0].exc_info is None
    assert records[0].levelno == logging.INFO
    assert sent[0]["status"] == 499
