"""The scikit-learn flavor: ``save_model``, ``log_model``, ``load_model`` (MLflow's format).

Estimators are saved with skops by default (``model.skops``), which rebuilds objects without
running pickle; ``serialization_format="pickle"`` or ``"cloudpickle"`` writes ``model.pkl``.
skops comes with the ``sklearn`` extra (MLflow installs it with ``mlflow`` itself); where it
is not installed, the default falls back to cloudpickle, as MLflow saves on Databricks, with
a one-line warning naming the extra, so that ``pip install mltrail scikit-learn`` logs models
(and MLflow reads them: the format is recorded in ``MLmodel``).  Asking for skops explicitly
without it installed is the one-line MissingDependency error.
At save time the types skops does not trust by itself are listed in ``MLmodel``
(``skops_trusted_types``) so that MLflow reloads the model with no extra argument.  At load
time mltrail trusts the scikit-learn, numpy and scipy types a file holds; any other type must
be passed in ``skops_trusted_types``, or be listed in ``MLmodel`` while pickle-based loading is
allowed (``MLTRAIL_ALLOW_PICKLE``, default true), since such types can run code when rebuilt.
The trees and neighbour searches among the trusted types are checked after loading
(:mod:`mltrail.sklearn._integrity`): their compiled code follows indices without bounds checks.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument, PermissionDenied
from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._safety import check_pickle_allowed, pickle_allowed
from mltrail.models._save import copy_code_paths, copy_extra_files, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import add_to_model
from mltrail.sklearn._integrity import check_index_bounds
from mltrail.sklearn._skops import skops_io

if TYPE_CHECKING:
    from mltrail.models._env import StartedProbe

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "dump_estimator",
    "get_default_pip_requirements",
    "load_estimator",
    "load_model",
    "log_model",
    "probe_modules",
    "resolve_serialization_format",
    "save_model",
]

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_SKOPS = "skops"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = (
    SERIALIZATION_FORMAT_SKOPS,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
)
_SKOPS_FILE = "model.skops"
_PICKLE_FILE = "model.pkl"
_STANDARD_ROOTS = ("sklearn", "numpy", "scipy")
_logger = logging.getLogger("mltrail.sklearn")
NO_SKOPS_WARNING = (
    "skops is not installed: saving the scikit-learn model with cloudpickle (loading it runs "
    "pickle); for the safe skops format: pip install 'mltrail[sklearn]'"
)


def resolve_serialization_format(serialization_format: str | None) -> str:
    """*serialization_format*, or the default when None: skops where it is installed, else
    cloudpickle with a one-line warning naming the extra that brings skops."""
    if serialization_format is not None:
        if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
            raise InvalidArgument(
                f"Invalid serialization_format {serialization_format!r}: expected one of "
                f"{list(SUPPORTED_SERIALIZATION_FORMATS)}"
            )
        return serialization_format
    if importlib.util.find_spec("skops") is not None:
        return SERIALIZATION_FORMAT_SKOPS
    _logger.warning(NO_SKOPS_WARNING)
    return SERIALIZATION_FORMAT_CLOUDPICKLE


def get_default_pip_requirements(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> list[str]:
    from mltrail.models._env import pinned

    out = [pinned("scikit-learn")]
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


def _is_standard(type_name: str) -> bool:
    return type_name.split(".", 1)[0] in _STANDARD_ROOTS


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    serialization_format: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    extra_files: Sequence[str] | None = None,
) -> Model:
    """Save a scikit-learn estimator (or pipeline) to the new directory *path*
    (*serialization_format*: see :func:`resolve_serialization_format`)."""
    from mltrail.models._env import early_probe

    serialization_format = resolve_serialization_format(serialization_format)
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    extras = copy_extra_files(local, extra_files)
    with early_probe(probe_modules(serialization_format), pip_requirements, conda_env) as started:
        return _save(
            sk_model,
            local,
            model,
            code,
            started,
            serialization_format=serialization_format,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
            pyfunc_predict_fn=pyfunc_predict_fn,
            metadata=metadata,
            skops_trusted_types=skops_trusted_types,
            extras=extras,
        )


def probe_modules(fmt: str, *libraries: str) -> list[str]:
    """What the requirements probe imports early for an estimator saved as *fmt* (and loaded
    with *libraries* too, such as lightgbm), so that it does while the model is written."""
    if fmt != SERIALIZATION_FORMAT_SKOPS:
        return ["numpy", "pandas", "sklearn", *libraries, "mltrail.sklearn"]
    # scipy.special (which scikit-learn imports anyway) goes before pandas and scikit-learn:
    # skops looks each of its ufuncs up in sys.modules, in import order, when it is imported.
    return [
        "numpy",
        "scipy.special",
        "pandas",
        "sklearn",
        *libraries,
        "mltrail.sklearn",
        "skops.io",
    ]


def _save(
    sk_model: Any,
    local: str,
    model: Model,
    code: str | None,
    started: StartedProbe | None,
    *,
    serialization_format: str,
    signature: ModelSignature | bool | None,
    input_example: Any,
    pip_requirements: str | Sequence[str] | None,
    extra_pip_requirements: str | Sequence[str] | None,
    conda_env: Any,
    pyfunc_predict_fn: str,
    metadata: dict[str, Any] | None,
    skops_trusted_types: Sequence[str] | None,
    extras: dict[str, Any],
) -> Model:
    import sklearn

    file_name, trusted, requirements = dump_estimator(
        sk_model, local, serialization_format, skops_trusted_types
    )
    predict = None
    if hasattr(sk_model, pyfunc_predict_fn):
        add_to_model(
            model,
            "mlflow.sklearn",
            model_path=file_name,
            code=code,
            predict_fn=pyfunc_predict_fn,
        )
        predict = getattr(sk_model, pyfunc_predict_fn)
    model.add_flavor(
        FLAVOR_NAME,
        pickled_model=file_name,
        sklearn_version=sklearn.__version__,
        serialization_format=serialization_format,
        code=code,
        skops_trusted_types=trusted,
        **extras,
    )
    return finish_save(
        local,
        model,
        predict=predict,
        signature=signature,
        input_example=input_example,
        default_requirements=requirements,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        metadata=metadata,
        started_probe=started,
    )


def dump_estimator(
    sk_model: Any,
    local: str,
    serialization_format: str,
    skops_trusted_types: Sequence[str] | None = None,
) -> tuple[str, list[str] | None, list[str]]:
    """Write *sk_model* into *local*: its file name, skops trusted types and requirements."""
    if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
        raise InvalidArgument(
            f"Invalid serialization_format {serialization_format!r}: expected one of "
            f"{list(SUPPORTED_SERIALIZATION_FORMATS)}"
        )
    if serialization_format == SERIALIZATION_FORMAT_SKOPS:
        skops = skops_io()
        file = os.path.join(local, _SKOPS_FILE)
        skops.dump(sk_model, file)
        found = skops.get_untrusted_types(file=file)
        trusted = sorted(set(found) | set(skops_trusted_types or [])) or None
        return _SKOPS_FILE, trusted, get_default_pip_requirements(include_skops=True)
    requirements = get_default_pip_requirements(
        include_cloudpickle=serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE
    )
    with open(os.path.join(local, _PICKLE_FILE), "wb") as f:
        if serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE:
            import cloudpickle

            cloudpickle.dump(sk_model, f)
        else:
            import pickle

            pickle.dump(sk_model, f, protocol=pickle.DEFAULT_PROTOCOL)
    return _PICKLE_FILE, None, requirements


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    serialization_format: str | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    name: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a scikit-learn model as MLflow 3 does: a logged model (``models:/m-...``), an output
    of the active run (or *run_id*) when there is one; the other arguments are
    :func:`save_model`'s."""
    arguments = dict(locals())
    # A bad value fails before anything is logged, and the fallback's warning is said once.
    arguments["serialization_format"] = resolve_serialization_format(serialization_format)
    return log_flavor_model(save_model, arguments)


def load_estimator(file: str, conf: dict[str, Any], extra_trusted: Sequence[str] | None) -> Any:
    """The estimator in *file*, read per the flavor entry *conf* (its serialization_format)."""
    fmt = conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE)
    if fmt not in SUPPORTED_SERIALIZATION_FORMATS:
        raise InvalidArgument(
            f"Invalid sklearn flavor: unknown serialization_format {fmt!r} (expected one of "
            f"{list(SUPPORTED_SERIALIZATION_FORMATS)})"
        )
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        skops = skops_io()
        found = skops.get_untrusted_types(file=file)
        allowed = set(extra_trusted or [])
        declared = set(conf.get("skops_trusted_types") or [])
        refused = []
        for type_name in found:
            if _is_standard(type_name) or type_name in allowed:
                continue
            if type_name in declared and pickle_allowed():
                continue
            refused.append(type_name)
        if refused:
            raise PermissionDenied(
                f"Refusing to load {file!r}: it holds types that are not standard "
                f"scikit-learn, numpy or scipy types and can run code when rebuilt: {refused}. "
                "Pass them in skops_trusted_types if you trust the model's source."
            )

        estimator = skops.load(file, trusted=list(found))
        check_index_bounds(estimator, file)
        return estimator
    check_pickle_allowed(f"the scikit-learn model {file!r} ({fmt})")
    require("sklearn")
    with open(file, "rb") as f:
        if fmt == SERIALIZATION_FORMAT_CLOUDPICKLE:
            import cloudpickle

            return cloudpickle.load(f)
        import pickle

        return pickle.load(f)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
) -> Any:
    """The scikit-learn estimator saved at *model_uri*."""
    local = local_model(model_uri, dst_path)
    conf = load_flavor_conf(local, FLAVOR_NAME)
    file = flavor_file(local, conf.get("pickled_model"), "sklearn pickled_model")
    return load_estimator(file, conf, skops_trusted_types)


class _SklearnPyfunc:
    """The python_function implementation of a scikit-learn model."""

    def __init__(self, sk_model: Any, predict_fn: str) -> None:
        self.sk_model = sk_model
        method = getattr(sk_model, predict_fn, None)
        if not callable(method):
            raise InvalidArgument(
                f"The scikit-learn model has no method {predict_fn!r} (the MLmodel predict_fn)"
            )
        self._method = method

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._method(data)

    def get_raw_model(self) -> Any:
        return self.sk_model


def _load_pyfunc(path: str) -> _SklearnPyfunc:
    """Loader of ``loader_module: mlflow.sklearn`` (a model directory or its model file)."""
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    conf = load_flavor_conf(model_dir, FLAVOR_NAME)
    pyfunc_conf = load_flavor_conf(model_dir, "python_function")
    if os.path.isfile(path):
        file = path
    else:
        relative = pyfunc_conf.get("model_path") or conf.get("pickled_model")
        file = flavor_file(model_dir, relative, "sklearn model_path")
    predict_fn = str(pyfunc_conf.get("predict_fn") or "predict")
    return _SklearnPyfunc(load_estimator(file, conf, None), predict_fn)
