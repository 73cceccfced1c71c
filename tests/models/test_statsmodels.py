"""The statsmodels flavor: fitted results saved in statsmodels' own file, loaded back, served
as python_function models, and moved both ways with MLflow's flavor."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
from mltrail.exceptions import InvalidArgument, MltrailError

sm = pytest.importorskip("statsmodels.api")
statsmodels = pytest.importorskip("statsmodels")

pytestmark = [
    pytest.mark.filterwarnings("ignore:::mlflow"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    # statsmodels' ARIMA warns about a date index without a frequency
    pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ValueWarning"),
]


@pytest.fixture
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"const": 1.0, "a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = 2.0 + 3.0 * X["a"] - X["b"] + rng.normal(scale=0.1, size=60)
    return X, y


@pytest.fixture
def ols(data: tuple[pd.DataFrame, pd.Series]) -> Any:
    X, y = data
    return sm.OLS(y, X).fit()


def test_results_round_trip(tmp_path: Path, data: tuple[pd.DataFrame, pd.Series], ols: Any) -> None:
    X, _ = data
    mltrail.statsmodels.save_model(ols, tmp_path / "m", input_example=X.head(3))
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["flavors"]["statsmodels"] == {
        "code": None,
        "data": "model.statsmodels",
        "statsmodels_version": statsmodels.__version__,
    }
    assert content["flavors"]["python_function"]["loader_module"] == "mlflow.statsmodels"
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"statsmodels=={statsmodels.__version__}" in requirements
    native = mltrail.statsmodels.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(native.params, ols.params)
    loaded = mltrail.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(X), ols.predict(X))
    assert loaded.metadata.signature is not None  # inferred from the example
    assert loaded.get_raw_model().params.equals(ols.params)


def test_remove_data_leaves_the_training_data_out(
    tmp_path: Path, data: tuple[pd.DataFrame, pd.Series], ols: Any
) -> None:
    X, _ = data
    mltrail.statsmodels.save_model(ols, tmp_path / "full")
    mltrail.statsmodels.save_model(ols, tmp_path / "slim", remove_data=True)
    full = (tmp_path / "full" / "model.statsmodels").stat().st_size
    slim = (tmp_path / "slim" / "model.statsmodels").stat().st_size
    assert slim < full
    loaded = mltrail.pyfunc.load_model(str(tmp_path / "slim"))
    np.testing.assert_allclose(loaded.predict(X), ols.predict(X))


def test_a_time_series_model_predicts_a_period(tmp_path: Path) -> None:
    index = pd.date_range("2026-01-01", periods=48, freq="MS")
    series = pd.Series(np.sin(np.arange(48) / 4.0) + np.arange(48) / 10.0, index=index)
    results = sm.tsa.ARIMA(series, order=(1, 1, 0)).fit()
    mltrail.statsmodels.save_model(results, tmp_path / "arima")
    model = mltrail.pyfunc.load_model(str(tmp_path / "arima"))
    window = pd.DataFrame({"start": [48], "end": [53]})
    np.testing.assert_allclose(model.predict(window), results.predict(start=48, end=53))
    with pytest.raises(InvalidArgument, match="one row with the columns start and end"):
        model.predict(pd.DataFrame({"start": [48, 49], "end": [50, 51]}))
    with pytest.raises(InvalidArgument, match="one row with the columns start and end"):
        model.predict(pd.DataFrame({"begin": [48]}))


def test_bad_arguments_name_the_rule(tmp_path: Path, ols: Any) -> None:
    with pytest.raises(InvalidArgument, match="Invalid statsmodels_model of type OLS: expected"):
        mltrail.statsmodels.save_model(ols.model, tmp_path / "unfitted")
    with pytest.raises(InvalidArgument, match="Invalid remove_data 'yes'"):
        mltrail.statsmodels.save_model(ols, tmp_path / "m", remove_data="yes")  # type: ignore[arg-type]
    assert not (tmp_path / "unfitted").exists()


def test_loading_follows_the_pickle_setting(
    tmp_path: Path, ols: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    mltrail.statsmodels.save_model(ols, tmp_path / "m")
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    with pytest.raises(MltrailError, match="Refusing to load the statsmodels model"):
        mltrail.statsmodels.load_model(str(tmp_path / "m"))
    with pytest.raises(MltrailError, match="MLTRAIL_ALLOW_PICKLE is false"):
        mltrail.pyfunc.load_model(str(tmp_path / "m"))


def test_logged_to_a_run_and_loaded_by_uri(
    sqlite_uri: str, data: tuple[pd.DataFrame, pd.Series], ols: Any
) -> None:
    X, _ = data
    mltrail.set_tracking_uri(sqlite_uri)
    with mltrail.start_run():
        info = mltrail.statsmodels.log_model(ols, name="model", registered_model_name="demand")
    assert info.flavors["statsmodels"]["data"] == "model.statsmodels"
    np.testing.assert_allclose(
        mltrail.pyfunc.load_model("models:/demand/1").predict(X), ols.predict(X)
    )
    np.testing.assert_allclose(mltrail.statsmodels.load_model(info.model_uri).params, ols.params)


def test_models_move_both_ways_with_mlflow(
    tmp_path: Path,
    data: tuple[pd.DataFrame, pd.Series],
    ols: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with warnings.catch_warnings():  # MLflow warns while importing itself
        warnings.simplefilter("ignore")
        mlflow_statsmodels = pytest.importorskip("mlflow.statsmodels")
        mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
    # MLflow 3.17 reads pickle-based files only when told to.
    monkeypatch.setitem(os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    X, _ = data
    mltrail.statsmodels.save_model(ols, tmp_path / "ours", input_example=X.head(2))
    mlflow_statsmodels.save_model(ols, str(tmp_path / "theirs"), input_example=X.head(2))
    ours = yaml.safe_load((tmp_path / "ours" / "MLmodel").read_text())["flavors"]
    theirs = yaml.safe_load((tmp_path / "theirs" / "MLmodel").read_text())["flavors"]
    assert ours["statsmodels"] == theirs["statsmodels"]
    assert ours["python_function"]["loader_module"] == theirs["python_function"]["loader_module"]
    expected = ols.predict(X)
    for side in ("ours", "theirs"):
        path = str(tmp_path / side)
        np.testing.assert_allclose(mlflow_pyfunc.load_model(path).predict(X), expected)
        np.testing.assert_allclose(mltrail.pyfunc.load_model(path).predict(X), expected)
        np.testing.assert_allclose(mlflow_statsmodels.load_model(path).params, ols.params)
        np.testing.assert_allclose(mltrail.statsmodels.load_model(path).params, ols.params)
