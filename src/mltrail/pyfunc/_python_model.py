"""Custom Python models: :class:`PythonModel`, its context, and their loader.

A ``PythonModel`` is saved with cloudpickle as ``python_model.pkl`` beside an ``artifacts/``
folder; at load time ``load_context(context)`` runs once with ``context.artifacts`` mapping each
artifact name to its local path, then ``predict(context, model_input, params=None)`` (or
``predict(model_input, params=None)``) serves every call.  The layout and the ``MLmodel``
entries are MLflow's (``loader_module: mlflow.pyfunc.model``), so MLflow loads these models and
mltrail loads MLflow's.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import validate_artifact_path
from mltrail.models._code_model import load_code_model
from mltrail.models._model import Model
from mltrail.models._safety import check_pickle_allowed

__all__ = [
    "PYTHON_MODEL_FILE",
    "FunctionPythonModel",
    "PythonModel",
    "PythonModelContext",
    "PythonModelWrapper",
]

PYTHON_MODEL_FILE = "python_model.pkl"


@dataclass
class PythonModelContext:
    """What ``load_context`` receives: local paths of the model's artifacts, and its config."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class _NoTypeHints:
    """MLflow's loader reads ``predict_type_hints``; mltrail models declare none."""

    input: Any = None
    output: Any = None


class PythonModel:
    """Base class of custom models: override ``predict`` and, if needed, ``load_context``."""

    def load_context(self, context: PythonModelContext) -> None:
        """Load what ``predict`` needs (from ``context.artifacts``); called once at load time."""

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement predict()")

    @property
    def predict_type_hints(self) -> _NoTypeHints:
        return _NoTypeHints()


class FunctionPythonModel(PythonModel):
    """A plain function ``f(model_input)`` saved as a python_function model."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        if _accepts_params(self.func):
            return self.func(model_input, params=params)
        return self.func(model_input)


def _accepts_params(func: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "params" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _takes_context(func: Callable[..., Any]) -> bool:
    try:
        return "context" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True


class PythonModelWrapper:
    """The python_function implementation of a loaded ``PythonModel``."""

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context
        predict = python_model.predict
        self._with_context = _takes_context(predict)
        self._with_params = _accepts_params(predict)

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        args = (self.context, model_input) if self._with_context else (model_input,)
        if self._with_params:
            return self.python_model.predict(*args, params=params)
        return self.python_model.predict(*args)

    def get_raw_model(self) -> Any:
        return self.python_model


def load_python_model(model_path: str, conf: dict[str, Any], model_config: Any = None) -> Any:
    """Unpickle the model's ``PythonModel`` (refused when pickle is disallowed)."""
    name = validate_artifact_path(str(conf.get("python_model") or PYTHON_MODEL_FILE))
    file = os.path.join(model_path, *name.split("/"))
    check_pickle_allowed(f"the python_function model {file!r}")
    if conf.get("python_model_compression"):
        raise InvalidArgument(
            f"Cannot load {file!r}: compressed python models "
            f"({conf['python_model_compression']}) are not supported"
        )
    import cloudpickle

    with open(file, "rb") as f:
        return cloudpickle.load(f)


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> PythonModelWrapper:
    """Loader of ``loader_module: mlflow.pyfunc.model``: unpickle, then ``load_context``."""
    conf = Model.load(model_path).flavors.get("python_function", {})
    # MLflow's key; "model_config" is where mltrail 0.x wrote it
    config = dict(conf.get("config") or conf.get("model_config") or {})
    config.update(model_config or {})
    if conf.get("model_code_path"):  # a model from code: run its file (nothing is unpickled)
        name = os.path.basename(str(conf["model_code_path"]).replace("\\", "/"))
        python_model = load_code_model(os.path.join(model_path, name), config)
        if not isinstance(python_model, PythonModel) and not hasattr(python_model, "predict"):
            python_model = FunctionPythonModel(python_model)
    else:
        python_model = load_python_model(model_path, conf)
    artifacts = {}
    for artifact_name, info in (conf.get("artifacts") or {}).items():
        rel = validate_artifact_path(str(info.get("path", "")))
        artifacts[str(artifact_name)] = os.path.join(model_path, *rel.split("/"))
    context = PythonModelContext(artifacts=artifacts, model_config=config)
    if callable(getattr(python_model, "load_context", None)):
        python_model.load_context(context)
    return PythonModelWrapper(python_model, context)
