"""Models from code: a Python file that builds the model and hands it to :func:`set_model`.

``pyfunc.save_model(path, python_model="my_model.py", model_config={...})`` copies the file
into the model (nothing is pickled); loading runs it as a fresh module, during which
:class:`ModelConfig` reads the model's configuration, and takes what it passed to
``set_model``.  The ``MLmodel`` entry is MLflow's (``model_code_path``, loader module
``mlflow.pyfunc.loaders.code_model``), so either library loads the other's models.
"""

from __future__ import annotations

import contextvars
import importlib.util
import os
import sys
import threading
import uuid
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = ["ModelConfig", "load_code_model", "read_model_config", "set_model"]

# The configuration of the model being loaded (None: no model is loading).
_LOADING_CONFIG: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "mltrail_loading_model_config", default=None
)
_set_models: list[Any] = []  # what set_model received while a model file ran
_LOADING = threading.Lock()


def read_model_config(config: str | os.PathLike[str] | dict[str, Any] | None) -> dict[str, Any]:
    """*config* as a dict: a dict, or the path of a YAML file holding a mapping."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return dict(config)
    if not isinstance(config, (str, os.PathLike)):
        raise InvalidArgument(
            f"Invalid model_config of type {type(config).__name__}: expected a dict or the "
            "path of a YAML file"
        )
    import yaml

    path = os.fspath(config)
    if not os.path.isfile(path):
        raise InvalidArgument(f"Invalid model_config {path!r}: no such file")
    with open(path, encoding="utf-8") as f:
        try:
            loaded = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"Invalid model_config {path!r}: not YAML ({exc})") from None
    if not isinstance(loaded, dict):
        raise InvalidArgument(f"Invalid model_config {path!r}: expected a YAML mapping")
    return loaded


def set_model(model: Any) -> None:
    """Declare the model a models-from-code file builds (a ``PythonModel`` or a function)."""
    if not callable(getattr(model, "predict", None)) and not callable(model):
        raise InvalidArgument(
            f"Invalid model of type {type(model).__name__}: set_model takes a PythonModel "
            "(with predict) or a function"
        )
    _set_models.append(model)


def load_code_model(code_path: str, model_config: dict[str, Any] | None) -> Any:
    """Run the models-from-code file *code_path* with *model_config* in effect; the model it
    passed to :func:`set_model`."""
    if not os.path.isfile(code_path):
        raise InvalidArgument(f"Invalid model code path {code_path!r}: no such file")
    with _LOADING:
        del _set_models[:]
        token = _LOADING_CONFIG.set(dict(model_config or {}))
        name = f"mltrail_code_model_{uuid.uuid4().hex}"
        try:
            spec = importlib.util.spec_from_file_location(name, code_path)
            if spec is None or spec.loader is None:
                raise InvalidArgument(f"Cannot load {code_path!r} as a Python file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        finally:
            _LOADING_CONFIG.reset(token)
        found = list(_set_models)
        del _set_models[:]
    if not found:
        raise InvalidArgument(
            f"The model file {os.path.basename(code_path)!r} did not call set_model(model): "
            "a models-from-code file must pass its model to mltrail.models.set_model"
        )
    return found[-1]


class ModelConfig:
    """The configuration of a models-from-code model: while the model loads, the
    ``model_config`` it was saved with (or given to ``load_model``); elsewhere (developing the
    file), *development_config* (a dict or the path of a YAML file)."""

    def __init__(self, *, development_config: str | dict[str, Any] | None = None) -> None:
        loading = _LOADING_CONFIG.get()
        if loading:
            self._config = loading
        elif development_config is not None:
            self._config = read_model_config(development_config)
        else:
            raise InvalidArgument(
                "ModelConfig has no configuration: the model was saved without model_config, "
                "and no development_config is given"
            )

    def to_dict(self) -> dict[str, Any]:
        return dict(self._config)

    def get(self, key: str) -> Any:
        """The value of the top-level *key* (KeyError when the configuration lacks it)."""
        if key not in self._config:
            raise KeyError(f"Key {key!r} not found in the model configuration")
        return self._config[key]
