"""Loading any model as a generic Python function: :class:`PyFuncModel` and ``load_model``.

The ``python_function`` flavor of ``MLmodel`` names a loader module and, optionally, a data
path and a code directory.  MLflow's own loader modules (``mlflow.sklearn``,
``mlflow.pyfunc.model``, ...) are served by mltrail's flavors of the same name, so models saved
by MLflow load without MLflow installed; other loader modules are imported as they are named
(the python_function contract), after the model's ``code`` directory is put on ``sys.path``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Any

from mltrail._exceptions import InvalidArgument, NotImplementedYet
from mltrail._optional import missing_dependency
from mltrail.artifacts import validate_artifact_path
from mltrail.models._enforce import enforce_params, enforce_schema
from mltrail.models._model import Model
from mltrail.models._uri import download_model
from mltrail.pyfunc._example_format import to_example_format

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "add_to_model",
    "load_model",
    "load_pyfunc",
    "loader_for",
]

FLAVOR_NAME = "python_function"

# MLflow's loader modules and the mltrail modules that load the same files.
_LOADERS = {
    "mlflow.sklearn": "mltrail.sklearn",
    "mlflow.pyfunc.model": "mltrail.pyfunc._python_model",
    "mlflow.pyfunc.loaders.code_model": "mltrail.pyfunc._python_model",
    "mlflow.xgboost": "mltrail.xgboost",
    "mlflow.statsmodels": "mltrail.statsmodels",
    "mlflow.lightgbm": "mltrail.lightgbm",
    "mlflow.catboost": "mltrail.catboost",
    "mlflow.keras": "mltrail.keras",
    "mlflow.pytorch": "mltrail.pytorch",
    "mlflow.onnx": "mltrail.onnx",
    "mlflow.transformers": "mltrail.transformers",
    "mlflow.shap": "mltrail.shap",
}


def loader_for(loader_module: str) -> str:
    """The module that loads a model whose ``loader_module`` is *loader_module*."""
    if not isinstance(loader_module, str) or not loader_module:
        raise InvalidArgument("Invalid python_function flavor: 'loader_module' is missing")
    if loader_module in _LOADERS:
        return _LOADERS[loader_module]
    if loader_module == "mlflow" or loader_module.startswith("mlflow."):
        supported = ", ".join(sorted(_LOADERS))
        raise NotImplementedYet(
            f"The model's flavor (loader module {loader_module!r}) is not supported by mltrail; "
            f"supported: {supported}"
        )
    return loader_module


def add_to_model(
    model: Model,
    loader_module: str,
    data: str | None = None,
    code: str | None = None,
    conda_env: str | None = None,
    python_env: str | None = None,
    model_config: dict[str, Any] | None = None,
    model_code_path: str | None = None,
    **kwargs: Any,
) -> Model:
    """Add the ``python_function`` flavor to *model* (MLflow's keys); returns *model*.
    *model_code_path* names the models-from-code file (in the model directory)."""
    import platform

    params: dict[str, Any] = dict(kwargs)
    params["loader_module"] = loader_module
    params["python_version"] = platform.python_version()
    if code is not None:
        params["code"] = code
    if data is not None:
        params["data"] = data
    env: dict[str, str] = {}
    if conda_env is not None:
        env["conda"] = conda_env
    if python_env is not None:
        env["virtualenv"] = python_env
    if env:
        params["env"] = env
    if model_config:
        params["config"] = model_config  # MLflow's key (mlflow.models.model.MODEL_CONFIG)
    if model_code_path is not None:
        params["model_code_path"] = model_code_path
    return model.add_flavor(FLAVOR_NAME, **params)


def _add_code_to_path(model_path: str, conf: dict[str, Any]) -> None:
    code = conf.get("code")
    if not code:
        return

    rel = validate_artifact_path(str(code))
    code_dir = os.path.join(model_path, *rel.split("/"))
    if os.path.isdir(code_dir) and code_dir not in sys.path:
        sys.path.insert(0, code_dir)


class PyFuncModel:
    """A loaded model with one method, ``predict(data, params=None)``, whatever its flavor.

    Input is checked and converted against the model's input schema, and params against its
    param schema, before the flavor's own ``predict`` sees them.
    """

    def __init__(self, model_meta: Model, model_impl: Any, loader_module: str, model_path: str):
        self._meta = model_meta
        self._impl = model_impl
        self.loader_module = loader_module
        self.model_path = model_path
        predict = getattr(model_impl, "predict", None)
        if not callable(predict):
            raise InvalidArgument(
                f"The loader module {loader_module!r} returned an object without predict()"
            )
        self._predict = predict
        try:
            parameters = inspect.signature(predict).parameters
            self._with_params = "params" in parameters or any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
            )
        except (TypeError, ValueError):
            self._with_params = False
        signature = model_meta.signature
        self._input_schema = signature.inputs if signature is not None else None
        self._params_schema = signature.params if signature is not None else None
        self._example_form = signature is not None and signature._is_type_hint_from_example

    @property
    def metadata(self) -> Model:
        return self._meta

    @property
    def model_id(self) -> str | None:
        """The id of the logged model this model was saved as (MLflow 3 models), or None."""
        model_id = self._meta.model_id or self._meta.extra.get("model_id")
        return str(model_id) if model_id else None

    @property
    def input_example(self) -> Any:
        """The input example saved with the model, or None."""
        return self._meta.load_input_example(self.model_path)

    @property
    def model_config(self) -> dict[str, Any]:
        context = getattr(self._impl, "context", None)
        config = getattr(context, "model_config", None)
        return dict(config) if isinstance(config, dict) else {}

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if self._input_schema is not None:
            data = enforce_schema(data, self._input_schema)
            if self._example_form:  # MLflow's TypeFromExample: the example's form, not a frame
                example = self.input_example
                if example is not None:
                    data = to_example_format(data, example)
        if self._params_schema is not None or params:
            params = enforce_params(params, self._params_schema)
        if self._with_params:
            return self._predict(data, params=params)
        return self._predict(data)

    def unwrap_python_model(self) -> Any:
        """The ``PythonModel`` of a custom model (InvalidArgument for other flavors)."""
        python_model = getattr(self._impl, "python_model", None)
        if python_model is None:
            raise InvalidArgument("unwrap_python_model() works on PythonModel models only")
        return python_model

    def get_raw_model(self) -> Any:
        """The flavor's native object (the estimator, booster, module, session...)."""
        raw = getattr(self._impl, "get_raw_model", None)
        return raw() if callable(raw) else self._impl

    def __repr__(self) -> str:
        meta = self._meta
        lines = ["mltrail.pyfunc.loaded_model:"]
        if meta.artifact_path:
            lines.append(f"  artifact_path: {meta.artifact_path}")
        lines.append(f"  flavor: {self.loader_module}")
        if meta.run_id:
            lines.append(f"  run_id: {meta.run_id}")
        return "\n".join(lines) + "\n"


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | None = None,
) -> PyFuncModel:
    """Load the model *model_uri* names as a :class:`PyFuncModel`.

    URIs: a local path, ``runs:/<run_id>/<path>``, ``models:/<name>/<version|stage|latest>``,
    ``models:/<name>@<alias>``, or any artifact URI (``s3://...``).
    """
    local = download_model(model_uri, dst_path)
    meta = Model.load(local)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise InvalidArgument(
            f"Model {model_uri!r} has no python_function flavor (it has "
            f"{sorted(meta.flavors)}); load it with its own flavor's load_model"
        )
    loader_module = str(conf.get("loader_module", ""))
    target = loader_for(loader_module)
    _add_code_to_path(local, conf)
    data_path = local
    if conf.get("data"):
        data_path = os.path.join(local, *validate_artifact_path(str(conf["data"])).split("/"))
    try:
        module = importlib.import_module(target)
        # The flavor's stored config (MLflow's "config" key), overridden by the caller's
        config = {**(conf.get("config") or {}), **(model_config or {})}
        if config:
            impl = module._load_pyfunc(data_path, config)
        else:
            impl = module._load_pyfunc(data_path)
    except ModuleNotFoundError as exc:  # a flavor's optional framework is not installed
        raise missing_dependency(exc) from None
    return PyFuncModel(meta, impl, loader_module, local)


def load_pyfunc(model_uri: str, suppress_warnings: bool = False) -> PyFuncModel:
    """MLflow 1.x's name of :func:`load_model`."""
    return load_model(model_uri, suppress_warnings)
