"""The LightGBM flavor: Boosters in LightGBM's native text format, and the scikit-learn API.

A ``lightgbm.Booster`` is written with its own ``save_model`` (``model.lgb``: trees and
parameters as text, no Python objects).  ``LGBMClassifier``/``LGBMRegressor`` and the other
estimators of the scikit-learn API are written as MLflow writes them, through the scikit-learn
serializers: skops by default (``model.skops``), pickle or cloudpickle on request
(``model.pkl``).  The ``MLmodel`` entries are MLflow's (``loader_module: mlflow.lightgbm``,
``model_class``, ``serialization_format``), so the models move both ways.  A skops file is
rebuilt trusting the LightGBM estimator classes plus the standard scikit-learn, numpy and
scipy types, and nothing else unless allowed (see :mod:`mltrail.sklearn`).
"""

from __future__ import annotations

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
from mltrail.sklearn._flavor import (
    dump_estimator,
    load_estimator,
    probe_modules,
    resolve_serialization_format,
)

__all__ = ["FLAVOR_NAME", "get_default_pip_requirements", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "lightgbm"
_BOOSTER_CLASS = "lightgbm.basic.Booster"
_BOOSTER_FILE = "model.lgb"
# The LightGBM types a skops file of the scikit-learn API holds (also listed in MLmodel, as
# MLflow lists them, so that MLflow reloads the model with no extra argument).
_TRUSTED_TYPES = (
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRanker",
    "lightgbm.sklearn.LGBMRegressor",
)


def get_default_pip_requirements(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> list[str]:
    from mltrail.models._env import pinned

    out = [pinned("lightgbm")]
    if include_cloudpickle:
        out.append(pinned("cloudpickle"))
    if include_skops:
        out.append(pinned("skops"))
    return out


def get_default_conda_env(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements(include_cloudpickle, include_skops))


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> Model:
    """Save a ``lightgbm.Booster`` or a LightGBM scikit-learn estimator to *path*.

    *serialization_format* (``skops``, ``pickle``, ``cloudpickle``) applies to scikit-learn
    estimators only; a Booster is always written in LightGBM's native format.
    """
    import lightgbm as lgb

    from mltrail.models._env import early_probe

    if not isinstance(lgb_model, (lgb.Booster, lgb.LGBMModel)):
        raise InvalidArgument(
            f"Invalid lgb_model of type {type(lgb_model).__name__}: expected a lightgbm.Booster "
            "or a LightGBM scikit-learn estimator"
        )
    if isinstance(lgb_model, lgb.Booster):  # written natively: the format is only recorded
        serialization_format = resolve_serialization_format(serialization_format or "skops")
    else:  # skops by default, cloudpickle (with a warning) where skops is not installed
        serialization_format = resolve_serialization_format(serialization_format)
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    extras = copy_extra_files(local, extra_files)
    with early_probe(
        _probe_modules(lgb_model, serialization_format), pip_requirements, conda_env
    ) as started:
        is_booster = isinstance(lgb_model, lgb.Booster)
        trusted: list[str] | None = None
        if is_booster:
            file_name = _BOOSTER_FILE
            lgb_model.save_model(os.path.join(local, file_name), **kwargs)
            requirements = get_default_pip_requirements()
        else:
            file_name, found, from_file = dump_estimator(
                lgb_model, local, serialization_format, skops_trusted_types
            )
            requirements = _merge(get_default_pip_requirements(), from_file)
            if serialization_format == "skops":
                trusted = sorted(set(found or []) | set(_TRUSTED_TYPES))
        add_to_model(model, "mlflow.lightgbm", data=file_name, code=code)
        model.add_flavor(
            FLAVOR_NAME,
            lgb_version=lgb.__version__,
            data=file_name,
            model_class=model_class_name(lgb_model),
            code=code,
            serialization_format=serialization_format,
            skops_trusted_types=trusted,
            **extras,
        )
        return finish_save(
            local,
            model,
            predict=_LightGBMPyfunc(lgb_model).predict,
            signature=signature,
            input_example=input_example,
            default_requirements=requirements,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
            metadata=metadata,
            started_probe=started,
        )


def _probe_modules(lgb_model: Any, fmt: str) -> list[str]:
    """What the requirements probe imports while the model is written."""
    import lightgbm as lgb

    if isinstance(lgb_model, lgb.Booster):
        return ["lightgbm", "mltrail.lightgbm"]
    return probe_modules(fmt, "lightgbm", "mltrail.lightgbm")


def _merge(first: list[str], second: list[str]) -> list[str]:
    names = {r.split("==", 1)[0].lower() for r in first}
    return first + [r for r in second if r.split("==", 1)[0].lower() not in names]


def log_model(
    lgb_model: Any,
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
    serialization_format: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    run_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a LightGBM model as MLflow 3 does: a logged model (``models:/m-...``), an output of the
    active run (or *run_id*) when there is one; the other arguments are :func:`save_model`'s."""
    arguments = dict(locals())
    return log_flavor_model(save_model, arguments)


def _load_file(model_dir: str, conf: dict[str, Any], extra_trusted: Sequence[str] | None) -> Any:
    require("lightgbm")
    file = flavor_file(model_dir, conf.get("data"), "lightgbm data")
    model_class = conf.get("model_class", _BOOSTER_CLASS)
    if model_class == _BOOSTER_CLASS:
        import lightgbm as lgb

        return lgb.Booster(model_file=file)
    if not isinstance(model_class, str) or not model_class.startswith("lightgbm."):
        raise InvalidArgument(
            f"Invalid lightgbm flavor: model_class {model_class!r} is not a LightGBM class"
        )

    # MLflow wrote cloudpickle files before it recorded serialization_format.
    sk_conf = {**conf, "serialization_format": conf.get("serialization_format", "cloudpickle")}
    return load_estimator(file, sk_conf, [*_TRUSTED_TYPES, *(extra_trusted or [])])


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
) -> Any:
    """The ``lightgbm.Booster`` or LightGBM estimator saved at *model_uri*."""

    local = local_model(model_uri, dst_path)
    return _load_file(local, load_flavor_conf(local, FLAVOR_NAME), skops_trusted_types)


class _LightGBMPyfunc:
    """The python_function implementation: the model's own ``predict``."""

    def __init__(self, lgb_model: Any) -> None:
        self.lgb_model = lgb_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.lgb_model.predict(data)

    def get_raw_model(self) -> Any:
        return self.lgb_model


def _load_pyfunc(path: str) -> _LightGBMPyfunc:
    """Loader of ``loader_module: mlflow.lightgbm`` (the model file or its directory)."""

    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    return _LightGBMPyfunc(_load_file(model_dir, load_flavor_conf(model_dir, FLAVOR_NAME), None))
