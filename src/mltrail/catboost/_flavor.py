"""The CatBoost flavor: ``CatBoost``, ``CatBoostClassifier``, ``CatBoostRegressor`` and
``CatBoostRanker`` in CatBoost's own file formats.

Models are written with CatBoost's ``save_model`` (``model.cb``, in the binary ``cbm`` format
by default, or ``json``), which holds trees and parameters, never Python objects: loading one
runs no pickle.  The ``MLmodel`` entries are MLflow's (``loader_module: mlflow.catboost``,
``model_type`` naming the class, ``save_format``, ``data``), so the models move both ways.
Only the four CatBoost model classes are ever instantiated from ``model_type``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._save import copy_code_paths, copy_extra_files, finish_save, prepare_model_dir
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

# What the requirements probe imports while the model is written (the loader's libraries).
_PROBE_MODULES = ["catboost", "mltrail.catboost"]

FLAVOR_NAME = "catboost"
_DATA_FILE = "model.cb"
_MODEL_TYPES = ("CatBoost", "CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker")
# Formats CatBoost writes and reads back to the same model; cpp, python and pmml are
# export-only (CatBoost cannot load them) and coreml and onnx keep only part of a model.
_SAVE_FORMATS = ("cbm", "json")
# Formats a model written elsewhere may name that CatBoost's load_model reads.
_LOAD_FORMATS = ("cbm", "json", "coreml", "AppleCoreML", "onnx")
# The keyword arguments of CatBoost's save_model that save_model(**kwargs) passes on.
_SAVE_KWARGS = ("format", "export_parameters", "pool")


def get_default_pip_requirements() -> list[str]:
    from mltrail.models._env import pinned

    return [pinned("catboost")]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def _save_kwargs(kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The format and the keyword arguments for CatBoost's ``save_model``, checked."""
    unknown = sorted(set(kwargs) - set(_SAVE_KWARGS))
    if unknown:
        raise InvalidArgument(
            f"Invalid argument {unknown[0]!r}: save_model passes only {list(_SAVE_KWARGS)} "
            "on to CatBoost's save_model"
        )
    save_format = kwargs.get("format", "cbm")
    if save_format not in _SAVE_FORMATS:
        raise InvalidArgument(
            f"Invalid format {save_format!r}: expected one of {list(_SAVE_FORMATS)} (CatBoost "
            "loads other formats back partly or not at all; export them with CatBoost itself)"
        )
    return save_format, {**kwargs, "format": save_format}


def save_model(
    cb_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> Model:
    """Save a CatBoost model to *path*; *kwargs* (``format``, ``export_parameters``,
    ``pool``) go to CatBoost's ``save_model``."""
    cb = require("catboost")

    from mltrail.models._env import early_probe

    save_format, save_kwargs = _save_kwargs(kwargs)
    if not isinstance(cb_model, cb.CatBoost):
        raise InvalidArgument(
            f"Invalid cb_model of type {type(cb_model).__name__}: expected a CatBoost model "
            f"({', '.join(_MODEL_TYPES)})"
        )
    if not cb_model.is_fitted():
        raise InvalidArgument("Invalid cb_model: the model is not fitted")
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    extras = copy_extra_files(local, extra_files)
    with early_probe(_PROBE_MODULES, pip_requirements, conda_env) as started:
        cb_model.save_model(os.path.join(local, _DATA_FILE), **save_kwargs)
        add_to_model(model, "mlflow.catboost", data=_DATA_FILE, code=code)
        conf: dict[str, Any] = {
            "model_type": type(cb_model).__name__,
            "save_format": save_format,
            "data": _DATA_FILE,
        }
        model.add_flavor(FLAVOR_NAME, catboost_version=cb.__version__, code=code, **conf, **extras)
        return finish_save(
            local,
            model,
            predict=_CatBoostPyfunc(cb_model).predict,
            signature=signature,
            input_example=input_example,
            default_requirements=get_default_pip_requirements(),
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
            metadata=metadata,
            started_probe=started,
        )


def log_model(
    cb_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
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
    """Log a CatBoost model as MLflow 3 does: a logged model (``models:/m-...``), an output of the
    active run (or *run_id*) when there is one; the other arguments are :func:`save_model`'s."""
    arguments = dict(locals())
    _save_kwargs(kwargs)  # bad arguments fail before anything is logged
    return log_flavor_model(save_model, arguments)


def _instantiate(model_type: Any) -> Any:
    """An empty model of the CatBoost class *model_type* names."""
    if model_type not in _MODEL_TYPES:
        raise InvalidArgument(
            f"Invalid catboost flavor: model_type {model_type!r} is not one of {list(_MODEL_TYPES)}"
        )
    return getattr(require("catboost"), model_type)()


def _load_file(model_dir: str, conf: dict[str, Any]) -> Any:
    file = flavor_file(model_dir, conf.get("data", _DATA_FILE), "catboost data")
    save_format = conf.get("save_format", "cbm")
    if save_format not in _LOAD_FORMATS:
        raise InvalidArgument(
            f"Invalid catboost flavor: save_format {save_format!r} cannot be loaded (CatBoost "
            f"reads {list(_LOAD_FORMATS)})"
        )
    model = _instantiate(conf.get("model_type"))
    model.load_model(file, format=save_format)
    return model


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The CatBoost model saved at *model_uri* (of the class it was saved as)."""

    local = local_model(model_uri, dst_path)
    return _load_file(local, load_flavor_conf(local, FLAVOR_NAME))


class _CatBoostPyfunc:
    """The python_function implementation: the model's own ``predict``."""

    def __init__(self, cb_model: Any) -> None:
        self.cb_model = cb_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.cb_model.predict(data)

    def get_raw_model(self) -> Any:
        return self.cb_model


def _load_pyfunc(path: str) -> _CatBoostPyfunc:
    """Loader of ``loader_module: mlflow.catboost`` (the model file or its directory)."""

    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    return _CatBoostPyfunc(_load_file(model_dir, load_flavor_conf(model_dir, FLAVOR_NAME)))
