"""``mltrail.models``' helpers that read or amend a saved model, against the real ``mlflow``:
``get_model_info``, ``set_signature``, ``validate_schema`` and
``convert_input_example_to_serving_input``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mltrail
import mltrail.models
import mltrail.sklearn
from mltrail._exceptions import InvalidArgument

real = pytest.importorskip("mlflow.models")
sklearn_linear = pytest.importorskip("sklearn.linear_model")

# MLflow warns as it imports and infers (the suite turns warnings into errors).
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.1, 0.2]})


@pytest.mark.parametrize(
    "example",
    [
        FRAME,
        np.array([[1.0, 2.0], [3.0, 4.0]]),
        {"x": np.array([1, 2]), "y": np.array([3, 4])},
        (FRAME, {"temperature": 0.5}),
        ["plain", "json"],
        None,
    ],
    ids=["frame", "ndarray", "dict-of-arrays", "with-params", "list", "none"],
)
def test_serving_input_is_mlflows(example: Any) -> None:
    ours = mltrail.models.convert_input_example_to_serving_input(example)
    theirs = real.convert_input_example_to_serving_input(example)
    assert (None if ours is None else json.loads(ours)) == (
        None if theirs is None else json.loads(theirs)
    )


def test_validate_schema_accepts_and_refuses_as_a_model_would() -> None:
    schema = mltrail.models.infer_signature(FRAME).inputs
    mltrail.models.validate_schema(FRAME, schema)
    real.validate_schema(FRAME, real.infer_signature(FRAME).inputs)
    missing = FRAME.drop(columns="b")
    with pytest.raises(InvalidArgument, match="b"):
        mltrail.models.validate_schema(missing, schema)
    with pytest.raises(Exception, match="b"):
        real.validate_schema(missing, real.infer_signature(FRAME).inputs)
    with pytest.raises(InvalidArgument, match="expected_schema"):
        mltrail.models.validate_schema(FRAME, {"a": "double"})  # type: ignore[arg-type]


def test_get_model_info_and_set_signature_on_a_saved_model(tmp_path: Path) -> None:
    model = sklearn_linear.LinearRegression().fit(FRAME, [1.0, 2.0, 3.0])
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    mltrail.sklearn.save_model(model, str(ours_dir))
    import mlflow.sklearn

    mlflow.sklearn.save_model(model, str(theirs_dir))
    ours, theirs = (
        mltrail.models.get_model_info(str(ours_dir)),
        real.get_model_info(str(theirs_dir)),
    )
    assert (ours.signature, theirs.signature) == (None, None)
    assert set(ours.flavors) == set(theirs.flavors) == {"python_function", "sklearn"}
    assert ours.model_uri == str(ours_dir)
    # a signature set afterwards is read back by both tools
    signature = mltrail.models.infer_signature(FRAME, model.predict(FRAME))
    mltrail.models.set_signature(str(ours_dir), signature)
    assert mltrail.models.get_model_info(str(ours_dir)).signature == signature
    read_by_mlflow = real.get_model_info(str(ours_dir)).signature
    assert read_by_mlflow is not None
    assert read_by_mlflow.to_dict() == signature.to_dict()
    with pytest.raises(InvalidArgument, match="ModelSignature"):
        mltrail.models.set_signature(str(ours_dir), {"inputs": []})  # type: ignore[arg-type]


def test_set_signature_on_a_runs_model_and_not_on_a_registered_version(sqlite_uri: str) -> None:
    mltrail.set_tracking_uri(sqlite_uri)
    model = sklearn_linear.LinearRegression().fit(FRAME, [1.0, 2.0, 3.0])
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(model, name="model", registered_model_name="reg")
    signature = mltrail.models.infer_signature(FRAME, model.predict(FRAME))
    mltrail.models.set_signature(info.model_uri, signature)  # models:/<model_id>, in place
    assert mltrail.models.get_model_info(info.model_uri).signature == signature
    by_run = f"runs:/{run.info.run_id}/model"
    assert mltrail.models.get_model_info(by_run).signature == signature
    other = mltrail.models.infer_signature(FRAME.astype("float32"), model.predict(FRAME))
    mltrail.models.set_signature(by_run, other)
    assert mltrail.models.get_model_info(info.model_uri).signature == other
    with pytest.raises(InvalidArgument, match="registered model version cannot be changed"):
        mltrail.models.set_signature("models:/reg/1", signature)
