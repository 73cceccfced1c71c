"""The XGBoost flavor: Boosters and the scikit-learn API, in XGBoost's native format.

Models are written with XGBoost's own ``save_model`` (``model.ubj`` by default, or ``json``),
which stores trees and parameters, never Python objects: loading one runs no pickle.  The
``MLmodel`` entries are MLflow's (``loader_module: mlflow.xgboost``, ``model_class``,
``model_format``), so the models move both ways.  Only classes of the ``xgboost`` package are
ever instantiated from ``model_class``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model, model_class_name
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._save import copy_code_paths, copy_extra_files, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import add_to_model

__all__ = ["FLAVOR_NAME", "get_default_pip_requirements", "load_model", "log_model", "save_model"]

# What the requirements probe imports while the model is written (the loader's libraries).
_PROBE_MODULES = ["xgboost", "mltrail.xgboost"]

FLAVOR_NAME = "xgboost"
_FORMATS = ("ubj", "json", "xgb")


def get_default_pip_requirements(sklearn_api: bool = False) -> list[str]:
    from mltrail.models._env import pinned

    out = [pinned("xgboost"), pinned("numpy"), pinned("pandas")]
    if sklearn_api:
        out.append(pinned("scikit-learn"))
    return out


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> Model:
    """Save an ``xgboost.Booster`` or an XGBoost scikit-learn estimator to *path*."""
    import xgboost as xgb

    from mltrail.models._env import early_probe

    if model_format not in _FORMATS:
        raise InvalidArgument(
            f"Invalid model_format {model_format!r}: expected one of {list(_FORMATS)}"
        )
    if not isinstance(xgb_model, (xgb.Booster, xgb.XGBModel)):
        raise InvalidArgument(
            f"Invalid xgb_model of type {type(xgb_model).__name__}: expected an xgboost.Booster "
            "or an XGBoost scikit-learn estimator"
        )
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    extras = copy_extra_files(local, extra_files)
    with early_probe(_PROBE_MODULES, pip_requirements, conda_env) as started:
        file_name = f"model.{model_format}"
        xgb_model.save_model(os.path.join(local, file_name), **kwargs)
        add_to_model(model, "mlflow.xgboost", data=file_name, code=code)
        model.add_flavor(
            FLAVOR_NAME,
            code=code,
            data=file_name,
            model_class=model_class_name(xgb_model),
            model_format=model_format,
            xgb_version=xgb.__version__,
            **extras,
        )
        wrapper = _XGBoostPyfunc(xgb_model)
        return finish_save(
            local,
            model,
            predict=wrapper.predict,
            signature=signature,
            input_example=input_example,
            default_requirements=get_default_pip_requirements(isinstance(xgb_model, xgb.XGBModel)),
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
            metadata=metadata,
            started_probe=started,
        )


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    run_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an XGBoost model as MLflow 3 does: a logged model (``models:/m-...``), an output of the
    active run (or *run_id*) when there is one; the other arguments are :func:`save_model`'s."""
    arguments = dict(locals())
    return log_flavor_model(save_model, arguments)


def _instantiate(model_class: Any) -> Any:
    """An empty model of *model_class*, which must be a class of the xgboost package."""
    if not isinstance(model_class, str) or "." not in model_class:
        raise InvalidArgument(f"Invalid xgboost flavor: bad model_class {model_class!r}")
    module_name, _, class_name = model_class.rpartition(".")
    if module_name != "xgboost" and not module_name.startswith("xgboost."):
        raise InvalidArgument(
            f"Invalid xgboost flavor: model_class {model_class!r} is not an XGBoost class"
        )
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not isinstance(cls, type):
        raise InvalidArgument(f"Invalid xgboost flavor: no class {model_class!r}")
    return cls()


def _load_file(model_dir: str, conf: dict[str, Any]) -> Any:
    require("xgboost")
    file = flavor_file(model_dir, conf.get("data"), "xgboost data")
    model = _instantiate(conf.get("model_class", "xgboost.core.Booster"))
    model.load_model(file)
    return model


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The ``xgboost.Booster`` or XGBoost estimator saved at *model_uri*."""

    local = local_model(model_uri, dst_path)
    return _load_file(local, load_flavor_conf(local, FLAVOR_NAME))


class _XGBoostPyfunc:
    """The python_function implementation: DataFrames go through a DMatrix for Boosters."""

    def __init__(self, xgb_model: Any) -> None:
        import xgboost as xgb

        self.xgb_model = xgb_model
        self._is_booster = isinstance(xgb_model, xgb.Booster)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if self._is_booster:
            import xgboost as xgb

            return self.xgb_model.predict(xgb.DMatrix(data))
        return self.xgb_model.predict(data)

    def get_raw_model(self) -> Any:
        return self.xgb_model


def _load_pyfunc(path: str) -> _XGBoostPyfunc:
    """Loader of ``loader_module: mlflow.xgboost`` (the model file or its directory)."""

    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    return _XGBoostPyfunc(_load_file(model_dir, load_flavor_conf(model_dir, FLAVOR_NAME)))
