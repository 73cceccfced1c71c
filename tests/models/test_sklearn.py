"""The scikit-learn flavor: skops by default, every standard estimator round-trips."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeRegressor

import mltrail
import mltrail as mlflow
from mltrail.exceptions import InvalidArgument, PermissionDenied
from mltrail.models import Model
from mltrail.models.signature import infer_signature


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.random(60), "b": rng.random(60)})
    y = (X["a"] + X["b"] > 1).astype(int).to_numpy()
    return X, y


ESTIMATORS = [
    RandomForestClassifier(n_estimators=4, random_state=0),
    GradientBoostingRegressor(n_estimators=4),
    HistGradientBoostingClassifier(max_iter=4),
    LogisticRegression(),
    SVC(),
    KNeighborsClassifier(n_neighbors=3),
    KMeans(2, n_init=1, random_state=0),
    DecisionTreeRegressor(max_depth=3),
    make_pipeline(StandardScaler(), FunctionTransformer(np.abs), LogisticRegression()),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_standard_estimators_round_trip_with_skops(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], estimator: Any
) -> None:
    X, y = data
    estimator.fit(X, y)
    mlflow.sklearn.save_model(estimator, tmp_path / "m", pip_requirements=["scikit-learn"])
    assert os.path.isfile(tmp_path / "m" / "model.skops")
    native = mlflow.sklearn.load_model(str(tmp_path / "m"))
    assert type(native) is type(estimator)
    np.testing.assert_array_equal(native.predict(X), estimator.predict(X))
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


def test_mlmodel_matches_mlflows_layout(tmp_path: Path, data: tuple[pd.DataFrame, Any]) -> None:
    X, y = data
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    signature = infer_signature(X, model.predict(X))
    mlflow.sklearn.save_model(model, tmp_path / "m", signature=signature, input_example=X.head(2))
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["flavors"]["sklearn"] == {
        "code": None,
        "pickled_model": "model.skops",
        "serialization_format": "skops",
        "sklearn_version": __import__("sklearn").__version__,
        "skops_trusted_types": ["sklearn.tree._tree.Tree"],
    }
    pyfunc = content["flavors"]["python_function"]
    assert pyfunc["loader_module"] == "mlflow.sklearn"
    assert pyfunc["model_path"] == "model.skops"
    assert pyfunc["predict_fn"] == "predict"
    assert pyfunc["python_version"] == platform.python_version()
    assert pyfunc["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert content["signature"] == signature.to_dict()
    assert content["saved_input_example_info"] == {
        "artifact_path": "input_example.json",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
        "type": "dataframe",
    }
    assert len(content["model_uuid"]) == 32
    assert content["model_size_bytes"] > 0
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving["dataframe_split"]["columns"] == ["a", "b"]


def test_environment_files(tmp_path: Path, data: tuple[pd.DataFrame, Any]) -> None:
    X, y = data
    model = LinearRegression().fit(X, y)
    mlflow.sklearn.save_model(model, tmp_path / "m", extra_pip_requirements=["requests>=2"])
    from importlib.metadata import version

    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={version('scikit-learn')}" in requirements
    assert f"skops=={version('skops')}" in requirements
    assert f"numpy=={version('numpy')}" in requirements
    assert requirements[-1] == "requests>=2"
    assert all("mltrail" not in r for r in requirements)
    python_env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert python_env["python"] == platform.python_version()
    assert python_env["dependencies"] == ["-r requirements.txt"]
    assert any(d.startswith("pip==") for d in python_env["build_dependencies"])
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][0] == f"python={platform.python_version()}"
    assert conda["dependencies"][-1]["pip"] == requirements


def test_pickle_formats_infer_requirements_in_a_subprocess(
    tmp_path: Path, data: tuple[pd.DataFrame, Any]
) -> None:
    X, y = data
    model = LogisticRegression().fit(X, y)
    mlflow.sklearn.save_model(model, tmp_path / "m", serialization_format="cloudpickle")
    from importlib.metadata import version

    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={version('scikit-learn')}" in requirements
    assert f"cloudpickle=={version('cloudpickle')}" in requirements
    conf = Model.load(tmp_path / "m").flavors["sklearn"]
    assert conf["serialization_format"] == "cloudpickle"
    assert conf["pickled_model"] == "model.pkl"
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X), model.predict(X)
    )
    mlflow.sklearn.save_model(
        model, tmp_path / "p", serialization_format="pickle", pip_requirements=["scikit-learn"]
    )
    assert type(mlflow.sklearn.load_model(str(tmp_path / "p"))) is LogisticRegression
    with pytest.raises(InvalidArgument, match="serialization_format 'joblib'"):
        mlflow.sklearn.save_model(model, tmp_path / "j", serialization_format="joblib")


def test_pickle_setting_refuses_pickles_but_not_standard_skops(
    tmp_path: Path, data: tuple[pd.DataFrame, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = data
    model = RandomForestClassifier(n_estimators=2).fit(X, y)
    reqs = ["scikit-learn"]
    mlflow.sklearn.save_model(model, tmp_path / "s", pip_requirements=reqs)
    mlflow.sklearn.save_model(
        model, tmp_path / "p", serialization_format="pickle", pip_requirements=reqs
    )
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    assert mlflow.sklearn.load_model(str(tmp_path / "s")) is not None
    with pytest.raises(PermissionDenied, match="pickle"):
        mlflow.sklearn.load_model(str(tmp_path / "p"))
    with pytest.raises(PermissionDenied):
        mlflow.pyfunc.load_model(str(tmp_path / "p"))


def test_skops_refuses_non_standard_types_unless_trusted(
    tmp_path: Path,
    data: tuple[pd.DataFrame, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = data
    module_dir = tmp_path / "usercode"
    module_dir.mkdir()
    (module_dir / "skops_custom_step.py").write_text(
        "from sklearn.base import BaseEstimator, TransformerMixin\n"
        "class Doubler(TransformerMixin, BaseEstimator):\n"
        "    def fit(self, X, y=None):\n"
        "        return self\n"
        "    def transform(self, X):\n"
        "        return X * 2\n"
    )
    monkeypatch.syspath_prepend(str(module_dir))
    from skops_custom_step import Doubler  # type: ignore[import-not-found]

    model = make_pipeline(Doubler(), LogisticRegression()).fit(X, y)
    mlflow.sklearn.save_model(model, tmp_path / "m", pip_requirements=["scikit-learn"])
    declared = Model.load(tmp_path / "m").flavors["sklearn"]["skops_trusted_types"]
    assert "skops_custom_step.Doubler" in declared
    # Declared by the model's own MLmodel: honoured only while pickle-like loading is allowed.
    assert mlflow.sklearn.load_model(str(tmp_path / "m")) is not None
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    with pytest.raises(PermissionDenied, match=r"skops_custom_step\.Doubler"):
        mlflow.sklearn.load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied):
        mlflow.pyfunc.load_model(str(tmp_path / "m"))
    trusted = mlflow.sklearn.load_model(
        str(tmp_path / "m"), skops_trusted_types=["skops_custom_step.Doubler"]
    )
    np.testing.assert_array_equal(trusted.predict(X), model.predict(X))


def test_log_model_as_the_seeds_write_it(tmp_path: Path, data: tuple[pd.DataFrame, Any]) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    X, y = data
    model = RandomForestClassifier(n_estimators=3).fit(X, y)
    y_pred = model.predict(X)
    signature = infer_signature(X, y_pred)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, "model", signature=signature)
        other = mlflow.sklearn.log_model(model, artifact_path="models_mlflow")
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.name == "model"
    assert other.name == "models_mlflow"
    assert info.signature == signature
    assert info.flavors["sklearn"]["serialization_format"] == "skops"
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), y_pred)
    native = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/models_mlflow")
    np.testing.assert_array_equal(native.predict(X), y_pred)
    with pytest.raises(InvalidArgument, match=r"column 'a'"):
        loaded.predict(pd.DataFrame({"a": ["x"], "b": [1.0]}))


def test_column_transformer_pipeline_with_strings(tmp_path: Path) -> None:
    frame = pd.DataFrame({"city": ["a", "b", "a", "c"] * 5, "size": np.arange(20.0)})
    y = (frame["size"] > 9).astype(int)
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("oh", OneHotEncoder(handle_unknown="ignore"), ["city"])],
                    remainder="passthrough",
                ),
            ),
            ("clf", LogisticRegression()),
        ]
    ).fit(frame, y)
    mlflow.sklearn.save_model(
        pipe, tmp_path / "m", input_example=frame.head(3), pip_requirements=["scikit-learn"]
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    sig = loaded.metadata.signature
    assert sig is not None
    assert sig.inputs is not None
    assert [c.to_dict()["type"] for c in sig.inputs] == ["string", "double"]
    np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(frame))


def _without_skops(monkeypatch: pytest.MonkeyPatch) -> None:
    """skops as if not installed (an import of it fails with ModuleNotFoundError)."""
    import sys

    for key in [k for k in sys.modules if k == "skops" or k.startswith("skops.")]:
        monkeypatch.setitem(sys.modules, key, None)
    monkeypatch.setitem(sys.modules, "skops", None)


def test_without_skops_the_default_is_cloudpickle_with_one_warning_line(
    tmp_path: Path,
    data: tuple[pd.DataFrame, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from importlib.metadata import version

    from mltrail.sklearn._flavor import NO_SKOPS_WARNING

    _without_skops(monkeypatch)
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    X, y = data
    model = LogisticRegression().fit(X, y)
    signature = infer_signature(X, model.predict(X))
    with caplog.at_level("WARNING", logger="mltrail.sklearn"), mlflow.start_run():
        info = mlflow.sklearn.log_model(model, "model", signature=signature)
    warnings = [r for r in caplog.records if r.name == "mltrail.sklearn"]
    assert [r.getMessage() for r in warnings] == [NO_SKOPS_WARNING]
    assert "\n" not in NO_SKOPS_WARNING
    assert "pip install 'mltrail[sklearn]'" in NO_SKOPS_WARNING
    assert info.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    assert info.flavors["sklearn"]["pickled_model"] == "model.pkl"
    local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl"))
    requirements = (Path(local) / "requirements.txt").read_text().splitlines()
    assert f"cloudpickle=={version('cloudpickle')}" in requirements
    assert not any(r.startswith("skops") for r in requirements)
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_without_skops_asking_for_it_is_the_one_line_error(
    tmp_path: Path, data: tuple[pd.DataFrame, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.exceptions import MissingDependency

    _without_skops(monkeypatch)
    X, y = data
    with pytest.raises(MissingDependency) as caught:
        mlflow.sklearn.save_model(
            LogisticRegression().fit(X, y), tmp_path / "m", serialization_format="skops"
        )
    assert str(caught.value) == (
        "The scikit-learn flavor's skops format needs skops: pip install 'mltrail[sklearn]'"
    )
