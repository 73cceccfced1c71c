"""The LightGBM flavor: Boosters in the native format and the scikit-learn API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
import mltrail as mlflow
from mltrail.exceptions import InvalidArgument, PermissionDenied
from mltrail.models.signature import infer_signature

lgb = pytest.importorskip("lightgbm")


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.random(80), "b": rng.random(80)})
    return X, (X["a"] > 0.5).astype(int).to_numpy()


def test_booster_round_trip(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    booster = lgb.train(
        {"objective": "binary", "verbose": -1}, lgb.Dataset(X, label=y), num_boost_round=5
    )
    expected = booster.predict(X)
    mlflow.lightgbm.save_model(booster, tmp_path / "m", input_example=X.head(3))
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    flavor = content["flavors"]["lightgbm"]
    assert flavor["data"] == "model.lgb"
    assert flavor["model_class"] == "lightgbm.basic.Booster"
    assert flavor["lgb_version"] == lgb.__version__
    assert content["flavors"]["python_function"]["loader_module"] == "mlflow.lightgbm"
    assert (tmp_path / "m" / "model.lgb").read_text().startswith("tree")
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"lightgbm=={lgb.__version__}" in requirements
    native = mlflow.lightgbm.load_model(str(tmp_path / "m"))
    assert isinstance(native, lgb.Booster)
    np.testing.assert_allclose(native.predict(X), expected)
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(X), expected)
    assert loaded.get_raw_model().num_trees() == booster.num_trees()
    assert loaded.metadata.signature is not None  # inferred from the example
    assert [c.name for c in loaded.metadata.signature.inputs.inputs] == ["a", "b"]


@pytest.mark.parametrize("fmt", ["skops", "cloudpickle", "pickle"])
def test_sklearn_api_logged_to_a_run(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], fmt: str
) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    X, y = data
    clf = lgb.LGBMClassifier(n_estimators=4, verbose=-1).fit(X, y)
    signature = infer_signature(X, clf.predict(X))
    with mlflow.start_run():
        info = mlflow.lightgbm.log_model(
            clf, name="lgbm", signature=signature, serialization_format=fmt
        )
    assert info.flavors["lightgbm"]["serialization_format"] == fmt
    assert info.flavors["lightgbm"]["model_class"] == "lightgbm.sklearn.LGBMClassifier"
    native = mlflow.lightgbm.load_model(info.model_uri)
    assert isinstance(native, lgb.LGBMClassifier)
    np.testing.assert_array_equal(native.predict(X), clf.predict(X))
    np.testing.assert_allclose(native.predict_proba(X), clf.predict_proba(X))
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    with pytest.raises(InvalidArgument, match="'a'"):
        loaded.predict(X.drop(columns=["a"]))


def test_regressor_skops_needs_no_pickle(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, _ = data
    reg = lgb.LGBMRegressor(n_estimators=3, verbose=-1).fit(X, X["a"] * 2)
    mlflow.lightgbm.save_model(reg, tmp_path / "skops")
    mlflow.lightgbm.save_model(reg, tmp_path / "pickle", serialization_format="pickle")
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(str(tmp_path / "skops")).predict(X), reg.predict(X)
    )
    with pytest.raises(PermissionDenied, match="MLTRAIL_ALLOW_PICKLE"):
        mlflow.lightgbm.load_model(str(tmp_path / "pickle"))


def test_bad_input_and_foreign_classes(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, y = data
    clf = lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, y)
    with pytest.raises(InvalidArgument, match="Invalid lgb_model"):
        mlflow.lightgbm.save_model(object(), tmp_path / "n")
    with pytest.raises(InvalidArgument, match="serialization_format"):
        mlflow.lightgbm.save_model(clf, tmp_path / "o", serialization_format="joblib")
    mlflow.lightgbm.save_model(clf, tmp_path / "m", serialization_format="pickle")
    mlmodel = tmp_path / "m" / "MLmodel"
    content = yaml.safe_load(mlmodel.read_text())
    content["flavors"]["lightgbm"]["model_class"] = "subprocess.Popen"
    mlmodel.write_text(yaml.safe_dump(content))
    with pytest.raises(InvalidArgument, match="not a LightGBM class"):
        mlflow.lightgbm.load_model(str(tmp_path / "m"))
