"""Every flavor the models package has, served and batch-scored: predictions equal the native
model's."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from tests.serving.conftest import child_env, run_server

from mltrail.cli import cli

FEATURES = ["a", "b", "c"]


def _data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=FEATURES)
    return X, (X["a"] - X["b"] > 0).astype(int)


def _xgb_classifier(path: Path) -> Callable[[pd.DataFrame], Any]:
    xgb = pytest.importorskip("xgboost")
    flavor = pytest.importorskip("mltrail.xgboost")
    from mltrail.models import infer_signature

    X, y = _data()
    model = xgb.XGBClassifier(n_estimators=8, max_depth=2).fit(X, y)
    flavor.save_model(
        model, path, signature=infer_signature(X, model.predict(X)), pip_requirements=["xgboost"]
    )
    return model.predict


def _xgb_booster(path: Path) -> Callable[[pd.DataFrame], Any]:
    xgb = pytest.importorskip("xgboost")
    flavor = pytest.importorskip("mltrail.xgboost")
    from mltrail.models import infer_signature

    X, _ = _data()
    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": 2}, xgb.DMatrix(X, label=2 * X["a"]), 8
    )
    flavor.save_model(
        booster,
        path,
        signature=infer_signature(X, booster.predict(xgb.DMatrix(X))),
        pip_requirements=["xgboost"],
    )
    return lambda frame: booster.predict(xgb.DMatrix(frame))


def _catboost(kind: str, path: Path) -> Callable[[pd.DataFrame], Any]:
    cb = pytest.importorskip("catboost")
    flavor = pytest.importorskip("mltrail.catboost")
    from mltrail.models import infer_signature

    X, y = _data()
    options = {"iterations": 8, "depth": 2, "verbose": False, "allow_writing_files": False}
    if kind == "classifier":
        model = cb.CatBoostClassifier(**options).fit(X, y)
    else:
        model = cb.CatBoostRegressor(**options).fit(X, 2 * X["a"] - X["c"])
    flavor.save_model(
        model, path, signature=infer_signature(X, model.predict(X)), pip_requirements=["catboost"]
    )
    return model.predict


def _keras(path: Path) -> Callable[[pd.DataFrame], Any]:
    flavor = pytest.importorskip("mltrail.keras")  # first: Keras then runs on PyTorch
    keras = pytest.importorskip("keras")

    X, y = _data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input([3]), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X.to_numpy(), y.to_numpy(), epochs=1, verbose=0)
    with warnings.catch_warnings():  # Keras' own NumPy 2 deprecation, saving optimizer state
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        # A column signature, inferred from the DataFrame example: a DataFrame in, one out.
        flavor.save_model(model, path, input_example=X.head(5), pip_requirements=["keras"])

    def native(frame: pd.DataFrame) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
            return model.predict(frame.to_numpy(), verbose=0)

    return native


def _sklearn_pipeline(path: Path) -> Callable[[pd.DataFrame], Any]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import mltrail.sklearn
    from mltrail.models import infer_signature

    X, y = _data()
    model = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0))
    model.fit(X, y)
    mltrail.sklearn.save_model(
        model,
        path,
        signature=infer_signature(X, model.predict(X)),
        pip_requirements=["scikit-learn"],
    )
    return model.predict


def _pyfunc_function(path: Path) -> Callable[[pd.DataFrame], Any]:
    import mltrail.pyfunc
    from mltrail.models import infer_signature

    X, _ = _data()

    def score(model_input: pd.DataFrame) -> Any:
        return (model_input["a"] * 2 + model_input["c"]).to_numpy()

    mltrail.pyfunc.save_model(
        path,
        python_model=score,
        signature=infer_signature(X, score(X)),
        pip_requirements=["pandas"],
    )
    return score


FLAVORS = {
    "xgboost-classifier": _xgb_classifier,
    "xgboost-booster": _xgb_booster,
    "sklearn-pipeline": _sklearn_pipeline,
    "catboost-classifier": lambda path: _catboost("classifier", path),
    "catboost-regressor": lambda path: _catboost("regressor", path),
    "keras-sequential": _keras,
    "pyfunc-function": _pyfunc_function,
}


@pytest.fixture(params=sorted(FLAVORS))
def flavor_model(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Callable[..., Any]]:
    path = tmp_path / request.param
    native = FLAVORS[request.param](path)
    return path, native


def _close(predictions: Any, expected: Any) -> None:
    if isinstance(predictions, list) and predictions and isinstance(predictions[0], dict):
        predictions = [list(row.values()) for row in predictions]  # a DataFrame's records
    np.testing.assert_allclose(
        np.asarray(predictions, dtype=float), np.asarray(expected, dtype=float), rtol=1e-6
    )


def test_batch_prediction_equals_the_native_model(
    flavor_model: tuple[Path, Callable[..., Any]], tmp_path: Path
) -> None:
    path, native = flavor_model
    X, _ = _data()
    source = tmp_path / "in.csv"
    X.to_csv(source, index=False)
    result = CliRunner().invoke(
        cli, ["models", "predict", "-m", str(path), "-i", str(source), "-t", "csv"]
    )
    assert result.exit_code == 0, result.output
    _close(json.loads(result.stdout)["predictions"], native(X))


@pytest.mark.slow
def test_served_predictions_equal_the_native_model(
    flavor_model: tuple[Path, Callable[..., Any]], tmp_path: Path
) -> None:
    path, native = flavor_model
    X, _ = _data()
    with run_server(["-m", str(path)], tmp_path, child_env()) as server:
        response = httpx.post(
            server.url + "/invocations",
            json={"dataframe_split": X.to_dict(orient="split")},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        _close(response.json()["predictions"], native(X))
        csv = httpx.post(
            server.url + "/invocations",
            content=X.to_csv(index=False),
            headers={"Content-Type": "text/csv"},
            timeout=60,
        )
        _close(csv.json()["predictions"], native(X))
        wrong = httpx.post(
            server.url + "/invocations", json={"dataframe_records": [{"a": 1.0}]}, timeout=60
        )
        assert wrong.status_code == 400
        assert "'b'" in wrong.json()["message"]


def _transformers_model(task: str, path: Path) -> Any:
    """A tiny local pipeline of *task* saved by mltrail (nothing is downloaded)."""
    pytest.importorskip("transformers")
    flavor = pytest.importorskip("mltrail.transformers")
    from tests.models._tiny_transformers import GENERATION_CONFIG, build

    pipeline = build(task, path.parent / f"{task}-vocab")
    config = GENERATION_CONFIG if task == "text-generation" else None
    flavor.save_model(pipeline, path, pip_requirements=["transformers"], model_config=config)
    return pipeline


def _mlflows_answer(path: Path, texts: list[str]) -> Any:
    """What MLflow's scoring server answers: its python_function's output, as JSON."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
        predictions = mlflow_pyfunc.load_model(str(path)).predict(texts)
    if isinstance(predictions, pd.DataFrame):
        return json.loads(predictions.to_json(orient="records"))
    return predictions


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("task", ["text-classification", "token-classification", "text-generation"])
def test_transformers_batch_prediction_equals_mlflows(task: str, tmp_path: Path) -> None:
    from tests.models._tiny_transformers import INPUTS

    path = tmp_path / "model"
    _transformers_model(task, path)
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"inputs": INPUTS[task]}))
    result = CliRunner().invoke(cli, ["models", "predict", "-m", str(path), "-i", str(source)])
    assert result.exit_code == 0, result.output
    predictions = json.loads(result.stdout)["predictions"]
    expected = _mlflows_answer(path, INPUTS[task])
    if task == "text-classification":
        assert [p["label"] for p in predictions] == [e["label"] for e in expected]
        _close([p["score"] for p in predictions], [e["score"] for e in expected])
    else:
        assert predictions == expected


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_transformers_served_predictions_equal_mlflows(tmp_path: Path) -> None:
    from tests.models._tiny_transformers import INPUTS

    path = tmp_path / "model"
    _transformers_model("text-classification", path)
    texts = INPUTS["text-classification"]
    expected = _mlflows_answer(path, texts)
    with run_server(["-m", str(path)], tmp_path, child_env(HF_HUB_OFFLINE="1")) as server:
        for body in (
            {"inputs": texts},
            {"dataframe_split": {"columns": ["text"], "data": [[t] for t in texts]}},
        ):
            response = httpx.post(server.url + "/invocations", json=body, timeout=60)
            assert response.status_code == 200, response.text
            predictions = response.json()["predictions"]
            assert [p["label"] for p in predictions] == [e["label"] for e in expected]
            _close([p["score"] for p in predictions], [e["score"] for e in expected])
        wrong = httpx.post(server.url + "/invocations", json={"inputs": [1.5]}, timeout=60)
        assert wrong.status_code == 400
