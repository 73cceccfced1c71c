"""Models move both ways: MLflow loads mltrail's models and mltrail loads MLflow's.

``mlflow`` is a test-only dependency.  MLflow 3.17 refuses to deserialize any model (skops
included) unless ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is true, so the tests that load with
MLflow set it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mltrail as ours

with warnings.catch_warnings():  # MLflow warns while importing itself
    warnings.simplefilter("ignore")
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("mlflow.pyfunc")
    pytest.importorskip("mlflow.sklearn")

pytestmark = [
    # MLflow's own warnings (integer-column hints, pickle cautions) are not under test here.
    pytest.mark.filterwarnings("ignore:::mlflow"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture(autouse=True)
def _allow_mlflow_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.random(40), "b": rng.random(40)})
    return X, (X["a"] > X["b"]).astype(int).to_numpy()


SIGNATURE_CASES: list[Any] = [
    pd.DataFrame(
        {
            "f": [1.0, 2.0],
            "i": [1, 2],
            "s": ["x", "y"],
            "b": [True, False],
            "i32": np.array([1, 2], dtype=np.int32),
            "f32": np.array([1, 2], dtype=np.float32),
            "t": pd.to_datetime(["2020-01-01", "2020-01-02"]),
            "raw": [b"a", b"b"],
        }
    ),
    pd.DataFrame({"gap": [1.0, None], "s": ["x", None]}),
    pd.Series([1.0, 2.0], name="s"),
    pd.Series([1, 2]),
    np.zeros((3, 4), dtype=np.float32),
    np.array([1, 2, 3]),
    np.array(["a", "b"]),
    {"x": np.zeros((2, 3)), "y": np.array([1, 2])},
    {"a": 1, "b": "x", "c": 1.5},
    {"a": [1, 2], "b": ["x", "y"]},
    ["a", "b"],
    [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
    [1, 2, 3],
    [1.0, 2.5],
    "hello",
    5,
    2.5,
    True,
    b"x",
]


@pytest.mark.parametrize("case", range(len(SIGNATURE_CASES)))
def test_infer_signature_matches_mlflow(case: int) -> None:
    value = SIGNATURE_CASES[case]
    assert ours.models.infer_signature(value).to_dict() == (
        mlflow.models.infer_signature(value).to_dict()
    )


def test_infer_params_matches_mlflow() -> None:
    params = {
        "a": 1,
        "b": 1.5,
        "c": "s",
        "d": True,
        "e": [1, 2],
        "f": dt.datetime(2020, 1, 1),
        "g": np.int32(3),
        "h": [1.0],
    }
    x = np.zeros((2, 2))
    assert ours.models.infer_signature(x, params=params).to_dict() == (
        mlflow.models.infer_signature(x, params=params).to_dict()
    )


def test_mltrail_sklearn_model_loads_in_mlflow(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    X, y = data
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    signature = ours.models.infer_signature(X, model.predict(X))
    ours.sklearn.save_model(model, tmp_path / "m", signature=signature, input_example=X.head(2))
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(theirs.predict(X), model.predict(X))
    np.testing.assert_array_equal(
        theirs.predict(X), ours.pyfunc.load_model(str(tmp_path / "m")).predict(X)
    )
    native = mlflow.sklearn.load_model(str(tmp_path / "m"))
    assert type(native) is RandomForestClassifier
    meta = mlflow.models.Model.load(str(tmp_path / "m"))
    assert meta.signature.to_dict() == signature.to_dict()
    example = meta.load_input_example(str(tmp_path / "m"))
    pd.testing.assert_frame_equal(example, X.head(2).reset_index(drop=True))


def test_a_model_saved_without_skops_loads_in_mlflow(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    """Where skops is not installed mltrail saves with cloudpickle; MLflow reads it."""
    import sys

    from sklearn.linear_model import LogisticRegression

    X, y = data
    model = LogisticRegression().fit(X, y)
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in sys.modules if k == "skops" or k.startswith("skops.")]:
            patch.setitem(sys.modules, key, None)
        patch.setitem(sys.modules, "skops", None)
        ours.sklearn.save_model(model, tmp_path / "m")
    conf = mlflow.models.Model.load(str(tmp_path / "m")).flavors["sklearn"]
    assert conf["serialization_format"] == "cloudpickle"
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X), model.predict(X)
    )
    assert type(mlflow.sklearn.load_model(str(tmp_path / "m"))) is LogisticRegression


def test_mlflow_sklearn_models_load_in_mltrail(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    pipe = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=3)).fit(X, y)
    signature = mlflow.models.infer_signature(X, forest.predict(X))
    # MLflow cannot reload its own skops forest without this argument (mltrail can).
    mlflow.sklearn.save_model(
        forest,
        str(tmp_path / "skops"),
        signature=signature,
        skops_trusted_types=["sklearn.tree._tree.Tree"],
    )
    mlflow.sklearn.save_model(
        pipe, str(tmp_path / "cp"), serialization_format="cloudpickle", input_example=X.head(3)
    )
    loaded = ours.pyfunc.load_model(str(tmp_path / "skops"))
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))
    assert loaded.metadata.signature.to_dict() == signature.to_dict()
    assert type(ours.sklearn.load_model(str(tmp_path / "skops"))) is RandomForestClassifier
    other = ours.pyfunc.load_model(str(tmp_path / "cp"))
    np.testing.assert_array_equal(other.predict(X), pipe.predict(X))
    meta = ours.models.Model.load(tmp_path / "cp")
    assert meta.extra["mlflow_version"] == mlflow.__version__
    pd.testing.assert_frame_equal(meta.load_input_example(tmp_path / "cp"), X.head(3))


class OurModel(ours.pyfunc.PythonModel):
    def load_context(self, context: Any) -> None:
        with open(context.artifacts["offset"]) as f:
            self.offset = float(f.read())

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        scale = (params or {}).get("scale", 1.0)
        return (model_input["x"] * scale + self.offset).to_numpy()


with warnings.catch_warnings():  # MLflow inspects the type hints of subclasses
    warnings.simplefilter("ignore")

    class TheirModel(mlflow.pyfunc.PythonModel):
        def load_context(self, context: Any) -> None:
            with open(context.artifacts["offset"]) as f:
                self.offset = float(f.read())

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            scale = (params or {}).get("scale", 1.0)
            return (model_input["x"] * scale + self.offset).to_numpy()


@pytest.fixture
def offset_file(tmp_path: Path) -> str:
    path = tmp_path / "offset.txt"
    path.write_text("10")
    return str(path)


def test_mltrail_python_model_loads_in_mlflow(tmp_path: Path, offset_file: str) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    signature = ours.models.infer_signature(frame, np.array([11.0, 12.0]), params={"scale": 1.0})
    ours.pyfunc.save_model(
        tmp_path / "m",
        python_model=OurModel(),
        artifacts={"offset": offset_file},
        signature=signature,
        pip_requirements=["numpy"],
    )
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    mine = ours.pyfunc.load_model(str(tmp_path / "m"))
    expected = [12.0, 14.0]
    assert theirs.predict(frame, params={"scale": 2.0}).tolist() == expected
    assert mine.predict(frame, params={"scale": 2.0}).tolist() == expected


def test_mlflow_python_model_loads_in_mltrail(tmp_path: Path, offset_file: str) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    signature = mlflow.models.infer_signature(frame, np.array([11.0, 12.0]), params={"scale": 1.0})
    mlflow.pyfunc.save_model(
        str(tmp_path / "m"),
        python_model=TheirModel(),
        artifacts={"offset": offset_file},
        signature=signature,
        pip_requirements=["numpy"],
    )
    mine = ours.pyfunc.load_model(str(tmp_path / "m"))
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert mine.predict(frame, params={"scale": 3.0}).tolist() == [13.0, 16.0]
    assert theirs.predict(frame, params={"scale": 3.0}).tolist() == [13.0, 16.0]
    assert mine.metadata.signature.to_dict() == signature.to_dict()


def test_mlmodel_files_read_both_ways(tmp_path: Path, data: tuple[pd.DataFrame, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = data
    model = LogisticRegression().fit(X, y)
    mlflow.sklearn.save_model(model, str(tmp_path / "theirs"), input_example=X.head(2))
    ours.sklearn.save_model(model, tmp_path / "ours", input_example=X.head(2))
    mine = ours.models.Model.load(tmp_path / "theirs")
    theirs = mlflow.models.Model.load(str(tmp_path / "ours"))
    assert mine.signature.to_dict() == theirs.signature.to_dict()
    assert mine.saved_input_example_info == theirs.saved_input_example_info
    assert set(mine.flavors) == set(theirs.flavors) == {"python_function", "sklearn"}
    # A read-modify-write keeps keys mltrail does not know (MLflow's own).
    mine.save(tmp_path / "theirs" / "MLmodel")
    again = mlflow.models.Model.load(str(tmp_path / "theirs"))
    assert again.mlflow_version == mlflow.__version__
    assert again.model_uuid == mine.model_uuid


def test_xgboost_models_move_both_ways(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    xgb = pytest.importorskip("xgboost")
    pytest.importorskip("mlflow.xgboost")
    X, y = data
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), 4)
    clf = xgb.XGBClassifier(n_estimators=3).fit(X, y)
    ours.xgboost.save_model(booster, tmp_path / "ours_booster")
    ours.xgboost.save_model(clf, tmp_path / "ours_clf")
    mlflow.xgboost.save_model(booster, str(tmp_path / "theirs_booster"))
    mlflow.xgboost.save_model(clf, str(tmp_path / "theirs_clf"))
    expected = booster.predict(xgb.DMatrix(X))
    for name in ("ours_booster", "theirs_booster"):
        path = str(tmp_path / name)
        np.testing.assert_allclose(mlflow.pyfunc.load_model(path).predict(X), expected)
        np.testing.assert_allclose(ours.pyfunc.load_model(path).predict(X), expected)
    for name in ("ours_clf", "theirs_clf"):
        path = str(tmp_path / name)
        np.testing.assert_array_equal(mlflow.pyfunc.load_model(path).predict(X), clf.predict(X))
        np.testing.assert_array_equal(ours.pyfunc.load_model(path).predict(X), clf.predict(X))
        assert type(ours.xgboost.load_model(path)) is type(mlflow.xgboost.load_model(path))


def test_lightgbm_models_move_both_ways(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    lgb = pytest.importorskip("lightgbm")
    pytest.importorskip("mlflow.lightgbm")
    X, y = data
    booster = lgb.train(
        {"objective": "binary", "verbose": -1}, lgb.Dataset(X, label=y), num_boost_round=4
    )
    clf = lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)
    reg = lgb.LGBMRegressor(n_estimators=3, verbose=-1).fit(X, X["a"])
    ours.lightgbm.save_model(booster, tmp_path / "ours_booster")
    mlflow.lightgbm.save_model(booster, str(tmp_path / "theirs_booster"))
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(str(tmp_path / "ours_booster")).predict(X), booster.predict(X)
    )
    np.testing.assert_allclose(
        ours.pyfunc.load_model(str(tmp_path / "theirs_booster")).predict(X), booster.predict(X)
    )
    assert isinstance(mlflow.lightgbm.load_model(str(tmp_path / "ours_booster")), lgb.Booster)
    assert isinstance(ours.lightgbm.load_model(str(tmp_path / "theirs_booster")), lgb.Booster)
    for estimator, fmt in ((clf, "skops"), (reg, "skops"), (clf, "cloudpickle")):
        name = f"{type(estimator).__name__}_{fmt}"
        ours.lightgbm.save_model(estimator, tmp_path / f"ours_{name}", serialization_format=fmt)
        mlflow.lightgbm.save_model(
            estimator, str(tmp_path / f"theirs_{name}"), serialization_format=fmt
        )
        for side in ("ours", "theirs"):
            path = str(tmp_path / f"{side}_{name}")
            expected = estimator.predict(X)
            np.testing.assert_array_equal(mlflow.pyfunc.load_model(path).predict(X), expected)
            np.testing.assert_array_equal(ours.pyfunc.load_model(path).predict(X), expected)
            assert type(ours.lightgbm.load_model(path)) is type(estimator)
            assert type(mlflow.lightgbm.load_model(path)) is type(estimator)


def test_catboost_models_move_both_ways(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    cb = pytest.importorskip("catboost")
    pytest.importorskip("mlflow.catboost")
    X, y = data
    options = {"iterations": 5, "depth": 2, "verbose": False, "allow_writing_files": False}
    models = {
        "classifier": cb.CatBoostClassifier(**options).fit(X, y),
        "regressor": cb.CatBoostRegressor(**options).fit(X, X["a"]),
        "ranker": cb.CatBoostRanker(**options).fit(X, X["a"], group_id=np.arange(len(X)) // 5),
    }
    for kind, model in models.items():
        for fmt in ("cbm", "json"):
            ours.catboost.save_model(model, tmp_path / f"ours_{kind}_{fmt}", format=fmt)
            mlflow.catboost.save_model(model, str(tmp_path / f"theirs_{kind}_{fmt}"), format=fmt)
            for side in ("ours", "theirs"):
                path = str(tmp_path / f"{side}_{kind}_{fmt}")
                expected = model.predict(X)
                np.testing.assert_allclose(mlflow.pyfunc.load_model(path).predict(X), expected)
                loaded = ours.pyfunc.load_model(path)
                np.testing.assert_allclose(loaded.predict(X), expected)
                assert type(loaded.get_raw_model()) is type(model)
                assert type(ours.catboost.load_model(path)) is type(model)
                assert type(mlflow.catboost.load_model(path)) is type(model)
    ours_conf = ours.models.Model.load(str(tmp_path / "ours_classifier_cbm")).flavors
    theirs_conf = mlflow.models.Model.load(str(tmp_path / "theirs_classifier_cbm")).flavors
    assert ours_conf["catboost"] == theirs_conf["catboost"]
    assert {k: v for k, v in ours_conf["python_function"].items() if k != "python_version"} == {
        k: v for k, v in theirs_conf["python_function"].items() if k != "python_version"
    }


def test_catboost_categorical_models_with_signatures_move_both_ways(tmp_path: Path) -> None:
    cb = pytest.importorskip("catboost")
    pytest.importorskip("mlflow.catboost")
    rng = np.random.default_rng(6)
    X = pd.DataFrame({"city": rng.choice(["oslo", "lima"], 50), "x": rng.random(50)})
    y = np.where(X["city"] == "oslo", "north", np.where(X["x"] > 0.5, "high", "low"))
    clf = cb.CatBoostClassifier(
        iterations=5, verbose=False, allow_writing_files=False, cat_features=["city"]
    ).fit(X, y)
    ours.catboost.save_model(clf, tmp_path / "ours", input_example=X.head(3))
    mlflow.catboost.save_model(clf, str(tmp_path / "theirs"), input_example=X.head(3))
    for side in ("ours", "theirs"):
        path = str(tmp_path / side)
        assert (
            ours.pyfunc.load_model(path).metadata.signature.to_dict()
            == mlflow.pyfunc.load_model(path).metadata.signature.to_dict()
        )
        shuffled = X[["x", "city"]]  # both reorder the columns as the signature says
        np.testing.assert_array_equal(
            ours.pyfunc.load_model(path).predict(shuffled), clf.predict(X)
        )
        np.testing.assert_array_equal(
            mlflow.pyfunc.load_model(path).predict(shuffled), clf.predict(X)
        )


def test_catboost_takes_mlflows_arguments() -> None:
    import inspect

    pytest.importorskip("mlflow.catboost")
    for fn in ("save_model", "log_model", "load_model", "get_default_pip_requirements"):
        theirs = list(inspect.signature(getattr(mlflow.catboost, fn)).parameters)
        mine = list(inspect.signature(getattr(ours.catboost, fn)).parameters)
        # mltrail's log_model also takes run_id (every flavor's does), before **kwargs
        assert [p for p in mine if p != "run_id"] == theirs, fn


def test_onnx_models_move_both_ways(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("mlflow.onnx")
    from onnx import TensorProto, helper, numpy_helper

    weights = np.linspace(-1, 1, 400).astype(np.float32).reshape(-1, 1)  # external data
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 400])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(0).random((5, 400)).astype(np.float32)
    frame = pd.DataFrame(x.astype(np.float64))
    expected = x @ weights
    signature = ours.models.infer_signature(x, expected)
    ours.onnx.save_model(model, tmp_path / "ours", signature=signature)
    mlflow.onnx.save_model(
        model, str(tmp_path / "theirs"), signature=mlflow.models.infer_signature(x, expected)
    )
    for side in ("ours", "theirs"):
        path = str(tmp_path / side)
        for loader in (ours.pyfunc.load_model, mlflow.pyfunc.load_model):
            loaded = loader(path)
            np.testing.assert_allclose(loaded.predict(x)["y"], expected, atol=1e-4)
        np.testing.assert_allclose(
            ours.pyfunc.load_model(path).predict(frame.astype(np.float32))["y"],
            mlflow.pyfunc.load_model(path).predict(frame.astype(np.float32))["y"],
            rtol=1e-6,
        )
        for load in (ours.onnx.load_model, mlflow.onnx.load_model):
            native = load(path)
            assert isinstance(native, onnx.ModelProto)
            np.testing.assert_array_equal(
                numpy_helper.to_array(native.graph.initializer[0]), weights
            )


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pytorch_models_move_both_ways(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("mlflow.pytorch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    x = np.random.default_rng(5).random((6, 3)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    ours.pytorch.save_model(
        net, tmp_path / "ours_pickle", input_example=x[:2], serialization_format="pickle"
    )
    ours.pytorch.save_model(net, tmp_path / "ours_pt2", input_example=x[:2])  # pt2 by default
    mlflow.pytorch.save_model(
        net, str(tmp_path / "theirs_pickle"), serialization_format="pickle", input_example=x[:2]
    )
    mlflow.pytorch.save_model(
        net,
        str(tmp_path / "theirs_pt2"),
        input_example=x[:2],
        signature=mlflow.models.infer_signature(x, expected),
    )
    for name in ("ours_pickle", "ours_pt2", "theirs_pickle", "theirs_pt2"):
        path = str(tmp_path / name)
        for loader in (ours.pyfunc.load_model, mlflow.pyfunc.load_model):
            np.testing.assert_allclose(loader(path).predict(x), expected, rtol=1e-6)
        for load in (ours.pytorch.load_model, mlflow.pytorch.load_model):
            with torch.no_grad():
                out = load(path)(torch.from_numpy(x)).numpy()
            np.testing.assert_allclose(out, expected, rtol=1e-6)
    state = tmp_path / "state"
    ours.pytorch.save_state_dict(net.state_dict(), state)
    loaded_state = mlflow.pytorch.load_state_dict(str(state))
    assert loaded_state.keys() == net.state_dict().keys()
    mlflow.pytorch.save_state_dict(net.state_dict(), str(tmp_path / "their_state"))
    theirs_state = ours.pytorch.load_state_dict(str(tmp_path / "their_state"))
    for key, value in net.state_dict().items():
        assert torch.equal(theirs_state[key], value)
        assert torch.equal(loaded_state[key], value)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_pytorch_export_model_and_torch_load_kwargs_as_in_mlflow(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("mlflow.pytorch")
    import yaml

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    x = np.random.default_rng(6).random((5, 3)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    # export_model=True: MLflow's deprecated spelling of serialization_format="pt2".
    with pytest.warns(FutureWarning, match="export_model"):
        ours.pytorch.save_model(net, tmp_path / "ours", input_example=x[:2], export_model=True)
    with pytest.warns(FutureWarning, match="export_model"):
        mlflow.pytorch.save_model(
            net, str(tmp_path / "theirs"), input_example=x[:2], export_model=True
        )
    assert _files(tmp_path / "ours") == _files(tmp_path / "theirs")
    assert "data/model.pt2" in _files(tmp_path / "ours")
    confs = [yaml.safe_load((tmp_path / d / "MLmodel").read_text()) for d in ("ours", "theirs")]
    assert confs[0]["flavors"] == confs[1]["flavors"]
    assert confs[0]["signature"] == confs[1]["signature"]
    for name in ("ours", "theirs"):
        for load in (ours.pytorch.load_model, mlflow.pytorch.load_model):
            with torch.no_grad():
                out = load(str(tmp_path / name))(torch.from_numpy(x)).numpy()
            np.testing.assert_allclose(out, expected, rtol=1e-6)
    # Both refuse export_model=True with serialization_format="pickle".
    with pytest.raises(ours.exceptions.MlflowException) as our_error:
        ours.pytorch.save_model(
            net,
            tmp_path / "a",
            input_example=x[:2],
            export_model=True,
            serialization_format="pickle",
        )
    with pytest.raises(mlflow.exceptions.MlflowException) as their_error:
        mlflow.pytorch.save_model(
            net, str(tmp_path / "b"), export_model=True, serialization_format="pickle"
        )
    assert our_error.value.error_code == their_error.value.error_code == "INVALID_PARAMETER_VALUE"
    # load_model's keyword arguments reach torch.load (a pickled module).
    ours.pytorch.save_model(net, tmp_path / "ours_pickle", serialization_format="pickle")
    mlflow.pytorch.save_model(net, str(tmp_path / "theirs_pickle"), serialization_format="pickle")
    for name in ("ours_pickle", "theirs_pickle"):
        path = str(tmp_path / name)
        for load in (ours.pytorch.load_model, mlflow.pytorch.load_model):
            loaded = load(path, map_location="cpu", weights_only=False)
            with torch.no_grad():
                np.testing.assert_allclose(loaded(torch.from_numpy(x)).numpy(), expected)
            # weights_only=True refuses a whole module (its classes are not allow-listed).
            with pytest.raises(Exception, match=r"[Ww]eights"):
                load(path, weights_only=True)


def test_pytorch_tensor_examples_as_in_mlflow(tmp_path: Path) -> None:
    """A tensor example is traced from but not written; a traced program gets no
    python_function flavor, a pickled module does (and no inferred signature)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("mlflow.pytorch")
    import yaml

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    x = np.random.default_rng(7).random((5, 3)).astype(np.float32)
    with torch.no_grad():
        y = net(torch.from_numpy(x)).numpy()
    example = torch.from_numpy(x[:2])
    for fmt in ("pt2", "pickle"):
        saved = {}
        for name, lib in (("ours", ours), ("theirs", mlflow)):
            path = tmp_path / f"{name}_{fmt}"
            signature = lib.models.infer_signature(x, y) if fmt == "pt2" else None
            lib.pytorch.save_model(
                net, str(path), input_example=example, signature=signature, serialization_format=fmt
            )
            content = yaml.safe_load((path / "MLmodel").read_text())
            saved[name] = (_files(path), sorted(content["flavors"]), content.get("signature"))
            for load in (ours.pytorch.load_model, mlflow.pytorch.load_model):
                with torch.no_grad():
                    out = load(str(path))(torch.from_numpy(x)).numpy()
                np.testing.assert_allclose(out, y, rtol=1e-6)
        assert saved["ours"] == saved["theirs"]
        assert ("python_function" in saved["ours"][1]) is (fmt == "pickle")


class OurConfigured(ours.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return [context.model_config.get("mode", "unset")] * len(model_input)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")

    class TheirConfigured(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return [context.model_config.get("mode", "unset")] * len(model_input)


@pytest.mark.parametrize("saved_by", ["mltrail", "mlflow"])
def test_model_config_is_read_by_both(tmp_path: Path, saved_by: str) -> None:
    """``model_config`` is stored under MLflow's key (``config``) and read from it."""
    path = str(tmp_path / "m")
    if saved_by == "mltrail":
        ours.pyfunc.save_model(
            path, python_model=OurConfigured(), model_config={"mode": "fast"}, pip_requirements=[]
        )
    else:
        mlflow.pyfunc.save_model(
            path, python_model=TheirConfigured(), model_config={"mode": "fast"}, pip_requirements=[]
        )
    frame = pd.DataFrame({"x": [1.0]})
    assert list(ours.pyfunc.load_model(path).predict(frame)) == ["fast"]
    assert list(mlflow.pyfunc.load_model(path).predict(frame)) == ["fast"]
    overridden = ours.pyfunc.load_model(path, model_config={"mode": "safe"})
    assert list(overridden.predict(frame)) == ["safe"]
