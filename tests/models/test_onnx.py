"""The ONNX flavor: graphs built with ``onnx.helper``, served by onnxruntime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
import mltrail as mlflow
from mltrail.exceptions import InvalidArgument
from mltrail.models.signature import infer_signature

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def linear_model(weights: np.ndarray, bias: float) -> Any:
    """``y = x @ weights + bias`` for float32 ``x`` of shape (n, len(weights))."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, len(weights)])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        [
            numpy_helper.from_array(weights.astype(np.float32).reshape(-1, 1), "w"),
            numpy_helper.from_array(np.array([bias], dtype=np.float32), "b"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def two_input_model() -> Any:
    """``sum = a + b`` and ``product = a * b`` for float32 vectors ``a`` and ``b``."""
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["a", "b"], ["sum"]),
            helper.make_node("Mul", ["a", "b"], ["product"]),
        ],
        "two",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [None]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [None]),
        ],
        [
            helper.make_tensor_value_info("sum", TensorProto.FLOAT, [None]),
            helper.make_tensor_value_info("product", TensorProto.FLOAT, [None]),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_single_input_round_trip(tmp_path: Path) -> None:
    model = linear_model(np.array([1.0, 2.0]), 0.5)
    x = np.array([[1.0, 1.0], [2.0, 0.0]], dtype=np.float32)
    mlflow.onnx.save_model(model, tmp_path / "m", input_example=x)
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["flavors"]["onnx"]["data"] == "model.onnx"
    assert content["flavors"]["onnx"]["onnx_version"] == onnx.__version__
    assert content["flavors"]["onnx"]["providers"] == mlflow.onnx.ONNX_EXECUTION_PROVIDERS
    assert content["flavors"]["python_function"]["loader_module"] == "mlflow.onnx"
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"onnx=={onnx.__version__}" in requirements
    assert any(r.startswith("onnxruntime==") for r in requirements)
    native = mlflow.onnx.load_model(str(tmp_path / "m"))
    assert isinstance(native, onnx.ModelProto)
    assert [n.op_type for n in native.graph.node] == ["MatMul", "Add"]
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    out = loaded.predict(x)
    np.testing.assert_allclose(out["y"], [[3.5], [2.5]])
    # A float64 DataFrame is cast for the float input; the output is a DataFrame.
    frame = pd.DataFrame({"p": [1.0, 2.0], "q": [1.0, 0.0]})
    result = loaded.predict(frame)
    assert list(result.columns) == ["y"]
    np.testing.assert_allclose(result["y"], [3.5, 2.5])
    assert loaded.get_raw_model().get_inputs()[0].name == "x"


def test_multi_input_logged_with_external_data(tmp_path: Path) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    weights = np.linspace(0, 1, 600)  # 2.4 kB: stored as external data
    model = linear_model(weights, 1.0)
    with mlflow.start_run():
        info = mlflow.onnx.log_model(model, name="linear")
        two = mlflow.onnx.log_model(
            two_input_model(),
            "two",
            onnx_execution_providers=["CPUExecutionProvider"],
            onnx_session_options={"intra_op_num_threads": 1, "graph_optimization_level": 99},
        )
    client = mltrail.MlflowClient()
    files = {f.path for f in client.list_logged_model_artifacts(str(info.model_id))}
    assert "model.onnx" in files
    assert len([f for f in files if f.endswith(".data")]) == 1  # the weights, outside the graph
    x = np.ones((2, 600), dtype=np.float32)
    out = mlflow.pyfunc.load_model(info.model_uri).predict(x)
    np.testing.assert_allclose(out["y"], np.full((2, 1), weights.sum() + 1.0), rtol=1e-5)
    assert model.graph.initializer[0].raw_data  # the caller's model keeps its weights
    native = mlflow.onnx.load_model(info.model_uri)
    np.testing.assert_allclose(numpy_helper.to_array(native.graph.initializer[0]).ravel(), weights)
    loaded = mlflow.pyfunc.load_model(two.model_uri)
    frame = pd.DataFrame({"b": [2.0, 3.0], "a": [1.0, 4.0]})
    result = loaded.predict(frame)
    assert result.to_dict("list") == {"sum": [3.0, 7.0], "product": [2.0, 12.0]}
    feeds = {"a": np.array([1.0], dtype=np.float32), "b": np.array([5.0], dtype=np.float32)}
    assert loaded.predict(feeds)["product"].tolist() == [5.0]
    with pytest.raises(InvalidArgument, match="one input only"):
        loaded.predict(np.ones((1, 2), dtype=np.float32))
    with pytest.raises(InvalidArgument, match=r"lacks the model inputs \['b'\]"):
        loaded.predict(pd.DataFrame({"a": [1.0]}))


def test_signature_is_enforced(tmp_path: Path) -> None:
    x = np.zeros((1, 2), dtype=np.float32)
    signature = infer_signature(x, np.zeros((1, 1), dtype=np.float32))
    mlflow.onnx.save_model(
        linear_model(np.array([1.0, 1.0]), 0.0), tmp_path / "m", signature=signature
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert loaded.predict(np.ones((3, 2), dtype=np.float32))["y"].shape == (3, 1)
    with pytest.raises(InvalidArgument, match="shape"):
        loaded.predict(np.ones((3, 5), dtype=np.float32))


def test_bad_arguments(tmp_path: Path) -> None:
    model = linear_model(np.array([1.0]), 0.0)
    with pytest.raises(InvalidArgument, match="Invalid onnx_model"):
        mlflow.onnx.save_model(object(), tmp_path / "a")
    with pytest.raises(InvalidArgument, match="onnx_execution_providers"):
        mlflow.onnx.save_model(model, tmp_path / "b", onnx_execution_providers="CPU")
    with pytest.raises(InvalidArgument, match="'no_such_option'"):
        mlflow.onnx.save_model(model, tmp_path / "c", onnx_session_options={"no_such_option": 1})
    broken = helper.make_model(
        helper.make_graph(
            [helper.make_node("NoSuchOp", ["x"], ["y"])],
            "broken",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    with pytest.raises(InvalidArgument, match="ONNX checker"):
        mlflow.onnx.save_model(broken, tmp_path / "d")
