"""The scoring server's fast lane (mltrail.serving._fast) answers exactly as the generic path:
the same response bytes for every request it takes, the same errors, and it leaves every
other request (and every model it cannot serve exactly) to the generic path."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mltrail.sklearn
from mltrail._exceptions import BadRequest, MltrailError
from mltrail.models import infer_signature
from mltrail.pyfunc import load_model
from mltrail.serving import predict_body
from mltrail.serving._fast import fast_path_for

FEATURES = ["f0", "f1", "f2", "f3"]
# Given requirements: no probe interpreter per saved model.
REQUIREMENTS = ["scikit-learn", "numpy", "pandas"]
JSON = "application/json"


def _frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame(np.random.default_rng(seed).normal(size=(rows, 4)), columns=FEATURES)


def _saved(tmp_path: Path, estimator: Any, X: Any, name: str, **save: Any) -> Any:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X, columns=FEATURES)
    y = (frame["f0"] + frame["f1"] > 0).astype(int)
    estimator.fit(X, y)
    signature = infer_signature(frame, estimator.predict(X))
    path = tmp_path / name
    mltrail.sklearn.save_model(
        estimator, str(path), signature=signature, pip_requirements=REQUIREMENTS, **save
    )
    return load_model(str(path))


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("fast")
    X = _frame()
    return {
        "logistic": _saved(tmp, LogisticRegression(), X, "logistic"),
        "proba": _saved(tmp, LogisticRegression(), X, "proba", pyfunc_predict_fn="predict_proba"),
        "forest": _saved(tmp, RandomForestClassifier(n_estimators=5, random_state=0), X, "rf"),
        "ridge": _saved(tmp, Ridge(), X, "ridge"),
        "gbr": _saved(tmp, GradientBoostingRegressor(n_estimators=5), X, "gbr"),
    }


def _body(data: Any, **extra: Any) -> bytes:
    split = {"columns": FEATURES, "data": data}
    return json.dumps({"dataframe_split": split, **extra}).encode()


def _both(model: Any, body: bytes, content_type: str = JSON) -> tuple[Any, Any]:
    """(generic answer, fast answer): the response or the error's (class, code, message)."""
    fast = fast_path_for(model)
    assert fast is not None
    schema = model.metadata.get_input_schema()
    answers = []
    for lane in (None, fast):
        try:
            answers.append(predict_body(model, body, content_type, schema, lane))
        except MltrailError as exc:
            answers.append((type(exc), exc.error_code, exc.message))
    return answers[0], answers[1]


@pytest.mark.parametrize("name", ["logistic", "proba", "forest", "ridge", "gbr"])
@pytest.mark.parametrize("rows", [1, 7, 100])
def test_same_predictions_as_the_generic_path(models: dict[str, Any], name: str, rows: int) -> None:
    data = _frame(rows, seed=rows).to_numpy().tolist()
    model = models[name]
    generic, fast = _both(model, _body(data))
    assert fast == generic
    # Whole JSON numbers are read as doubles on both paths.
    ints = [[int(v * 10) for v in row] for row in data]
    assert _both(model, _body(ints))[1] == _both(model, _body(ints))[0]
    # The lane really takes these requests: its rows are the array the estimator gets.
    lane = fast_path_for(model)
    assert lane is not None
    array = lane.rows(json.loads(_body(data)))
    assert array is not None
    assert array.shape == (rows, 4)
    assert array.flags["F_CONTIGUOUS"]


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": FEATURES[::-1], "data": [[1.0, 2.0, 3.0, 4.0]]}},
        {"dataframe_split": {"columns": FEATURES[:3], "data": [[1.0, 2.0, 3.0]]}},
        {"dataframe_split": {"columns": FEATURES, "data": [[1.0, 2.0, 3.0, 4.0]], "index": [5]}},
        {"dataframe_split": {"columns": FEATURES, "data": [[1.0, "x", 3.0, 4.0]]}},
        {"dataframe_split": {"columns": FEATURES, "data": [[1.0, True, 3.0, 4.0]]}},
        {"dataframe_split": {"columns": FEATURES, "data": [[1.0, 2.0, 3.0]]}},
        {"dataframe_split": {"columns": FEATURES, "data": []}},
        {"dataframe_split": {"columns": FEATURES, "data": "rows"}},
        {"dataframe_split": {"columns": FEATURES, "data": [[1.0, 2.0, 3.0, 4.0]]}, "params": []},
        {"dataframe_split": {"columns": FEATURES, "data": [[1.0, 2.0, 3.0, 4.0]]}, "params": {}},
        {
            "dataframe_split": {"columns": FEATURES, "data": [[1.0, 2.0, 3.0, 4.0]]},
            "params": {"unknown": 1},
        },
        {"dataframe_split": {"columns": FEATURES, "data": [[1.0, 2.0, 3.0, 4.0]]}, "extra": 1},
        {
            "dataframe_split": {"columns": FEATURES, "data": [[1.0, 2.0, 3.0, 4.0]]},
            "inputs": [[1.0, 2.0, 3.0, 4.0]],
        },
        {"dataframe_records": [dict(zip(FEATURES, [1.0, 2.0, 3.0, 4.0], strict=True))]},
        {"inputs": [[1.0, 2.0, 3.0, 4.0]]},
        [1, 2],
    ],
)
def test_other_requests_answer_as_the_generic_path(
    models: dict[str, Any], payload: Any, caplog: pytest.LogCaptureFixture
) -> None:
    generic, fast = _both(models["logistic"], json.dumps(payload).encode())
    assert fast == generic


def test_errors_of_the_estimator_and_of_the_body_are_the_same(models: dict[str, Any]) -> None:
    model = models["logistic"]
    nan = b'{"dataframe_split": {"columns": ["f0", "f1", "f2", "f3"], "data": [[NaN, 1, 2, 3]]}}'
    generic, fast = _both(model, nan)
    assert fast == generic
    assert generic[0] is BadRequest
    assert "NaN" in generic[2]
    for broken in (b"{", b"\xff", b"[]", b"null"):
        assert _both(model, broken)[1] == _both(model, broken)[0]
        assert _both(model, broken)[0][0] is BadRequest


def test_csv_and_parquet_take_the_generic_path(models: dict[str, Any]) -> None:
    model = models["forest"]
    frame = _frame(10, seed=3)
    generic, fast = _both(model, frame.to_csv(index=False).encode(), "text/csv")
    assert fast == generic
    assert isinstance(fast[0], bytes)
    pytest.importorskip("pyarrow")
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    generic, fast = _both(model, buffer.getvalue(), "application/vnd.apache.parquet")
    assert fast == generic
    assert isinstance(fast[0], bytes)


def test_signature_enforcement_errors_are_the_same(tmp_path: Path) -> None:
    ints = np.random.default_rng(1).integers(-5, 5, size=(40, 4))
    X = pd.DataFrame(ints, columns=FEATURES)  # int64: a long schema
    model = _saved(tmp_path, LogisticRegression(), X, "long")
    assert fast_path_for(model) is not None
    for data in ([[1, 2, 3, 4]], [[1.0, 2.0, 3.0, 4.0]], [[1.5, 2, 3, 4]]):
        generic, fast = _both(model, _body(data))
        assert fast == generic
    error = _both(model, _body([[1.5, 2, 3, 4]]))[0]
    assert error[1] == "INVALID_PARAMETER_VALUE"
    assert "'f0'" in error[2]


def test_models_it_cannot_serve_exactly_take_the_generic_path(tmp_path: Path) -> None:
    X = _frame()
    pipeline = _saved(tmp_path, make_pipeline(StandardScaler(), LogisticRegression()), X, "p")
    assert fast_path_for(pipeline) is None
    # Fitted without feature names: scikit-learn warns on a DataFrame, so no lane (it would
    # answer differently).
    y = (X["f0"] > 0).astype(int)
    bare = LogisticRegression().fit(X.to_numpy(), y)
    path = tmp_path / "bare"
    mltrail.sklearn.save_model(
        bare, str(path), signature=infer_signature(X, y), pip_requirements=REQUIREMENTS
    )
    assert fast_path_for(load_model(str(path))) is None
    # A signature mixing types.
    mixed = X.assign(f3=np.arange(len(X)))
    assert fast_path_for(_saved(tmp_path, LogisticRegression(), mixed, "mixed")) is None
    # Not a scikit-learn model at all.
    assert fast_path_for(object()) is None
