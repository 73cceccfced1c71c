"""SHAP explainers as models: ``save_explainer``, ``log_explainer``, ``load_explainer``
(MLflow's ``shap`` flavor format).

The explainer is written with SHAP's own ``Explainer.save`` to ``explainer.shap``; that file is
read with pickle, so loading it is refused when ``MLTRAIL_ALLOW_PICKLE`` is false.  With
``serialize_model_using_mlflow`` (the default), the explainer's model, when it is a
scikit-learn estimator's method or a PyTorch module, is saved with its own flavor under
``underlying_model/`` (scikit-learn with cloudpickle, as MLflow does: the explainer is pickled
anyway) and left out of ``explainer.shap``; the model's requirements join the explainer's.
Any other model stays inside ``explainer.shap`` (with a warning).  ``MLmodel`` records
``shap_version``, ``serialized_explainer`` and ``underlying_model_flavor`` (``sklearn``,
``pytorch``, ``unknown``, or null when the model was not extracted).
"""

from __future__ import annotations

import os
import re
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._safety import check_pickle_allowed
from mltrail.models._save import copy_code_paths, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import _add_code_to_path, add_to_model
from mltrail.pytorch import _flavor as pytorch_flavor
from mltrail.sklearn import _flavor as sklearn_flavor

__all__ = [
    "FLAVOR_NAME",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "get_underlying_model_flavor",
    "load_explainer",
    "log_explainer",
    "save_explainer",
    "save_model",
]

FLAVOR_NAME = "shap"
UNKNOWN_MODEL_FLAVOR = "unknown"
UNDERLYING_MODEL_SUBPATH = "underlying_model"
_EXPLAINER_FILE = "explainer.shap"
_UNSERIALIZABLE_WARNING = (
    "Unable to serialize underlying model using MLflow, will use SHAP serialization"
)


def get_default_pip_requirements() -> list[str]:
    """The requirements of an explainer's model directory at least: SHAP, pinned."""
    from mltrail.models._env import pinned

    return [pinned("shap")]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of an explainer saved with the default
    requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def _is_sklearn_estimator(obj: Any) -> bool:
    # An estimator's module is loaded once one exists: nothing is imported to ask.
    base = sys.modules.get("sklearn.base")
    return base is not None and isinstance(obj, base.BaseEstimator)


def _is_torch_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def get_underlying_model_flavor(model: Any) -> str:
    """The flavor of the model an explainer wraps (its ``model.inner_model``): ``sklearn``
    for a scikit-learn estimator's method, ``pytorch`` for a PyTorch module, else
    ``unknown``."""
    inner = getattr(model, "inner_model", None)
    if inner is None:
        return UNKNOWN_MODEL_FLAVOR
    if isinstance(inner, types.MethodType) and _is_sklearn_estimator(inner.__self__):
        return sklearn_flavor.FLAVOR_NAME
    if _is_torch_module(inner):
        return pytorch_flavor.FLAVOR_NAME
    return UNKNOWN_MODEL_FLAVOR


def _save_underlying(explainer: Any, flavor: str, path: str) -> None:
    inner = explainer.model.inner_model
    if flavor == sklearn_flavor.FLAVOR_NAME:
        sklearn_flavor.save_model(
            inner.__self__,
            path,
            serialization_format=sklearn_flavor.SERIALIZATION_FORMAT_CLOUDPICKLE,
        )
    else:
        pytorch_flavor.save_model(inner, path)


def _requirement_name(line: str) -> str:
    return re.split(r"[\s<>=!~;\[@]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _merge_requirements(path: str, underlying: str) -> None:
    """Add the underlying model's requirements that the explainer's lack (by name) to
    ``requirements.txt`` and to the pip list of ``conda.yaml``."""
    import yaml

    with open(os.path.join(underlying, "requirements.txt")) as f:
        wanted = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    requirements = os.path.join(path, "requirements.txt")
    with open(requirements) as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    names = {_requirement_name(line) for line in lines}
    added = [line for line in wanted if _requirement_name(line) not in names]
    if not added:
        return
    with open(requirements, "w") as f:
        f.write("\n".join([*lines, *added]))
    conda_file = os.path.join(path, "conda.yaml")
    with open(conda_file) as f:
        conda = yaml.safe_load(f)
    for dependency in conda.get("dependencies") or []:
        if isinstance(dependency, dict) and isinstance(dependency.get("pip"), list):
            pip = dependency["pip"]
            present = {_requirement_name(str(p)) for p in pip}
            pip.extend(line for line in added if _requirement_name(line) not in present)
    with open(conda_file, "w") as f:
        yaml.safe_dump(conda, f, default_flow_style=False)


def save_explainer(
    explainer: Any,
    path: str | os.PathLike[str],
    serialize_model_using_mlflow: bool = True,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Model:
    """Save a SHAP explainer to the new directory *path* with the ``shap`` and
    ``python_function`` flavors (see the module's description)."""
    shap = require("shap")
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    underlying_flavor: str | None = None
    underlying_path: str | None = None
    if serialize_model_using_mlflow:
        underlying_flavor = get_underlying_model_flavor(getattr(explainer, "model", None))
        if underlying_flavor == UNKNOWN_MODEL_FLAVOR:
            warnings.warn(_UNSERIALIZABLE_WARNING, stacklevel=2)
        else:
            underlying_path = os.path.join(local, UNDERLYING_MODEL_SUBPATH)
            _save_underlying(explainer, underlying_flavor, underlying_path)
    with open(os.path.join(local, _EXPLAINER_FILE), "wb") as f:
        if underlying_path is not None:
            explainer.save(f, model_saver=False)
        else:
            explainer.save(f)
    add_to_model(
        model,
        "mlflow.shap",
        model_path=_EXPLAINER_FILE,
        underlying_model_flavor=underlying_flavor,
        code=code,
    )
    model.add_flavor(
        FLAVOR_NAME,
        shap_version=shap.__version__,
        serialized_explainer=_EXPLAINER_FILE,
        underlying_model_flavor=underlying_flavor,
        code=code,
    )
    saved = finish_save(
        local,
        model,
        predict=None,
        signature=signature,
        input_example=input_example,
        default_requirements=get_default_pip_requirements(),
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        metadata=metadata,
    )
    if underlying_path is not None:
        _merge_requirements(local, underlying_path)
    return saved


save_model = save_explainer


def log_explainer(
    explainer: Any,
    artifact_path: str | None = None,
    serialize_model_using_mlflow: bool = True,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
) -> ModelInfo:
    """Log a SHAP explainer as MLflow 3 does: a logged model (``models:/m-...``), an output of
    the active run when there is one; the other arguments are :func:`save_explainer`'s."""
    arguments = dict(locals())
    return log_flavor_model(save_explainer, arguments)


def _underlying_model(model_dir: str, flavor: Any) -> Any:
    """The model to give back to the explainer: the underlying model's predict function (a
    scikit-learn estimator's) or module (PyTorch); None when SHAP saved it itself."""
    path = os.path.join(model_dir, UNDERLYING_MODEL_SUBPATH)
    if flavor == sklearn_flavor.FLAVOR_NAME:
        return sklearn_flavor._load_pyfunc(path).predict
    if flavor == pytorch_flavor.FLAVOR_NAME:
        return pytorch_flavor._load_data(os.path.join(path, "data"))
    return None


def _read_explainer(file: str, model: Any) -> Any:
    check_pickle_allowed(f"the SHAP explainer {file!r}")
    shap = require("shap")
    with open(file, "rb") as f:
        if model is None:
            return shap.Explainer.load(f)
        return shap.Explainer.load(f, model_loader=lambda _file: model)


def _load_from_dir(model_dir: str) -> Any:
    conf = load_flavor_conf(model_dir, FLAVOR_NAME)
    _add_code_to_path(model_dir, conf)
    file = flavor_file(model_dir, conf.get("serialized_explainer"), "shap serialized_explainer")
    return _read_explainer(file, _underlying_model(model_dir, conf.get("underlying_model_flavor")))


def load_explainer(model_uri: str) -> Any:
    """The SHAP explainer saved at *model_uri* (its file is read with pickle: load explainers
    only from sources you trust)."""
    return _load_from_dir(local_model(model_uri))


class _ShapPyfunc:
    """The python_function implementation of an explainer: predict gives the SHAP values."""

    def __init__(self, explainer: Any) -> None:
        self.explainer = explainer

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np

        rows = data.values if hasattr(data, "values") and hasattr(data, "columns") else data
        return self.explainer(np.asarray(rows)).values

    def get_raw_model(self) -> Any:
        return self.explainer


def _load_pyfunc(path: str) -> _ShapPyfunc:
    """Loader of ``loader_module: mlflow.shap`` (the model directory)."""
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    return _ShapPyfunc(_load_from_dir(model_dir))
