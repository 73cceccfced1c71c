"""Schemas and signatures: JSON shapes, inference from data, validation errors."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from mltrail.exceptions import InvalidArgument
from mltrail.models import (
    ColSpec,
    DataType,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    infer_signature,
)


def test_infer_signature_importable_as_users_write_it() -> None:
    import mltrail as mlflow
    from mltrail.models.signature import infer_signature as from_module

    assert from_module is infer_signature
    assert mlflow.models.signature.infer_signature is infer_signature
    assert mlflow.models.infer_signature is infer_signature


def test_colspec_json_shape() -> None:
    assert ColSpec("double", "a").to_dict() == {"type": "double", "name": "a", "required": True}
    assert ColSpec(DataType.string, required=False).to_dict() == {
        "type": "string",
        "required": False,
    }
    raw = {"type": "array", "items": {"type": "long"}, "name": "xs", "required": True}
    spec = ColSpec.from_json_dict(raw)
    assert not spec.is_scalar
    assert spec.to_dict() == raw


def test_tensorspec_json_shape_puts_name_first() -> None:
    spec = TensorSpec(np.dtype("float32"), (-1, 4), "x")
    assert json.dumps(spec.to_dict()) == (
        '{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}'
    )
    assert TensorSpec.from_json_dict(spec.to_dict()) == spec
    assert TensorSpec(np.dtype("<U5"), (-1,)).to_dict()["tensor-spec"]["dtype"] == "str"


def test_schema_round_trip_and_rules() -> None:
    schema = Schema([ColSpec("double", "a"), ColSpec("string", "b", required=False)])
    assert Schema.from_json(schema.to_json()) == schema
    assert schema.input_names() == ["a", "b"]
    assert schema.required_input_names() == ["a"]
    assert schema.optional_input_names() == ["b"]
    with pytest.raises(InvalidArgument, match="not both"):
        Schema([ColSpec("double", "a"), TensorSpec(np.dtype("float64"), (-1,), "b")])
    with pytest.raises(InvalidArgument, match="Duplicate names"):
        Schema([ColSpec("double", "a"), ColSpec("long", "a")])
    with pytest.raises(InvalidArgument, match="every input"):
        Schema([ColSpec("double", "a"), ColSpec("long")])
    with pytest.raises(InvalidArgument, match="Unknown column type 'decimal'"):
        ColSpec("decimal", "a")


def test_param_spec_validation() -> None:
    spec = ParamSpec("k", "long", 3)
    assert spec.to_dict() == {"name": "k", "default": 3, "shape": None, "type": "long"}
    listed = ParamSpec("xs", DataType.double, [1, 2.5], shape=(-1,))
    assert listed.default == [1.0, 2.5]
    when = ParamSpec("t", "datetime", "2024-01-02T03:04:05")
    assert when.default == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert when.to_dict()["default"] == "2024-01-02T03:04:05"
    with pytest.raises(InvalidArgument, match=r"param 'k': expected type long, got str"):
        ParamSpec("k", "long", "three")
    with pytest.raises(InvalidArgument, match="only None"):
        ParamSpec("k", "long", 1, shape=(2,))
    with pytest.raises(InvalidArgument, match="expected type boolean"):
        ParamSpec("b", "boolean", 1)
    schema = ParamSchema([spec, listed])
    assert ParamSchema.from_json(schema.to_json()) == schema
    with pytest.raises(InvalidArgument, match="Duplicate param names"):
        ParamSchema([spec, spec])


def _inputs(data: object) -> list[dict[str, object]]:
    signature = infer_signature(data)
    assert signature.inputs is not None
    return signature.inputs.to_dict()


def test_infer_from_dataframe_types_and_missing_values() -> None:
    df = pd.DataFrame(
        {
            "f64": [1.0, 2.0],
            "i64": [1, 2],
            "s": ["x", "y"],
            "b": [True, False],
            "i32": np.array([1, 2], dtype=np.int32),
            "f32": np.array([1, 2], dtype=np.float32),
            "t": pd.to_datetime(["2020-01-01", "2020-01-02"]),
            "raw": [b"a", b"b"],
            "gap": [1.0, None],
        }
    )
    assert [(c["name"], c["type"], c["required"]) for c in _inputs(df)] == [
        ("f64", "double", True),
        ("i64", "long", True),
        ("s", "string", True),
        ("b", "boolean", True),
        ("i32", "integer", True),
        ("f32", "float", True),
        ("t", "datetime", True),
        ("raw", "binary", True),
        ("gap", "double", False),
    ]


def test_infer_from_arrays_dicts_lists_and_scalars() -> None:
    assert _inputs(np.zeros((3, 4), dtype=np.float32)) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}
    ]
    named = _inputs({"x": np.zeros((2, 3)), "y": np.array([1, 2])})
    assert [c["name"] for c in named] == ["x", "y"]
    assert _inputs({"a": 1, "b": "x"}) == [
        {"type": "long", "name": "a", "required": True},
        {"type": "string", "name": "b", "required": True},
    ]
    assert _inputs({"xs": [1, 2]}) == [
        {"type": "array", "items": {"type": "long"}, "name": "xs", "required": True}
    ]
    assert _inputs(["a", "b"]) == [{"type": "string", "required": True}]
    assert _inputs([{"a": 1}, {"a": 2, "b": "x"}]) == [
        {"type": "long", "name": "a", "required": True},
        {"type": "string", "name": "b", "required": False},
    ]
    assert _inputs(pd.Series([1.0], name="s")) == [
        {"type": "double", "name": "s", "required": True}
    ]
    assert _inputs(2.5) == [{"type": "double", "required": True}]
    assert _inputs(b"x") == [{"type": "binary", "required": True}]


def test_infer_rejects_what_it_cannot_describe() -> None:
    with pytest.raises(InvalidArgument, match="column 'c': categorical"):
        infer_signature(pd.DataFrame({"c": pd.Categorical(["a", "b"])}))
    with pytest.raises(InvalidArgument, match="mixes types"):
        infer_signature(pd.DataFrame({"m": ["a", 1]}))
    with pytest.raises(InvalidArgument, match="empty list"):
        infer_signature([])
    with pytest.raises(InvalidArgument, match="Cannot infer a schema from object"):
        infer_signature(object())


def test_infer_params() -> None:
    signature = infer_signature(
        np.zeros(2),
        params={
            "a": 1,
            "b": 1.5,
            "c": "s",
            "d": True,
            "e": [1, 2],
            "f": dt.datetime(2020, 1, 1),
            "g": np.int32(3),
        },
    )
    assert signature.params is not None
    assert [(p.name, p.dtype.name, p.shape) for p in signature.params] == [
        ("a", "long", None),
        ("b", "double", None),
        ("c", "string", None),
        ("d", "boolean", None),
        ("e", "long", (-1,)),
        ("f", "datetime", None),
        ("g", "integer", None),
    ]
    with pytest.raises(InvalidArgument, match="param 'bad'"):
        infer_signature(np.zeros(2), params={"bad": object()})


def test_signature_dict_round_trip() -> None:
    signature = infer_signature(
        pd.DataFrame({"a": [1.0]}), np.array([1]), params={"k": 1, "xs": [1.0]}
    )
    as_dict = signature.to_dict()
    assert set(as_dict) == {"inputs", "outputs", "params"}
    assert all(isinstance(v, str) for v in as_dict.values())
    assert ModelSignature.from_dict(as_dict) == signature
    assert infer_signature(np.zeros(2)).to_dict()["params"] is None
    assert "inputs: " in repr(signature)
    with pytest.raises(InvalidArgument, match="at least one"):
        ModelSignature()
    with pytest.raises(InvalidArgument, match="expected a Schema"):
        ModelSignature(inputs="nope")  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore::UserWarning")  # MLflow's integer-column hint
def test_list_columns_are_arrays_as_in_mlflow() -> None:
    """A column of lists (of lists) is an array column; inferring it used to raise TypeError."""
    mlflow_models = pytest.importorskip("mlflow.models")
    frame = pd.DataFrame(
        {"tokens": [[1, 2], [3], [4, 5, 6]], "nested": [[[1.0]], [[2.0, 3.0]], [[4.0]]]}
    )
    ours = infer_signature(frame).inputs.to_dict()
    assert ours == mlflow_models.infer_signature(frame).inputs.to_dict()
    assert ours[0] == {
        "type": "array",
        "items": {"type": "long"},
        "name": "tokens",
        "required": True,
    }
