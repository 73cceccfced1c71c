"""Reading scoring requests: content types, the four JSON formats, CSV and Parquet."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mltrail._exceptions import BadRequest
from mltrail.models._schema import ColSpec, DataType, Schema, TensorSpec
from mltrail.serving import (
    PayloadTooLarge,
    UnsupportedMediaType,
    parse_content_type,
    parse_csv_input,
    parse_json_input,
    parse_parquet_input,
    parse_request,
)

COLS = Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c")])


def _json(obj: Any, schema: Schema | None = None) -> Any:
    return parse_json_input(json.dumps(obj).encode(), schema)


# --- content types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=UTF-8", "application/json"),
        ("text/csv;charset=utf8", "text/csv"),
        ("application/vnd.apache.parquet", "application/vnd.apache.parquet"),
        ('application/json; charset="utf-8"', "application/json"),
    ],
)
def test_content_types_read(header: str, expected: str) -> None:
    assert parse_content_type(header) == expected


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (None, "Missing Content-Type"),
        ("", "Missing Content-Type"),
        ("text/plain", "'text/plain'"),
        ("application/xml", "'application/xml'"),
        ("application/json; charset=latin-1", "'latin-1'"),
        ("application/json; format=pandas-split", "'format'"),
    ],
)
def test_unsupported_content_types_are_415(header: str | None, named: str) -> None:
    with pytest.raises(UnsupportedMediaType, match=named) as info:
        parse_content_type(header)
    assert info.value.http_status == 415
    assert info.value.to_dict()["error_code"] == "BAD_REQUEST"


def test_payload_too_large_is_413() -> None:
    assert PayloadTooLarge("x").http_status == 413


# --- JSON -----------------------------------------------------------------------------------------


def test_dataframe_split() -> None:
    parsed = _json({"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, 2], [3.0, 4]]}}, COLS)
    assert parsed.format == "dataframe_split"
    assert parsed.params is None
    pd.testing.assert_frame_equal(parsed.data, pd.DataFrame({"a": [1.5, 3.0], "b": [2, 4]}))


def test_dataframe_split_with_index_and_params() -> None:
    parsed = _json(
        {
            "dataframe_split": {"index": [7, 8], "columns": ["x"], "data": [[1], [2]]},
            "params": {"k": 3},
        }
    )
    assert list(parsed.data.index) == [7, 8]
    assert parsed.params == {"k": 3}


def test_dataframe_records() -> None:
    parsed = _json({"dataframe_records": [{"a": 1.0, "c": "x"}, {"a": 2.0, "c": "y"}]})
    assert parsed.format == "dataframe_records"
    assert parsed.data.to_dict(orient="list") == {"a": [1.0, 2.0], "c": ["x", "y"]}


def test_instances_rows_become_an_array() -> None:
    parsed = _json({"instances": [[1, 2], [3, 4]]})
    assert isinstance(parsed.data, np.ndarray)
    assert parsed.data.tolist() == [[1, 2], [3, 4]]


def test_instances_records_become_columns() -> None:
    parsed = _json({"instances": [{"a": 1.0, "c": "x"}, {"a": 2.0, "c": "y"}]}, COLS)
    assert set(parsed.data) == {"a", "c"}
    assert parsed.data["a"].tolist() == [1.0, 2.0]
    assert parsed.data["c"].dtype == object


def test_instances_records_with_missing_fields_are_refused() -> None:
    with pytest.raises(BadRequest, match=r"same fields.*'b'"):
        _json({"instances": [{"a": 1, "b": 2}, {"a": 3}]})


def test_inputs_columns_and_arrays() -> None:
    parsed = _json({"inputs": {"x": [[1.0, 2.0]], "y": [1]}})
    assert parsed.data["x"].shape == (1, 2)
    assert _json({"inputs": [[1, 2, 3]]}).data.shape == (1, 3)


def test_inputs_take_the_tensor_dtype() -> None:
    schema = Schema([TensorSpec(np.float32, (-1, 2))])
    parsed = _json({"inputs": [[1, 2], [3.5, 4]]}, schema)
    assert parsed.data.dtype == np.float32
    named = Schema([TensorSpec(np.float32, (-1, 2), "x"), TensorSpec(np.int64, (-1,), "n")])
    data = _json({"inputs": {"x": [[1, 2]], "n": [3]}}, named).data
    assert data["x"].dtype == np.float32
    assert data["n"].dtype == np.int64


def test_inputs_never_truncate_floats_into_int_tensors() -> None:
    schema = Schema([TensorSpec(np.int64, (-1,), "n")])
    with pytest.raises(BadRequest, match=r"input 'n' of 'inputs' cannot be read as int64"):
        _json({"inputs": {"n": [1.5]}}, schema)
    with pytest.raises(BadRequest, match=r"cannot be read as float32 values \(got strings\)"):
        _json({"inputs": [["a"]]}, Schema([TensorSpec(np.float32, (-1, 1))]))


def test_single_named_input_takes_a_bare_list() -> None:
    schema = Schema([TensorSpec(np.float64, (-1,), "x")])
    data = _json({"inputs": [1, 2]}, schema).data
    assert list(data) == ["x"]
    assert data["x"].tolist() == [1.0, 2.0]


def test_ragged_inputs_are_refused() -> None:
    with pytest.raises(BadRequest, match="not a rectangular array"):
        _json({"inputs": [[1, 2], [3]]})


def test_binary_columns_are_base64_decoded() -> None:
    schema = Schema([ColSpec("binary", "blob"), ColSpec("long", "n")])
    encoded = base64.b64encode(b"\x00\xffabc").decode()
    frame = _json({"dataframe_records": [{"blob": encoded, "n": 1}]}, schema).data
    assert frame["blob"].tolist() == [b"\x00\xffabc"]
    columns = _json({"inputs": {"blob": [encoded], "n": [1]}}, schema).data
    assert columns["blob"].tolist() == [b"\x00\xffabc"]
    with pytest.raises(BadRequest, match="column 'blob' holds binary data that is not base64"):
        _json({"dataframe_records": [{"blob": "a", "n": 1}]}, schema)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"inputs": "\xc3\x28"}', "not UTF-8"),
        (b"[1, 2]", "expected a JSON object, got a list"),
        (b'"text"', "expected a JSON object, got a string"),
        (b"{}", "got none of them"),
        (b'{"params": {}}', "got none of them"),
        (b'{"inputs": [1], "instances": [1]}', "got 'instances', 'inputs'"),
        (b'{"inputs": [1], "param": {}}', "unknown key\\(s\\) 'param'"),
        (b'{"inputs": [1], "params": [1]}', "'params' must be a JSON object"),
        (b'{"dataframe_split": [[1]]}', "'dataframe_split' must be an object"),
        (b'{"dataframe_split": {"columns": ["a"]}}', "has no 'data'"),
        (b'{"dataframe_split": {"data": [[1]], "rows": 1}}', "unknown key\\(s\\) 'rows'"),
        (b'{"dataframe_split": {"data": 5}}', "'dataframe_split.data' must be a list"),
        (b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', "split orientation"),
        (b'{"dataframe_records": {"a": 1}}', "must be a list of records, got an object"),
        (b'{"dataframe_records": [1, 2]}', "'dataframe_records\\[0\\]' must be an object"),
        (b'{"instances": [{"a": 1}, 2]}', "'instances\\[1\\]' is a number"),
    ],
)
def test_bad_json_is_a_400_naming_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message) as info:
        parse_json_input(body, None)
    assert info.value.http_status == 400
    assert info.value.error_code == "BAD_REQUEST"


def test_deeply_nested_json_is_a_400() -> None:
    body = b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_json_input(body, None)


def test_error_messages_do_not_echo_the_body() -> None:
    secret = "s3cr3t" * 100
    with pytest.raises(BadRequest) as info:
        parse_json_input(("{" + json.dumps(secret)).encode(), None)
    assert "s3cr3t" not in info.value.message


# --- CSV and Parquet ------------------------------------------------------------------------------


def test_csv_uses_the_schema_types() -> None:
    frame = parse_csv_input(b"a,b,c\n1,2,x\n3,4,y\n", COLS)
    assert frame["a"].dtype == np.float64  # an integer-looking column read as the schema says
    assert frame["b"].dtype == np.int64
    assert frame["c"].tolist() == ["x", "y"]
    assert parse_csv_input(b"a,b\n1,2\n", None)["a"].dtype == np.int64


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "CSV body is empty"),
        (b"a,b,c\nx,2,z\n", "does not match the model's schema"),
        (b'a,b,c\n1,2,"x\n', "malformed"),
    ],
)
def test_bad_csv_is_a_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_csv_input(body, COLS)


def test_parquet_round_trip() -> None:
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    parsed = parse_request(buffer.getvalue(), "application/vnd.apache.parquet", None)
    assert parsed.format == "parquet"
    pd.testing.assert_frame_equal(parsed.data, frame)
    with pytest.raises(BadRequest, match="not a readable Parquet file"):
        parse_parquet_input(b"not parquet at all")


def test_parse_request_dispatches_on_content_type() -> None:
    assert parse_request(b"a\n1\n", "text/csv", None).format == "csv"
    assert parse_request(b'{"inputs": [1]}', "application/json", None).format == "inputs"
    with pytest.raises(UnsupportedMediaType):
        parse_request(b"", "image/png", None)


def test_schema_types_exist() -> None:
    assert DataType.double.to_numpy() == np.float64


def test_json_numbers_are_read_as_the_schema_types() -> None:
    schema = Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("integer", "c")])
    frame = _json(
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2.0, 3]]}}, schema
    ).data
    assert [str(t) for t in frame.dtypes] == ["float64", "int64", "int32"]
    # a fraction is never truncated into an integer column: the signature check reports it
    kept = _json({"dataframe_records": [{"a": 1, "b": 2.5, "c": 1}]}, schema).data
    assert kept["b"].tolist() == [2.5]
    # out of range for int32: left for the signature check
    big = _json({"dataframe_records": [{"a": 1, "b": 1, "c": 2**40}]}, schema).data
    assert big["c"].dtype == np.int64
    columns = _json({"inputs": {"a": [1, 2], "b": [1.0, 2.0], "c": [1]}}, schema).data
    assert columns["a"].dtype == np.float64
    assert columns["b"].dtype == np.int64


def test_numeric_rows_keep_booleans_and_strings() -> None:
    frame = _json({"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, True]]}}).data
    assert frame["b"].tolist() == [True]
    assert frame["b"].dtype == bool
    mixed = _json({"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, "x"]]}}).data
    assert mixed["a"].dtype == np.float64
    assert mixed["b"].tolist() == ["x"]
    fast = _json({"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, 2], [3, 4]]}}).data
    assert fast.to_dict(orient="list") == {"a": [1.5, 3.0], "b": [2.0, 4.0]}
