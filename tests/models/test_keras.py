"""The Keras 3 flavor on the PyTorch backend: ``.keras`` files in MLflow's layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
import mltrail as mlflow
import mltrail.keras  # chooses the torch backend before keras is imported
from mltrail.exceptions import InvalidArgument, MltrailError, PermissionDenied
from mltrail.models import ColSpec, ModelSignature, Schema, TensorSpec, infer_signature

keras = pytest.importorskip("keras")

pytestmark = [
    # Keras' own NumPy 2 deprecation while it saves a compiled model's optimizer variables.
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

SRC = str(Path(mltrail.__file__).resolve().parent.parent)


def _model(inputs: int = 4, seed: int = 0) -> Any:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input([inputs]),
            keras.layers.Dense(5, activation="relu"),
            keras.layers.Dense(2),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    x = _x(16, inputs)
    model.fit(x, np.stack([x.sum(axis=1), x[:, 0]], axis=1), epochs=1, verbose=0)
    return model


def _x(rows: int = 6, inputs: int = 4) -> np.ndarray:
    return np.random.default_rng(3).random((rows, inputs)).astype("float32")


def _pins(*names: str) -> list[str]:
    from importlib import metadata

    return [f"{n}=={metadata.version(n).split('+')[0]}" for n in names]


def test_round_trip_writes_mlflows_layout(tmp_path: Path) -> None:
    model, x = _model(), _x()
    mlflow.keras.save_model(model, tmp_path / "m", input_example=x[:3])
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["flavors"]["keras"] == {
        "data": "data",
        "keras_backend": "torch",
        "keras_version": keras.__version__,
        "save_exported_model": False,
    }
    pyfunc_conf = content["flavors"]["python_function"]
    assert pyfunc_conf["loader_module"] == "mlflow.keras"
    assert "data" not in pyfunc_conf  # MLflow's loader gets the model directory
    assert sorted(os.listdir(tmp_path / "m" / "data")) == ["keras_module.txt", "model.keras"]
    assert (tmp_path / "m" / "data" / "keras_module.txt").read_text() == "keras"
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert requirements == _pins("keras", "numpy", "pandas", "torch")
    native = mlflow.keras.load_model(str(tmp_path / "m"))
    assert isinstance(native, keras.Model)
    np.testing.assert_allclose(native.predict(x, verbose=0), model.predict(x, verbose=0))
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    out = loaded.predict(x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.get_raw_model() is not None
    signature = loaded.metadata.signature  # inferred from the example
    assert signature is not None
    assert signature.inputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}
    ]
    assert signature.outputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}
    ]


def test_dataframes_in_give_dataframes_out(tmp_path: Path) -> None:
    model = _model(inputs=2)
    frame = pd.DataFrame(_x(5, 2), columns=["a", "b"], index=list("vwxyz"))
    mlflow.keras.save_model(model, tmp_path / "m", pip_requirements=[])
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    out = loaded.predict(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list("vwxyz")
    np.testing.assert_allclose(out.to_numpy(), model.predict(frame.to_numpy(), verbose=0))
    with pytest.raises(InvalidArgument, match="Invalid input of type str"):
        loaded.predict("a, b")


def test_logged_to_a_run_and_registered(tmp_path: Path) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    model, x = _model(), _x()
    signature = infer_signature(x, model.predict(x, verbose=0))
    with mlflow.start_run() as run:
        info = mlflow.keras.log_model(
            model,
            name="model",
            signature=signature,
            input_example=x[:2],
            registered_model_name="dense",
            extra_pip_requirements=["h5py"],
            save_model_kwargs={"overwrite": True},
        )
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    assert info.flavors["keras"]["keras_backend"] == "torch"
    assert info.registered_model_version == 1
    for uri in (info.model_uri, "models:/dense/1"):
        native = mlflow.keras.load_model(uri, dst_path=str(tmp_path / uri.replace("/", "_")))
        np.testing.assert_allclose(native.predict(x, verbose=0), model.predict(x, verbose=0))
    loaded = mlflow.pyfunc.load_model("models:/dense/1")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x, verbose=0), rtol=1e-6)
    local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl"))
    requirements = (Path(local) / "requirements.txt").read_text().splitlines()
    assert requirements[-1] == "h5py"
    assert _pins("keras", "torch")[0] in requirements
    # The tensor signature is enforced: an array of the wrong width is refused.
    with pytest.raises(MltrailError, match="shape"):
        loaded.predict(np.zeros((2, 3), dtype="float32"))


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    model, x = _model(), _x()
    with pytest.raises(InvalidArgument, match="Invalid model of type object"):
        mlflow.keras.save_model(object(), tmp_path / "a")
    with pytest.raises(InvalidArgument, match=r"save_exported_model=True.*TensorFlow"):
        mlflow.keras.save_model(model, tmp_path / "b", save_exported_model=True)
    with pytest.raises(InvalidArgument, match="Invalid save_model_kwargs"):
        mlflow.keras.save_model(model, tmp_path / "c", save_model_kwargs=["zipped"])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="zipped must be True"):
        mlflow.keras.save_model(model, tmp_path / "d", save_model_kwargs={"zipped": False})
    columns = ModelSignature(Schema([ColSpec("float", "a")]))
    with pytest.raises(InvalidArgument, match="must be a tensor"):
        mlflow.keras.save_model(model, tmp_path / "e", signature=columns)
    fixed = ModelSignature(Schema([TensorSpec(np.dtype("float32"), (2, 4))]))
    with pytest.raises(InvalidArgument, match="must start with -1"):
        mlflow.keras.save_model(model, tmp_path / "f", signature=fixed)
    with pytest.raises(InvalidArgument, match="save_exported_model=True"):
        mlflow.keras.log_model(model, name="model", save_exported_model=True)
    assert mltrail.active_run() is None  # refused before a run was started
    mlflow.keras.save_model(model, tmp_path / "g", pip_requirements=[])
    with pytest.raises(InvalidArgument, match="Invalid load_model_kwargs"):
        mlflow.keras.load_model(str(tmp_path / "g"), load_model_kwargs=["compile"])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Invalid custom_objects"):
        mlflow.keras.load_model(str(tmp_path / "g"), custom_objects=["Dense"])  # type: ignore[arg-type]
    assert mlflow.keras.load_model(str(tmp_path / "g"), load_model_kwargs={"compile": False})
    assert x.shape == (6, 4)


def test_exported_models_are_refused_by_name(tmp_path: Path) -> None:
    mlflow.keras.save_model(_model(), tmp_path / "m", pip_requirements=[])
    mlmodel = tmp_path / "m" / "MLmodel"
    content = yaml.safe_load(mlmodel.read_text())
    content["flavors"]["keras"]["save_exported_model"] = True
    mlmodel.write_text(yaml.safe_dump(content))
    with pytest.raises(InvalidArgument, match=r"save_exported_model=True.*TensorFlow"):
        mlflow.keras.load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidArgument, match="save_exported_model=True"):
        mlflow.pyfunc.load_model(str(tmp_path / "m"))
    # What MLflow's Keras 2 / tf.keras flavor wrote (a SavedModel folder) is refused by name.
    content["flavors"]["keras"] = {
        "data": "data",
        "keras_module": "tensorflow.keras",
        "keras_version": "2.15.0",
        "save_format": "tf",
    }
    mlmodel.write_text(yaml.safe_dump(content))
    with pytest.raises(InvalidArgument, match=r"saved from Keras 2 or tf\.keras"):
        mlflow.keras.load_model(str(tmp_path / "m"))


def test_lambda_layers_load_only_outside_safe_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = keras.Sequential([keras.Input([3]), keras.layers.Lambda(lambda t: t * 2.0)])
    mlflow.keras.save_model(model, tmp_path / "m", pip_requirements=[])
    # Keras' safe mode refuses the layer's bytecode, in both loaders.
    with pytest.raises(ValueError, match="safe_mode"):
        mlflow.keras.load_model(str(tmp_path / "m"))
    with pytest.raises(ValueError, match="safe_mode"):
        mlflow.pyfunc.load_model(str(tmp_path / "m"))
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    with pytest.raises(PermissionDenied, match="safe_mode=False"):
        mlflow.keras.load_model(str(tmp_path / "m"), load_model_kwargs={"safe_mode": False})
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "true")
    native = mlflow.keras.load_model(str(tmp_path / "m"), load_model_kwargs={"safe_mode": False})
    x = np.ones((2, 3), dtype="float32")
    np.testing.assert_allclose(native.predict(x, verbose=0), x * 2.0)


def test_requirements_come_from_the_saved_config(tmp_path: Path) -> None:
    """What loading the file imports: Keras, torch and the packages its config names."""
    model = _model()
    mlflow.keras.save_model(model, tmp_path / "m")
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert requirements == _pins("keras", "numpy", "pandas", "torch")
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][-1] == {"pip": requirements}
    mlflow.keras.save_model(model, tmp_path / "n", extra_pip_requirements=["h5py==3.0"])
    with_extra = (tmp_path / "n" / "requirements.txt").read_text().splitlines()
    assert with_extra == [*requirements, "h5py==3.0"]


def test_default_environment() -> None:
    assert mlflow.keras.get_default_pip_requirements() == _pins("keras")
    env = mlflow.keras.get_default_conda_env()
    assert env["dependencies"][-1] == {"pip": _pins("keras")}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": SRC},
        check=False,
    )


def test_the_torch_backend_is_chosen_when_none_is(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = _python(
        f"""
        import json, os, sys
        import mltrail.keras
        assert "keras" not in sys.modules
        import keras
        model = keras.Sequential([keras.Input([2]), keras.layers.Dense(1)])
        mltrail.keras.save_model(model, {str(tmp_path / "m")!r}, pip_requirements=[])
        print(json.dumps([os.environ["KERAS_BACKEND"], keras.backend.backend()]))
        """,
        env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["torch", "torch"]


def test_keras_on_another_backend_is_refused_with_the_fix(tmp_path: Path) -> None:
    # Only PyTorch is installed, so Keras cannot really start on another backend: the
    # subprocess sets Keras' own record of its backend, as a jax Keras would have it.
    done = _python(
        f"""
        import keras
        import keras.src.backend.config
        import mltrail.keras
        model = keras.Sequential([keras.Input([2]), keras.layers.Dense(1)])
        keras.src.backend.config._BACKEND = "jax"
        mltrail.keras.save_model(model, {str(tmp_path / "m")!r})
        """,
        {**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "Keras was imported with the 'jax' backend" in last
    assert "Set KERAS_BACKEND=torch before keras is first imported" in last
    assert not (tmp_path / "m").exists()


def test_another_backend_asked_for_is_refused_before_keras_loads(tmp_path: Path) -> None:
    done = _python(
        f"""
        import sys
        import mltrail.keras
        try:
            mltrail.keras.save_model(object(), {str(tmp_path / "m")!r})
        finally:
            print("keras" in sys.modules)
        """,
        {**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert done.returncode != 0
    assert done.stdout.strip() == "False"
    last = done.stderr.strip().splitlines()[-1]
    assert "KERAS_BACKEND is 'jax': set KERAS_BACKEND=torch (or leave it unset)" in last


def test_a_missing_torch_names_the_extra(tmp_path: Path) -> None:
    done = _python(
        f"""
        import sys
        sys.modules["torch"] = None  # as if PyTorch were not installed
        import mltrail.keras
        mltrail.keras.save_model(object(), {str(tmp_path / "m")!r})
        """,
        {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"},
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.endswith(
        "The Keras flavor needs torch (Keras' PyTorch backend): pip install 'mltrail[keras]'"
    )


def test_packages_the_config_names_are_pinned(tmp_path: Path) -> None:
    """A registered class from an installed package is that package's requirement; code
    from outside installed packages (this test module) adds nothing."""
    pytest.importorskip("sklearn")

    @keras.saving.register_keras_serializable(package="mltrail_test")
    class Doubling(keras.layers.Layer):  # type: ignore[misc]
        def call(self, inputs: Any) -> Any:
            return inputs * 2.0

    model = keras.Sequential([keras.Input([3]), Doubling()])
    mlflow.keras.save_model(model, tmp_path / "local")
    requirements = (tmp_path / "local" / "requirements.txt").read_text().splitlines()
    assert requirements == _pins("keras", "numpy", "pandas", "torch")
    Doubling.__module__ = "sklearn.doubling"  # as if scikit-learn shipped the layer
    mlflow.keras.save_model(model, tmp_path / "installed")
    requirements = (tmp_path / "installed" / "requirements.txt").read_text().splitlines()
    assert requirements == _pins("keras", "numpy", "pandas", "scikit-learn", "torch")
    loaded = mlflow.keras.load_model(str(tmp_path / "local"))  # registered: found by name
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3)), verbose=0), [[2.0, 2.0, 2.0]])
