"""The XGBoost flavor: Boosters and the scikit-learn API in XGBoost's native format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
import mltrail as mlflow
from mltrail.exceptions import InvalidArgument
from mltrail.models.signature import infer_signature

xgb = pytest.importorskip("xgboost")


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.random(80), "b": rng.random(80)})
    return X, (X["a"] > 0.5).astype(int).to_numpy()


def test_booster_round_trip(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), 5)
    expected = booster.predict(xgb.DMatrix(X))
    mlflow.xgboost.save_model(booster, tmp_path / "m", input_example=X.head(3))
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["flavors"]["xgboost"] == {
        "code": None,
        "data": "model.ubj",
        "model_class": "xgboost.core.Booster",
        "model_format": "ubj",
        "xgb_version": xgb.__version__,
    }
    assert content["flavors"]["python_function"]["loader_module"] == "mlflow.xgboost"
    requirements = (tmp_path / "m" / "requirements.txt").read_text()
    assert f"xgboost=={xgb.__version__}" in requirements.splitlines()
    native = mlflow.xgboost.load_model(str(tmp_path / "m"))
    assert isinstance(native, xgb.Booster)
    np.testing.assert_allclose(native.predict(xgb.DMatrix(X)), expected)
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(X), expected)
    assert loaded.metadata.signature is not None  # inferred from the example


def test_sklearn_api_logged_to_a_run(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    X, y = data
    clf = xgb.XGBClassifier(n_estimators=4).fit(X, y)
    signature = infer_signature(X, clf.predict(X))
    with mlflow.start_run():
        info = mlflow.xgboost.log_model(
            clf, artifact_path="models_mlflow", signature=signature, model_format="json"
        )
    native = mlflow.xgboost.load_model(info.model_uri)
    assert isinstance(native, xgb.XGBClassifier)
    np.testing.assert_array_equal(native.predict(X), clf.predict(X))
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(info.model_uri).predict(X), clf.predict(X)
    )
    assert info.flavors["xgboost"]["model_format"] == "json"


def test_refuses_foreign_model_classes(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, y = data
    booster = xgb.train({}, xgb.DMatrix(X, label=y), 2)
    mlflow.xgboost.save_model(booster, tmp_path / "m")
    mlmodel = tmp_path / "m" / "MLmodel"
    content = yaml.safe_load(mlmodel.read_text())
    content["flavors"]["xgboost"]["model_class"] = "subprocess.Popen"
    mlmodel.write_text(yaml.safe_dump(content))
    with pytest.raises(InvalidArgument, match="not an XGBoost class"):
        mlflow.xgboost.load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidArgument, match="Invalid xgb_model"):
        mlflow.xgboost.save_model(object(), tmp_path / "n")
    with pytest.raises(InvalidArgument, match="model_format"):
        mlflow.xgboost.save_model(booster, tmp_path / "o", model_format="pickle")
