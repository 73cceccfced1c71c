"""The PyTorch flavor (CPU): whole modules, exported programs and state dicts, MLflow's layout.

A model directory holds ``data/``: either ``model.pt2`` (MLflow 3's default, when an array
or tensor input example is given) or ``model.pth`` (the module written with
``torch.save`` and a pickle module, named in ``data/pickle_module_info.txt``; a
``torch.jit.ScriptModule`` is written with TorchScript) or ``model.pt2`` (a
``torch.export`` program, traced from the input example).  ``MLmodel`` carries MLflow's entries
(``loader_module: mlflow.pytorch``, ``model_data: data``, ``pytorch_version``,
``pickle_module_name``), so the models move both ways.

Whole modules are read with pickle: they are refused when ``MLTRAIL_ALLOW_PICKLE`` is false,
and so are exported programs (their archive may hold pickled records).  State dicts
(``save_state_dict``/``load_state_dict``, ``state_dict.pth``) are read with
``weights_only=True`` and never run code.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._model_tracking import model_tracking
from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model, resolve_artifact_path
from mltrail.models._model import Model, ModelInfo
from mltrail.models._safety import check_pickle_allowed
from mltrail.models._save import copy_code_paths, copy_extra_files, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import add_to_model

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_PT2",
    "get_default_pip_requirements",
    "load_model",
    "load_state_dict",
    "log_model",
    "log_state_dict",
    "save_model",
    "save_state_dict",
]

FLAVOR_NAME = "pytorch"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_PT2 = "pt2"
_DATA_DIR = "data"
_PICKLED_FILE = "model.pth"
_EXPORTED_FILE = "model.pt2"
_STATE_DICT_FILE = "state_dict.pth"
_PICKLE_MODULE_INFO = "pickle_module_info.txt"
# The pickle modules a saved module may name, and the module that writes with each.  Files
# written with cloudpickle are recorded under MLflow's name for it, which MLflow can import
# (cloudpickle itself has no Unpickler); every file is read with the standard unpickler.
_CLOUDPICKLE_NAME = "mlflow.pytorch.pickle_module"
_PICKLE_MODULES = {
    "pickle": "pickle",
    "cloudpickle": "cloudpickle",
    _CLOUDPICKLE_NAME: "cloudpickle",
}


def get_default_pip_requirements() -> list[str]:
    from mltrail.models._env import pinned

    return [pinned("torch"), pinned("cloudpickle"), pinned("numpy"), pinned("pandas")]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def _pickle_module_name(pickle_module: Any) -> str:
    """The recorded name of *pickle_module* (a module or a name); InvalidArgument if unknown."""
    name = pickle_module
    if not isinstance(pickle_module, str):
        name = getattr(pickle_module, "__name__", None)
    if name not in _PICKLE_MODULES:
        raise InvalidArgument(
            f"Invalid pickle_module {name!r}: expected one of {sorted(_PICKLE_MODULES)}"
        )
    return _CLOUDPICKLE_NAME if name == "cloudpickle" else str(name)


def _example_tensors(input_example: Any) -> tuple[Any, ...]:
    import numpy as np
    import torch

    values = input_example if isinstance(input_example, (list, tuple)) else (input_example,)
    if not values or not all(isinstance(v, (np.ndarray, torch.Tensor)) for v in values):
        raise InvalidArgument(
            "Invalid input_example for serialization_format='pt2': the program is traced from "
            "it, so it must be a numpy array or tensor, or a list/tuple of them"
        )
    # A read-only array (pandas' to_numpy under copy-on-write) is copied: torch wants to own it.
    return tuple(
        torch.from_numpy(v if v.flags.writeable else v.copy()) if isinstance(v, np.ndarray) else v
        for v in values
    )


def _tensors_only(input_example: Any) -> bool:
    """Whether *input_example* is a tensor or several arrays/tensors: what ``pt2`` traces from
    but MLflow writes no input example of."""
    import numpy as np
    import torch

    if isinstance(input_example, torch.Tensor):
        return True
    if not isinstance(input_example, (list, tuple)) or not input_example:
        return False
    arrays = all(isinstance(v, (np.ndarray, torch.Tensor)) for v in input_example)
    return arrays and (
        len(input_example) > 1 or any(isinstance(v, torch.Tensor) for v in input_example)
    )


def _default_format(pytorch_model: Any, input_example: Any) -> str:
    """MLflow 3's default, ``pt2``, when the model can be traced from *input_example*."""
    import numpy as np
    import torch

    if isinstance(pytorch_model, torch.jit.ScriptModule):
        return SERIALIZATION_FORMAT_PICKLE
    values = input_example if isinstance(input_example, (list, tuple)) else (input_example,)
    if values and all(isinstance(v, (np.ndarray, torch.Tensor)) for v in values):
        return SERIALIZATION_FORMAT_PT2
    return SERIALIZATION_FORMAT_PICKLE


def _export(pytorch_model: Any, input_example: Any, file: str) -> None:
    import torch
    from torch.export import Dim

    tensors = _example_tensors(input_example)
    # The first (batch) dimension is left to the exporter: dynamic unless the model fixes it.
    dynamic = tuple({0: Dim.AUTO} if t.dim() > 0 else None for t in tensors)
    try:
        program = torch.export.export(pytorch_model, tensors, dynamic_shapes=dynamic)
    except Exception as exc:  # torch raises many error types while tracing
        raise InvalidArgument(
            f"Could not export the model with torch.export from its input example: {exc}"
        ) from None
    torch.export.save(program, file)


def _resolve_format(export_model: bool, serialization_format: str | None) -> str | None:
    """MLflow's deprecated ``export_model=True``: ``pt2``, and never together with ``pickle``."""
    if not export_model:
        return serialization_format
    if serialization_format == SERIALIZATION_FORMAT_PICKLE:
        raise InvalidArgument(
            "Invalid arguments: export_model=True and serialization_format='pickle' contradict "
            "each other; pass serialization_format only"
        )
    warnings.warn(
        "`export_model` is deprecated: pass serialization_format='pt2' instead",
        FutureWarning,
        stacklevel=3,
    )
    return SERIALIZATION_FORMAT_PT2


def _probe_modules(exported: bool) -> list[str]:
    """What the requirements probe imports while the model is written: torch and, for a
    program, the deserializer ``torch.export.load`` imports (private: skipped where absent)."""
    if exported:
        return ["torch", "torch._export.serde.serialize", "mltrail.pytorch"]
    return ["torch", "mltrail.pytorch"]


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    mlflow_model: Model | None = None,
    code_paths: Sequence[str] | None = None,
    pickle_module: Any = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    extra_files: Sequence[str] | None = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    export_model: bool = False,
    serialization_format: str | None = None,
    **kwargs: Any,
) -> Model:
    """Save a ``torch.nn.Module`` to *path*: exported (``pt2``) or pickled whole.

    As in MLflow 3, the default is ``pt2`` (a traced program, traced from the input example);
    with no array or tensor input example, or for a ``torch.jit.ScriptModule``, the default is
    ``pickle`` (MLflow refuses instead).  ``export_model=True`` is MLflow's deprecated spelling
    of ``serialization_format="pt2"`` (a FutureWarning, as in MLflow).
    """
    import torch

    from mltrail.models._env import early_probe

    serialization_format = _resolve_format(export_model, serialization_format)

    if not isinstance(pytorch_model, torch.nn.Module):
        raise InvalidArgument(
            f"Invalid pytorch_model of type {type(pytorch_model).__name__}: expected a "
            "torch.nn.Module (save a state dict with save_state_dict)"
        )
    if serialization_format is None:
        serialization_format = _default_format(pytorch_model, input_example)
    if serialization_format not in (SERIALIZATION_FORMAT_PICKLE, SERIALIZATION_FORMAT_PT2):
        raise InvalidArgument(
            f"Invalid serialization_format {serialization_format!r}: expected 'pickle' or 'pt2'"
        )
    exported = serialization_format == SERIALIZATION_FORMAT_PT2
    if exported and isinstance(pytorch_model, torch.jit.ScriptModule):
        raise InvalidArgument("A torch.jit.ScriptModule cannot be saved as 'pt2': use 'pickle'")
    module_name = _pickle_module_name(pickle_module or "cloudpickle")
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    extras = copy_extra_files(local, extra_files)
    with early_probe(_probe_modules(exported), pip_requirements, conda_env) as started:
        data = os.path.join(local, _DATA_DIR)
        os.makedirs(data)
        if exported:
            _export(pytorch_model, input_example, os.path.join(data, _EXPORTED_FILE))
        else:
            with open(os.path.join(data, _PICKLE_MODULE_INFO), "w") as f:
                f.write(module_name)
            file = os.path.join(data, _PICKLED_FILE)
            if isinstance(pytorch_model, torch.jit.ScriptModule):
                torch.jit.save(pytorch_model, file)
            else:
                pickler = importlib.import_module(_PICKLE_MODULES[module_name])
                torch.save(pytorch_model, file, pickle_module=pickler, **kwargs)
        model.add_flavor(
            FLAVOR_NAME,
            model_data=_DATA_DIR,
            pytorch_version=str(torch.__version__),
            code=code,
            **extras,
        )
        tensors_only = _tensors_only(input_example)
        # As in MLflow: a program traced from tensors or from several inputs has no
        # python_function flavor (one array in, one array out is all it serves).
        if not (exported and tensors_only):
            add_to_model(
                model,
                "mlflow.pytorch",
                data=_DATA_DIR,
                pickle_module_name=module_name,
                code=code,
                model_config={"device": None},
            )
        return finish_save(
            local,
            model,
            predict=_PyTorchPyfunc(pytorch_model).predict,
            signature=signature,
            # Tensors and several arrays are no input example MLflow writes: only traced from.
            input_example=None if tensors_only else input_example,
            default_requirements=get_default_pip_requirements(),
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
            metadata=metadata,
            started_probe=started,
        )


def log_model(
    pytorch_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    pickle_module: Any = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    extra_files: Sequence[str] | None = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    export_model: bool = False,
    serialization_format: str | None = None,
    run_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a PyTorch module as MLflow 3 does: a logged model (``models:/m-...``), an output of the
    active run (or *run_id*) when there is one; the other arguments are :func:`save_model`'s."""
    arguments = dict(locals())
    return log_flavor_model(save_model, arguments)


def _load_data(data: str, device: str | None = None, **kwargs: Any) -> Any:
    """The module saved in the ``data`` directory (or the model file) *data*.

    *kwargs* go to ``torch.load`` for a pickled module (``map_location`` defaults to *device*
    or the CPU, ``weights_only`` to False: reading whole modules is gated by
    ``MLTRAIL_ALLOW_PICKLE`` instead); as in MLflow, an exported program ignores them.
    """
    require("torch")
    import torch

    if os.path.isdir(data):
        file = os.path.join(data, _PICKLED_FILE)
        if not os.path.exists(file):
            exported = os.path.join(data, _EXPORTED_FILE)
            if not os.path.exists(exported):
                raise InvalidArgument(
                    f"Invalid pytorch model: {data!r} holds neither {_PICKLED_FILE} nor "
                    f"{_EXPORTED_FILE}"
                )
            check_pickle_allowed(f"the exported PyTorch program {exported!r}")
            module = torch.export.load(exported).module()
            if device is not None and torch.device(device).type != "cpu":
                module = module.to(device)
            return module
        info = os.path.join(data, _PICKLE_MODULE_INFO)
        if os.path.exists(info):
            with open(info) as f:
                _pickle_module_name(f.read().strip())  # a module mltrail knows how to read
    else:
        file = data
    check_pickle_allowed(f"the PyTorch model {file!r}")
    if _is_torchscript(file):
        kwargs.pop("pickle_module", None)  # torch.jit.load takes none
        kwargs.pop("weights_only", None)
        kwargs.setdefault("map_location", device or "cpu")
        module = torch.jit.load(file, **kwargs)
    else:
        import pickle

        kwargs.setdefault("map_location", device or "cpu")
        kwargs.setdefault("weights_only", False)
        if not kwargs["weights_only"]:  # torch's own restricted unpickler otherwise
            kwargs.setdefault("pickle_module", pickle)
        module = torch.load(file, **kwargs)
    module.eval()
    return module


def _is_torchscript(file: str) -> bool:
    import zipfile

    if not zipfile.is_zipfile(file):
        return False
    with zipfile.ZipFile(file) as archive:
        return any(n.endswith("/constants.pkl") for n in archive.namelist())


def load_model(model_uri: str, dst_path: str | None = None, **kwargs: Any) -> Any:
    """The ``torch.nn.Module`` saved at *model_uri*, in evaluation mode.

    *kwargs* are MLflow's: ``device`` (where to load it; the CPU by default) and ``torch.load``'s
    keyword arguments (``map_location``, ``weights_only``, ``pickle_module``, ...), which an
    exported (``pt2``) program ignores as in MLflow.
    """
    local = local_model(model_uri, dst_path)
    conf = load_flavor_conf(local, FLAVOR_NAME)
    device = kwargs.pop("device", None)
    data = flavor_file(local, conf.get("model_data"), "pytorch model_data")
    return _load_data(data, device, **kwargs)


def save_state_dict(state_dict: Any, path: str | os.PathLike[str]) -> None:
    """Write *state_dict* (a dict of tensors, e.g. ``module.state_dict()``) into *path*."""
    import torch

    if not isinstance(state_dict, dict):
        raise InvalidArgument(
            f"Invalid state_dict of type {type(state_dict).__name__}: expected a dict "
            "(module.state_dict()); save whole modules with save_model"
        )
    target = os.fspath(path)
    os.makedirs(target, exist_ok=True)
    torch.save(state_dict, os.path.join(target, _STATE_DICT_FILE))


def log_state_dict(state_dict: Any, artifact_path: str, run_id: str | None = None) -> None:
    """Log *state_dict* below *artifact_path* of the active run (started if none)."""
    import shutil
    import tempfile

    path = resolve_artifact_path(artifact_path, None)
    tmp = tempfile.mkdtemp(prefix="mltrail-state-dict-")  # mode 0o700
    try:
        save_state_dict(state_dict, tmp)
        model_tracking().log_artifacts(tmp, path, run_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_state_dict(state_dict_uri: str, device: str | None = None) -> Any:
    """The state dict saved at *state_dict_uri*, read with ``weights_only=True`` (no code)."""
    require("torch")
    import torch

    local = local_model(state_dict_uri)
    file = os.path.join(local, _STATE_DICT_FILE)
    if not os.path.isfile(file):
        raise InvalidArgument(f"Invalid state dict URI {state_dict_uri!r}: no {_STATE_DICT_FILE}")
    return torch.load(file, map_location=device or "cpu", weights_only=True)


class _PyTorchPyfunc:
    """The python_function implementation: DataFrames and arrays become float tensors."""

    def __init__(self, pytorch_model: Any, device: str = "cpu") -> None:
        self.pytorch_model = pytorch_model
        self.device = device

    def get_raw_model(self) -> Any:
        return self.pytorch_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd
        import torch

        if params and "device" in params:
            raise InvalidArgument(
                "Invalid params: 'device' is chosen when the model is loaded "
                "(model_config={'device': ...}), not per prediction"
            )
        if isinstance(data, pd.DataFrame):
            array = data.to_numpy(dtype=np.float32)
        elif isinstance(data, np.ndarray):
            array = data
        else:
            raise InvalidArgument(
                f"Invalid input of type {type(data).__name__} for a PyTorch model: expected a "
                "pandas DataFrame or a numpy array"
            )
        if not array.flags.writeable:  # torch wants to own writable memory
            array = array.copy()
        with torch.no_grad():
            output = self.pytorch_model(torch.from_numpy(array).to(self.device), **(params or {}))
        if not isinstance(output, torch.Tensor):
            raise InvalidArgument(
                f"The PyTorch model returned {type(output).__name__}: python_function models "
                "must return a single tensor"
            )
        result = output.to("cpu").numpy()
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(result, index=data.index)
        return result


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _PyTorchPyfunc:
    """Loader of ``loader_module: mlflow.pytorch`` (the ``data`` directory or the model file)."""
    device = (model_config or {}).get("device") or "cpu"
    if not isinstance(device, str):
        raise InvalidArgument("Invalid model_config: 'device' must be a string such as 'cpu'")
    return _PyTorchPyfunc(_load_data(path, device), device)
