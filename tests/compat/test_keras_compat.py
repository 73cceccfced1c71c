"""Keras 3 models (PyTorch backend) move both ways between mltrail and MLflow 3.17.

Each side saves the same trained model with the same signature and input example; both
``MLmodel`` files, the files written and the requirements are compared, and each side loads
the other's model natively and as a python_function.  MLflow's ``mlflow.keras`` imports
Keras when it is imported: ``mltrail.keras`` is imported first so that Keras runs on
PyTorch (``KERAS_BACKEND`` unset means torch).
"""

from __future__ import annotations

import inspect
import os
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail as ours
import mltrail.keras  # chooses the torch backend before keras is imported

keras = pytest.importorskip("keras")
with warnings.catch_warnings():  # MLflow warns while importing itself
    warnings.simplefilter("ignore")
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("mlflow.pyfunc")
    pytest.importorskip("mlflow.keras")

pytestmark = [
    pytest.mark.filterwarnings("ignore:::mlflow"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

# Keys every MLmodel has whose values differ by tool or by save.
_VOLATILE = {"utc_time_created", "model_uuid", "mlflow_version", "mltrail_version"}


@pytest.fixture(autouse=True)
def _allow_mlflow_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")


def _trained(inputs: int = 3) -> tuple[Any, np.ndarray]:
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input([inputs]),
            keras.layers.Dense(6, activation="tanh"),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(2).random((24, inputs)).astype("float32")
    model.fit(x, (x[:, 0] > 0.5).astype("int64"), epochs=2, verbose=0)
    return model, x


def _save_both(model: Any, tmp_path: Path, signature: Any = None, **kwargs: Any) -> dict[str, str]:
    """Save *model* with each tool; *signature* is MLflow's, given to each in its own class."""
    paths = {side: str(tmp_path / side) for side in ("ours", "theirs")}
    mine = None if signature is None else ours.models.ModelSignature.from_dict(signature.to_dict())
    ours.keras.save_model(model, paths["ours"], signature=mine, **kwargs)
    os.makedirs(paths["theirs"])  # MLflow writes the input example before making the folder
    mlflow.keras.save_model(model, paths["theirs"], signature=signature, **kwargs)
    return paths


def _mlmodel(path: str) -> dict[str, Any]:
    with open(os.path.join(path, "MLmodel"), encoding="utf-8") as f:
        content = yaml.safe_load(f)
    return {k: v for k, v in content.items() if k not in _VOLATILE}


def _files(path: str) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(folder, name), path)
        for folder, _, names in os.walk(path)
        for name in names
    )


def test_keras_models_move_both_ways(tmp_path: Path) -> None:
    model, x = _trained()
    expected = model.predict(x, verbose=0)
    signature = mlflow.models.infer_signature(x, expected)
    paths = _save_both(model, tmp_path, signature=signature)
    assert _mlmodel(paths["ours"])["signature"] == _mlmodel(paths["theirs"])["signature"]
    for side, path in paths.items():
        for loader in (ours.keras.load_model, mlflow.keras.load_model):
            native = loader(path)
            assert isinstance(native, keras.Model), (side, loader)
            np.testing.assert_allclose(native.predict(x, verbose=0), expected, rtol=1e-6)
        for pyfunc in (ours.pyfunc, mlflow.pyfunc):
            loaded = pyfunc.load_model(path)
            np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-6)
            assert isinstance(loaded.get_raw_model(), keras.Model)


def test_keras_models_record_what_mlflow_records(tmp_path: Path) -> None:
    model, x = _trained()
    paths = _save_both(model, tmp_path, input_example=x[:3])
    theirs, mine = _mlmodel(paths["theirs"]), _mlmodel(paths["ours"])
    assert mine["flavors"]["keras"] == theirs["flavors"]["keras"]
    for conf in (mine, theirs):
        conf["flavors"]["python_function"].pop("python_version")
    assert mine["flavors"] == theirs["flavors"]
    assert mine["saved_input_example_info"] == theirs["saved_input_example_info"]
    # MLflow's save_model infers no signature (its log_model does); mltrail's infers it from
    # the example, as MLflow's log_model would.
    assert "signature" not in theirs
    assert ours.models.Model.load(paths["ours"]).signature.to_dict() == {
        "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]',
        "params": None,
    }
    assert _files(paths["ours"]) == _files(paths["theirs"])
    for name in ("input_example.json", "serving_input_example.json", "data/keras_module.txt"):
        assert Path(paths["ours"], name).read_text() == Path(paths["theirs"], name).read_text()
    # MLflow also pins itself; mltrail pins pandas too, which pyfunc models exchange, and
    # drops local version labels (torch==2.13.0+cpu is written torch==2.13.0).
    their_reqs = {
        r.split("+")[0]
        for r in Path(paths["theirs"], "requirements.txt").read_text().split()
        if not r.startswith("mlflow==")
    }
    our_reqs = set(Path(paths["ours"], "requirements.txt").read_text().split())
    assert our_reqs - their_reqs == {f"pandas=={metadata.version('pandas')}"}
    assert their_reqs <= our_reqs
    assert {r.split("==")[0] for r in their_reqs} == {"keras", "numpy", "torch"}
    for path in paths.values():  # each side reads the other's input example
        np.testing.assert_allclose(ours.pyfunc.load_model(path).input_example, x[:3])
        np.testing.assert_allclose(mlflow.pyfunc.load_model(path).input_example, x[:3])


def test_dataframe_predictions_agree(tmp_path: Path) -> None:
    model, x = _trained()
    frame = pd.DataFrame(x, columns=["a", "b", "c"], index=range(10, 34))
    paths = _save_both(model, tmp_path)
    for path in paths.values():
        mine = ours.pyfunc.load_model(path).predict(frame)
        theirs = mlflow.pyfunc.load_model(path).predict(frame)
        assert isinstance(mine, pd.DataFrame)
        pd.testing.assert_frame_equal(mine, theirs)


def test_keras_takes_mlflows_arguments() -> None:
    names = (
        "save_model",
        "log_model",
        "load_model",
        "get_default_pip_requirements",
        "get_default_conda_env",
    )
    for fn in names:
        theirs = inspect.signature(getattr(mlflow.keras, fn)).parameters
        mine = inspect.signature(getattr(ours.keras, fn)).parameters
        # mltrail's log_model also takes run_id (every flavor's does), last
        assert [p for p in mine if p != "run_id"] == list(theirs), fn
        for name, parameter in theirs.items():
            assert mine[name].default == parameter.default, (fn, name)
    assert ours.keras.get_default_pip_requirements() == mlflow.keras.get_default_pip_requirements()
    assert ours.keras.FLAVOR_NAME == mlflow.keras.FLAVOR_NAME


def test_keras_models_through_a_server_both_ways(mlflow_server: Any) -> None:
    model, x = _trained()
    expected = model.predict(x, verbose=0)
    signature = mlflow.models.infer_signature(x, expected)
    mlflow.set_experiment("keras")
    with mlflow.start_run() as run:
        theirs = mlflow.keras.log_model(model, name="theirs", signature=signature)
    ours.set_tracking_uri(mlflow_server.url)
    try:
        for uri in (theirs.model_uri, f"runs:/{run.info.run_id}/theirs"):
            native = ours.keras.load_model(uri)
            np.testing.assert_allclose(native.predict(x, verbose=0), expected, rtol=1e-6)
            np.testing.assert_allclose(ours.pyfunc.load_model(uri).predict(x), expected, rtol=1e-6)
        with ours.start_run(run_id=run.info.run_id):
            mine = ours.keras.log_model(
                model,
                name="ours",
                signature=ours.models.ModelSignature.from_dict(signature.to_dict()),
                input_example=x[:2],
            )
    finally:
        ours.set_tracking_uri(None)
    assert mine.model_uri == f"models:/{mine.model_id}"
    assert mine.run_id == run.info.run_id
    loaded = mlflow.pyfunc.load_model(mine.model_uri)
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-6)
    np.testing.assert_allclose(loaded.input_example, x[:2])
    native = mlflow.keras.load_model(mine.model_uri)
    np.testing.assert_allclose(native.predict(x, verbose=0), expected, rtol=1e-6)
