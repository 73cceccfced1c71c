"""Schema enforcement at predict time: MLflow's casting rules and clear errors."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from mltrail.exceptions import InvalidArgument
from mltrail.models import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec
from mltrail.models._enforce import enforce_params, enforce_schema

SCHEMA = Schema(
    [
        ColSpec("double", "a"),
        ColSpec("long", "b"),
        ColSpec("string", "c"),
        ColSpec("boolean", "d", required=False),
    ]
)


def test_conforming_frame_is_passed_through_without_copy() -> None:
    df = pd.DataFrame({"a": [1.0], "b": [1], "c": ["x"], "d": [True]})
    assert enforce_schema(df, SCHEMA) is df


def test_reorders_drops_extra_and_allows_missing_optional() -> None:
    df = pd.DataFrame({"zzz": [0], "c": ["x"], "b": [2], "a": [1.5]})
    out = enforce_schema(df, SCHEMA)
    assert list(out.columns) == ["a", "b", "c"]
    assert out["b"].dtype == np.int64


def test_missing_required_column_is_named() -> None:
    df = pd.DataFrame({"a": [1.0], "zzz": [0]})
    with pytest.raises(
        InvalidArgument, match=r"missing inputs \['b', 'c'\].*extra inputs \['zzz'\]"
    ):
        enforce_schema(df, SCHEMA)


def test_safe_upcasts() -> None:
    df = pd.DataFrame(
        {
            "a": np.array([1, 2], dtype=np.int32),  # int32 -> double
            "b": np.array([1, 2], dtype=np.int16),  # int16 -> long
            "c": np.array(["x", "y"], dtype=object),
        }
    )
    out = enforce_schema(df, SCHEMA)
    assert out["a"].dtype == np.float64
    assert out["b"].dtype == np.int64
    f32 = enforce_schema(
        pd.DataFrame({"x": np.array([1.5], dtype=np.float32)}), Schema([ColSpec("double", "x")])
    )
    assert f32["x"].dtype == np.float64
    unsigned = enforce_schema(
        pd.DataFrame({"x": np.array([1], dtype=np.uint32)}), Schema([ColSpec("long", "x")])
    )
    assert unsigned["x"].dtype == np.int64
    zero_one = enforce_schema(pd.DataFrame({"x": [0, 1]}), Schema([ColSpec("double", "x")]))
    assert zero_one["x"].dtype == np.float64
    dates = enforce_schema(
        pd.DataFrame({"t": ["2020-01-01", "2021-02-03"]}).astype(object),
        Schema([ColSpec("datetime", "t")]),
    )
    assert dates["t"].dtype.kind == "M"


def test_unsafe_casts_name_column_expected_and_received_types() -> None:
    with pytest.raises(InvalidArgument) as info:
        enforce_schema(pd.DataFrame({"a": [1.5], "b": [2.5], "c": ["x"]}), SCHEMA)
    message = info.value.message
    assert "'b'" in message
    assert "long" in message
    assert "float64" in message
    with pytest.raises(InvalidArgument, match=r"column 'a': expected type double.*got int64"):
        enforce_schema(pd.DataFrame({"a": [5], "b": [1], "c": ["x"]}), SCHEMA)
    with pytest.raises(InvalidArgument, match=r"column 'c': expected type string.*got int64"):
        enforce_schema(pd.DataFrame({"a": [1.0], "b": [1], "c": [3]}), SCHEMA)
    with pytest.raises(InvalidArgument, match="missing values"):
        enforce_schema(pd.DataFrame({"x": [1.0, None]}), Schema([ColSpec("long", "x")]))
    with pytest.raises(InvalidArgument, match=r"column 'x': expected type float"):
        enforce_schema(pd.DataFrame({"x": [1.5]}), Schema([ColSpec("float", "x")]))


def test_other_input_shapes_become_frames() -> None:
    assert list(enforce_schema({"a": 1.0, "b": 2, "c": "x"}, SCHEMA)["b"]) == [2]
    records = [{"a": 1.0, "b": 1, "c": "x"}, {"a": 2.0, "b": 2, "c": "y"}]
    assert len(enforce_schema(records, SCHEMA)) == 2
    columns = enforce_schema({"a": [1.0, 2.0], "b": [1, 2], "c": ["x", "y"]}, SCHEMA)
    assert len(columns) == 2
    unnamed = enforce_schema(["p", "q"], Schema([ColSpec("string")]))
    assert unnamed.iloc[:, 0].tolist() == ["p", "q"]
    two = Schema([ColSpec("double", "a"), ColSpec("double", "b")])
    assert enforce_schema(np.array([[1.0, 2.0]]), two).columns.tolist() == ["a", "b"]
    with pytest.raises(InvalidArgument, match="column-based"):
        enforce_schema(object(), SCHEMA)


def test_tensor_schema() -> None:
    schema = Schema([TensorSpec(np.dtype("float32"), (-1, 2))])
    arr = np.zeros((3, 2), dtype=np.float32)
    assert enforce_schema(arr, schema) is arr
    assert enforce_schema([[1, 2]], schema).dtype == np.float32  # JSON lists take the dtype
    with pytest.raises(InvalidArgument, match=r"shape \(3, 3\) does not match.*\(-1, 2\)"):
        enforce_schema(np.zeros((3, 3), dtype=np.float32), schema)
    with pytest.raises(InvalidArgument, match="expected dtype float32, got dtype float64"):
        enforce_schema(np.zeros((3, 2)), schema)
    named = Schema(
        [TensorSpec(np.dtype("int64"), (-1,), "x"), TensorSpec(np.dtype("float64"), (-1,), "y")]
    )
    out = enforce_schema({"x": np.array([1]), "y": np.array([1.0]), "extra": 1}, named)
    assert set(out) == {"x", "y"}
    with pytest.raises(InvalidArgument, match=r"missing inputs \['y'\]"):
        enforce_schema({"x": np.array([1])}, named)


def test_params(caplog: pytest.LogCaptureFixture) -> None:
    schema = ParamSchema([ParamSpec("k", "long", 1), ParamSpec("xs", "double", [1.0], (-1,))])
    assert enforce_params(None, schema) == {"k": 1, "xs": [1.0]}
    assert enforce_params({"k": "5"}, schema) == {"k": 5, "xs": [1.0]}
    with pytest.raises(InvalidArgument, match="param 'k': expected type long"):
        enforce_params({"k": "five"}, schema)
    with pytest.raises(InvalidArgument, match="param 'xs'"):
        enforce_params({"xs": 2.0}, schema)
    with caplog.at_level(logging.WARNING):
        assert enforce_params({"k": 2, "other": 1}, schema) == {"k": 2, "xs": [1.0]}
        assert enforce_params({"k": 2}, None) is None
    assert "other" in caplog.text
    assert "declares no params" in caplog.text
