"""The PyTorch flavor (CPU): whole modules, exported programs, TorchScript and state dicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
import mltrail as mlflow
from mltrail.exceptions import InvalidArgument, PermissionDenied

torch = pytest.importorskip("torch")


def make_net() -> Any:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(4).random((6, 3)).astype(np.float32)


def expected(net: Any, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def test_whole_module_round_trip(tmp_path: Path, x: np.ndarray) -> None:
    net = make_net()
    mlflow.pytorch.save_model(
        net, tmp_path / "m", input_example=x[:2], serialization_format="pickle"
    )
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["flavors"]["pytorch"] == {
        "code": None,
        "model_data": "data",
        "pytorch_version": torch.__version__,
    }
    pyfunc_conf = content["flavors"]["python_function"]
    assert pyfunc_conf["loader_module"] == "mlflow.pytorch"
    assert pyfunc_conf["data"] == "data"
    assert pyfunc_conf["config"] == {"device": None}  # MLflow's key
    data = tmp_path / "m" / "data"
    assert sorted(p.name for p in data.iterdir()) == ["model.pth", "pickle_module_info.txt"]
    assert (data / "pickle_module_info.txt").read_text() == pyfunc_conf["pickle_module_name"]
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"torch=={torch.__version__.split('+')[0]}" in requirements
    native = mlflow.pytorch.load_model(str(tmp_path / "m"))
    assert isinstance(native, torch.nn.Sequential)
    assert not native.training  # loaded in evaluation mode
    np.testing.assert_allclose(expected(native, x), expected(net, x))
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(x), expected(net, x))
    signature = loaded.metadata.signature
    assert signature is not None  # inferred from the example: (-1, 3) in, (-1, 2) out
    assert signature.inputs.inputs[0].shape == (-1, 3)
    assert signature.outputs.inputs[0].shape == (-1, 2)
    with pytest.raises(InvalidArgument, match="shape"):
        loaded.predict(np.ones((2, 5), dtype=np.float32))


def test_dataframe_input_and_device_config(tmp_path: Path, x: np.ndarray) -> None:
    net = make_net()
    mlflow.pytorch.save_model(net, tmp_path / "m", pip_requirements=["torch"])
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"), model_config={"device": "cpu"})
    frame = pd.DataFrame(x.astype(np.float64), columns=["a", "b", "c"], index=list("uvwxyz"))
    result = loaded.predict(frame)
    assert isinstance(result, pd.DataFrame)
    assert list(result.index) == list("uvwxyz")
    np.testing.assert_allclose(result.to_numpy(), expected(net, x), rtol=1e-6)
    with pytest.raises(InvalidArgument, match="DataFrame or a numpy array"):
        loaded.predict([[1.0, 2.0, 3.0]])


def test_exported_program_logged_to_a_run(tmp_path: Path, x: np.ndarray) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    net = make_net()
    with mlflow.start_run():
        info = mlflow.pytorch.log_model(
            net, name="exported", input_example=x[:3], serialization_format="pt2"
        )
    listed = mltrail.MlflowClient().list_logged_model_artifacts(str(info.model_id), "data")
    assert [f.path for f in listed] == ["data/model.pt2"]
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(x), expected(net, x), rtol=1e-6)  # other batch
    native = mlflow.pytorch.load_model(info.model_uri)
    np.testing.assert_allclose(expected(native, x[:1]), expected(net, x[:1]), rtol=1e-6)
    with pytest.raises(InvalidArgument, match="input_example"):
        mlflow.pytorch.save_model(net, tmp_path / "no_example", serialization_format="pt2")


@pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")
def test_torchscript_module(tmp_path: Path, x: np.ndarray) -> None:
    net = make_net()
    scripted = torch.jit.script(net)
    mlflow.pytorch.save_model(scripted, tmp_path / "m", pip_requirements=["torch"])
    native = mlflow.pytorch.load_model(str(tmp_path / "m"))
    assert isinstance(native, torch.jit.ScriptModule)
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(x), expected(net, x)
    )


def test_state_dicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, x: np.ndarray) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    net = make_net()
    mlflow.pytorch.save_state_dict(net.state_dict(), tmp_path / "sd")
    assert (tmp_path / "sd" / "state_dict.pth").is_file()
    with mlflow.start_run() as run:
        mlflow.pytorch.log_state_dict(net.state_dict(), "weights")
    mlflow.pytorch.save_model(net, tmp_path / "whole", pip_requirements=["torch"])
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    for uri in (str(tmp_path / "sd"), f"runs:/{run.info.run_id}/weights"):
        fresh = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        fresh.load_state_dict(mlflow.pytorch.load_state_dict(uri))
        np.testing.assert_allclose(expected(fresh, x), expected(net, x))
    with pytest.raises(PermissionDenied, match="MLTRAIL_ALLOW_PICKLE"):
        mlflow.pytorch.load_model(str(tmp_path / "whole"))
    with pytest.raises(InvalidArgument, match="Invalid state_dict"):
        mlflow.pytorch.save_state_dict(net, tmp_path / "bad")
    with pytest.raises(InvalidArgument, match=r"no state_dict\.pth"):
        mlflow.pytorch.load_state_dict(str(tmp_path / "whole"))


def test_bad_arguments(tmp_path: Path) -> None:
    net = make_net()
    with pytest.raises(InvalidArgument, match="Invalid pytorch_model"):
        mlflow.pytorch.save_model(net.state_dict(), tmp_path / "a")
    with pytest.raises(InvalidArgument, match="serialization_format"):
        mlflow.pytorch.save_model(net, tmp_path / "b", serialization_format="onnx")
    with pytest.raises(InvalidArgument, match="pickle_module 'json'"):
        mlflow.pytorch.save_model(net, tmp_path / "c", pickle_module="json")
    mlflow.pytorch.save_model(net, tmp_path / "d", pip_requirements=["torch"])
    (tmp_path / "d" / "data" / "pickle_module_info.txt").write_text("os")
    with pytest.raises(InvalidArgument, match="pickle_module 'os'"):
        mlflow.pytorch.load_model(str(tmp_path / "d"))


def test_default_format_is_pt2_with_an_array_example_as_in_mlflow(
    tmp_path: Path, x: np.ndarray
) -> None:
    net = make_net()
    mlflow.pytorch.save_model(net, tmp_path / "traced", input_example=x[:2])
    assert sorted(p.name for p in (tmp_path / "traced" / "data").iterdir()) == ["model.pt2"]
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "traced"))
    np.testing.assert_allclose(loaded.predict(x), expected(net, x), rtol=1e-5)
    # Nothing to trace from: pickled whole, as before.
    mlflow.pytorch.save_model(net, tmp_path / "whole", pip_requirements=["torch"])
    assert (tmp_path / "whole" / "data" / "model.pth").is_file()


def test_export_model_is_pt2_and_load_kwargs_reach_torch_load(
    tmp_path: Path, x: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    net = make_net()
    with mlflow.start_run(), pytest.warns(FutureWarning, match="export_model"):
        info = mlflow.pytorch.log_model(net, name="m", input_example=x[:2], export_model=True)
    listed = mltrail.MlflowClient().list_logged_model_artifacts(str(info.model_id), "data")
    assert [f.path for f in listed] == ["data/model.pt2"]
    # An exported program ignores torch.load's arguments, as in MLflow.
    native = mlflow.pytorch.load_model(info.model_uri, weights_only=True)
    np.testing.assert_allclose(expected(native, x), expected(net, x), rtol=1e-6)
    with pytest.raises(InvalidArgument, match="export_model=True and serialization_format"):
        mlflow.pytorch.save_model(
            net, tmp_path / "x", export_model=True, serialization_format="pickle"
        )
    mlflow.pytorch.save_model(net, tmp_path / "whole", pip_requirements=["torch"])
    seen: list[dict[str, Any]] = []
    real_load = torch.load

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    mlflow.pytorch.load_model(str(tmp_path / "whole"), mmap=True, map_location="meta")
    assert seen[0]["mmap"] is True
    assert seen[0]["map_location"] == "meta"
    assert seen[0]["weights_only"] is False
