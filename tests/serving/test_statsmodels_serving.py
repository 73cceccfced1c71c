"""A statsmodels model served by ``mltrail models serve``: a regression scored from JSON and
CSV bodies, a time series from its start and end, bad input answered 400."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.serving.conftest import child_env, run_server

import mltrail

sm = pytest.importorskip("statsmodels.api")


def _values(answer: httpx.Response) -> list[float]:
    """The predictions of a Series: records of one column, as MLflow's server writes them."""
    return [next(iter(row.values())) for row in answer.json()["predictions"]]


def test_a_statsmodels_model_is_served(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"const": 1.0, "a": rng.normal(size=40), "b": rng.normal(size=40)})
    ols = sm.OLS(1.0 + 2.0 * X["a"] + rng.normal(scale=0.1, size=40), X).fit()
    mltrail.statsmodels.save_model(ols, tmp_path / "ols", input_example=X.head(2))
    series = pd.Series(np.sin(np.arange(36) / 3.0) + np.arange(36) / 12.0)
    arima = sm.tsa.ARIMA(series, order=(1, 0, 0)).fit()
    mltrail.statsmodels.save_model(arima, tmp_path / "arima")
    with run_server(["-m", str(tmp_path / "ols")], tmp_path, child_env()) as server:
        body = {"dataframe_split": X.head(5).to_dict(orient="split", index=False)}
        answer = httpx.post(f"{server.url}/invocations", json=body, timeout=60)
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(_values(answer), ols.predict(X.head(5)))
        csv = X.head(3).to_csv(index=False)
        answer = httpx.post(
            f"{server.url}/invocations",
            content=csv,
            headers={"Content-Type": "text/csv"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(_values(answer), ols.predict(X.head(3)))
    with run_server(["-m", str(tmp_path / "arima")], tmp_path, child_env()) as server:
        window = {"dataframe_records": [{"start": 36, "end": 39}]}
        answer = httpx.post(f"{server.url}/invocations", json=window, timeout=60)
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(_values(answer), arima.predict(start=36, end=39))
        wrong = {"dataframe_records": [{"start": 36}]}
        answer = httpx.post(f"{server.url}/invocations", json=wrong, timeout=60)
        assert answer.status_code == 400
        assert "one row with the columns start and end" in answer.json()["message"]
