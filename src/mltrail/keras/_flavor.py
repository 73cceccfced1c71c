"""The Keras 3 flavor, on Keras' PyTorch backend: models in Keras' ``.keras`` format.

A model directory is MLflow's: ``data/model.keras`` (written with ``model.save``) and
``data/keras_module.txt`` (``keras``), with ``MLmodel`` entries ``keras: {data: data,
keras_version, keras_backend, save_exported_model: false}`` and ``loader_module:
mlflow.keras``, so the models move both ways.

Keras runs on PyTorch here: when Keras is not imported yet and ``KERAS_BACKEND`` is unset,
it is set to ``torch`` before Keras is first imported (by ``import mltrail.keras`` and by
every save or load); a Keras already running on another backend, or ``KERAS_BACKEND`` naming
one, is refused with the fix.  TensorFlow is never needed, so MLflow's
``save_exported_model=True`` (a TensorFlow SavedModel) is refused by name.

Requirements are read from the saved file rather than probed in a fresh interpreter: a
``.keras`` file names the module of every object it holds, and loading it imports Keras, its
backend and those modules only (see :func:`_model_requirements`).

Models are loaded with ``keras.saving.load_model(..., safe_mode=True)``: a ``.keras`` file
holds a JSON config and the weights, and safe mode refuses the Python bytecode a ``Lambda``
layer would carry.  ``safe_mode=False`` is taken only when ``MLTRAIL_ALLOW_PICKLE`` allows
code-carrying models.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, MissingDependency, MltrailError
from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._safety import check_pickle_allowed
from mltrail.models._save import finish_save, prepare_model_dir
from mltrail.models._schema import TensorSpec
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import add_to_model

__all__ = [
    "FLAVOR_NAME",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "keras"
BACKEND = "torch"
_BACKEND_VARIABLE = "KERAS_BACKEND"
_DATA_DIR = "data"
_MODEL_NAME = "model"
_SUFFIX = ".keras"
_MODULE_FILE = "keras_module.txt"
_CONFIG_ENTRY = "config.json"  # the model's architecture inside a .keras archive


def choose_backend() -> None:
    """Set ``KERAS_BACKEND=torch`` when it is unset and Keras is not imported yet."""
    if "keras" not in sys.modules:
        os.environ.setdefault(_BACKEND_VARIABLE, BACKEND)


def _keras() -> Any:
    """Keras, imported on the PyTorch backend (chosen here when nothing chose one)."""
    if "keras" not in sys.modules:
        choose_backend()
        chosen = os.environ[_BACKEND_VARIABLE]
        if chosen != BACKEND:
            raise MltrailError(
                f"The Keras flavor runs Keras on its PyTorch backend, but {_BACKEND_VARIABLE} is "
                f"{chosen!r}: set {_BACKEND_VARIABLE}=torch (or leave it unset) before keras is "
                "first imported"
            )
        if importlib.util.find_spec("torch") is None:
            raise MissingDependency(
                "The Keras flavor needs torch (Keras' PyTorch backend): "
                "pip install 'mltrail[keras]'"
            )
    keras = require("keras")
    version = str(getattr(keras, "__version__", "0"))
    if not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 3:
        raise MltrailError(
            f"The Keras flavor needs Keras 3; Keras {version} is installed: "
            "pip install 'mltrail[keras]'"
        )
    backend = keras.backend.backend()
    if backend != BACKEND:
        raise MltrailError(
            f"The Keras flavor runs Keras on its PyTorch backend, but Keras was imported with "
            f"the {backend!r} backend ({_BACKEND_VARIABLE}={os.environ.get(_BACKEND_VARIABLE)!r})"
            f". Set {_BACKEND_VARIABLE}=torch before keras is first imported, or leave it unset "
            "and import mltrail.keras before keras"
        )
    return keras


@contextlib.contextmanager
def _quiet_numpy_conversions() -> Iterator[None]:
    """Silence Keras' own NumPy 2 deprecation (its tensors' ``__array__`` takes no ``copy``),
    which every ``predict`` and optimizer save on the PyTorch backend raises: nothing a user of
    this flavor can change, and an error where warnings are errors (a strict test suite)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "__array__ implementation doesn't accept a copy keyword", DeprecationWarning
        )
        yield


def get_default_pip_requirements() -> list[str]:
    from mltrail.models._env import pinned

    return [pinned("keras")]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def _config_packages(file: str) -> set[str]:
    """The top-level packages of the objects the ``.keras`` file's config names."""
    try:
        with zipfile.ZipFile(file) as archive:
            config = json.loads(archive.read(_CONFIG_ENTRY))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return set()
    found: set[str] = set()
    stack: list[Any] = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module = node.get("module")
            if isinstance(module, str) and "class_name" in node:
                found.add(module.split(".", 1)[0])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _model_requirements(file: str) -> list[str]:
    """The pinned requirements of the model saved in *file*, read from its config.

    Loading a ``.keras`` file imports Keras, its backend and the modules its config names
    (Keras itself imports only those of ``keras``, ``keras_hub``, ``keras_cv`` and
    ``keras_nlp``; other classes come from code the loading program imports and registers):
    their installed distributions are pinned, with NumPy and pandas, which every
    python_function model takes and returns.  No interpreter is started to find them.
    """
    from mltrail.models._env import modules_to_requirements

    modules = {"keras", BACKEND, "numpy", "pandas", *_config_packages(file)}
    found = modules_to_requirements(modules)
    names = {r.split("==", 1)[0].lower() for r in found}
    defaults = get_default_pip_requirements()
    return found + [r for r in defaults if r.split("==", 1)[0].lower() not in names]


def _check_signature(signature: Any) -> None:
    """MLflow's rule for a Keras model's given signature: tensor inputs, batch dimension -1."""
    if not isinstance(signature, ModelSignature) or signature.inputs is None:
        return
    fields = signature.inputs.inputs
    if not fields:
        raise InvalidArgument("Invalid signature: the input schema must contain at least one field")
    for field in fields:
        if not isinstance(field, TensorSpec):
            raise InvalidArgument(
                "Invalid signature: every input of a Keras model's signature must be a tensor "
                f"(TensorSpec), got {field!r}"
            )
        if not field.shape or field.shape[0] != -1:
            raise InvalidArgument(
                f"Invalid signature: input shape {field.shape!r} must start with -1, the "
                "variable batch dimension"
            )


def _check_save_options(save_exported_model: Any, save_model_kwargs: Any) -> dict[str, Any]:
    if save_exported_model:
        raise InvalidArgument(
            "Invalid save_exported_model=True: it writes a TensorFlow SavedModel "
            "(keras.export), which needs TensorFlow; mltrail's Keras flavor runs Keras on "
            "PyTorch and saves the .keras format (save_exported_model=False)"
        )
    if save_model_kwargs is None:
        return {}
    if not isinstance(save_model_kwargs, dict):
        raise InvalidArgument(
            "Invalid save_model_kwargs: expected a dict of keras.Model.save keyword arguments"
        )
    if save_model_kwargs.get("zipped", True) is not True:
        raise InvalidArgument(
            "Invalid save_model_kwargs: zipped must be True (the model is one .keras file)"
        )
    return dict(save_model_kwargs)


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    save_exported_model: bool = False,
    conda_env: Any = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    save_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Model:
    """Save a Keras 3 model (``keras.Model``) to *path* in the ``.keras`` format;
    *save_model_kwargs* go to ``model.save``."""
    save_kwargs = _check_save_options(save_exported_model, save_model_kwargs)
    keras = _keras()

    if not isinstance(model, keras.Model):
        raise InvalidArgument(
            f"Invalid model of type {type(model).__name__}: expected a keras.Model"
        )
    _check_signature(signature)
    local = prepare_model_dir(path)
    mlmodel = mlflow_model if mlflow_model is not None else Model()
    data = os.path.join(local, _DATA_DIR)
    os.makedirs(data)
    file = os.path.join(data, _MODEL_NAME + _SUFFIX)
    with open(os.path.join(data, _MODULE_FILE), "w", encoding="utf-8") as f:
        f.write("keras")
    with _quiet_numpy_conversions():
        model.save(file, **save_kwargs)
    mlmodel.add_flavor(
        FLAVOR_NAME,
        data=_DATA_DIR,
        keras_version=keras.__version__,
        keras_backend=keras.backend.backend(),
        save_exported_model=False,
    )
    add_to_model(mlmodel, "mlflow.keras")
    inferred = pip_requirements is None and conda_env is None
    return finish_save(
        local,
        mlmodel,
        predict=_KerasPyfunc(model).predict,
        signature=signature,
        input_example=input_example,
        default_requirements=_model_requirements(file) if inferred else [],
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        metadata=metadata,
        infer_requirements=False,
    )


def log_model(
    model: Any,
    artifact_path: str | None = None,
    save_exported_model: bool = False,
    conda_env: Any = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    save_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a Keras 3 model as MLflow 3 does: a logged model (``models:/m-...``), an output of the
    active run (or *run_id*) when there is one; the other arguments are :func:`save_model`'s."""
    arguments = dict(locals())
    _check_save_options(save_exported_model, save_model_kwargs)  # before anything is logged
    _check_signature(signature)
    return log_flavor_model(save_model, arguments)


def _load_kwargs(load_model_kwargs: Any) -> dict[str, Any]:
    if load_model_kwargs is None:
        return {"safe_mode": True}
    if not isinstance(load_model_kwargs, dict):
        raise InvalidArgument(
            "Invalid load_model_kwargs: expected a dict of keras.saving.load_model arguments"
        )
    kwargs = {"safe_mode": True, **load_model_kwargs}
    if kwargs["safe_mode"] is not True:
        check_pickle_allowed("a Keras model with safe_mode=False (Lambda layers' bytecode)")
    return kwargs


def _load_file(
    model_dir: str,
    conf: dict[str, Any],
    custom_objects: dict[str, Any] | None = None,
    load_model_kwargs: dict[str, Any] | None = None,
) -> Any:
    keras = _keras()
    kwargs = _load_kwargs(load_model_kwargs)
    if conf.get("save_exported_model"):
        raise InvalidArgument(
            "Invalid keras flavor: the model was saved with save_exported_model=True (a "
            "TensorFlow SavedModel), which needs TensorFlow; mltrail loads .keras models only"
        )
    if "save_format" in conf or "keras_module" in conf:
        raise InvalidArgument(
            "Invalid keras flavor: the model was saved from Keras 2 or tf.keras (its MLmodel "
            f"names save_format {conf.get('save_format')!r}, keras_module "
            f"{conf.get('keras_module')!r}), which needs TensorFlow; mltrail loads Keras 3 "
            ".keras models only"
        )
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise InvalidArgument("Invalid custom_objects: expected a dict of names to objects")
    target = flavor_file(model_dir, conf.get("data", _MODEL_NAME), "keras data")
    if os.path.isdir(target):
        target = os.path.join(target, _MODEL_NAME)
    target += _SUFFIX
    if not os.path.isfile(target):
        raise InvalidArgument(f"Invalid keras flavor: the model file {target!r} is missing")
    return keras.saving.load_model(target, custom_objects=custom_objects, **kwargs)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    custom_objects: dict[str, Any] | None = None,
    load_model_kwargs: dict[str, Any] | None = None,
) -> Any:
    """The ``keras.Model`` saved at *model_uri*, read in Keras' safe mode; *custom_objects*
    and *load_model_kwargs* go to ``keras.saving.load_model``."""
    local = local_model(model_uri, dst_path)
    conf = load_flavor_conf(local, FLAVOR_NAME)
    return _load_file(local, conf, custom_objects, load_model_kwargs)


class _KerasPyfunc:
    """The python_function implementation: ``model.predict``; a DataFrame in gives a
    DataFrame out (same index), arrays, lists, tuples and dicts give a NumPy array."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        frame = isinstance(data, pd.DataFrame)
        if not frame and not isinstance(data, (np.ndarray, list, tuple, dict)):
            raise InvalidArgument(
                f"Invalid input of type {type(data).__name__}: a Keras model predicts on a "
                "DataFrame, a NumPy array, a list, a tuple or a dict"
            )
        with _quiet_numpy_conversions():
            if frame:
                return pd.DataFrame(self.model.predict(data.values, verbose=0), index=data.index)
            return _keras().ops.convert_to_numpy(self.model.predict(data, verbose=0))


def _load_pyfunc(path: str) -> _KerasPyfunc:
    """Loader of ``loader_module: mlflow.keras`` (the model directory, or a path inside it)."""
    model_dir = path
    if not os.path.isfile(os.path.join(path, "MLmodel")):
        model_dir = os.path.dirname(path)
    return _KerasPyfunc(_load_file(model_dir, load_flavor_conf(model_dir, FLAVOR_NAME)))
