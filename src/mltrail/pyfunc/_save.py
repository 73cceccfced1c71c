"""``pyfunc.save_model`` and ``pyfunc.log_model``: custom models in MLflow's format.

Two ways, as in MLflow: a ``python_model`` (a :class:`PythonModel` instance, or a plain
function of the input) with optional ``artifacts`` and ``code_paths``; or a ``loader_module``
with a ``data_path`` it knows how to load.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, MltrailError, NotImplementedYet
from mltrail.models._code_model import load_code_model, read_model_config
from mltrail.models._log import log_model as _log_model
from mltrail.models._model import MLMODEL_FILE_NAME, Model, ModelInfo
from mltrail.models._save import copy_code_paths, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.models._uri import download_model, is_local_uri
from mltrail.models._uv import (
    copy_uv_project_files,
    export_uv_requirements,
    uv_source_dir,
    with_locked,
)
from mltrail.pyfunc._code_paths import infer_and_copy_code_paths
from mltrail.pyfunc._load import FLAVOR_NAME, add_to_model
from mltrail.pyfunc._python_model import (
    PYTHON_MODEL_FILE,
    FunctionPythonModel,
    PythonModel,
    PythonModelContext,
    PythonModelWrapper,
)

__all__ = ["log_model", "save_model"]

ARTIFACTS_DIR = "artifacts"


def _copy_artifacts(path: str, artifacts: dict[str, str]) -> dict[str, dict[str, str]]:
    """Copy each artifact into ``<path>/artifacts``; the ``artifacts`` flavor entry."""
    if not isinstance(artifacts, dict):
        raise InvalidArgument("Invalid artifacts: expected a dict of name -> URI or path")
    target = os.path.join(path, ARTIFACTS_DIR)
    os.makedirs(target, exist_ok=True)
    entries: dict[str, dict[str, str]] = {}
    for name, uri in artifacts.items():
        if not isinstance(name, str) or not name or not isinstance(uri, (str, os.PathLike)):
            raise InvalidArgument(f"Invalid artifact {name!r}: expected a name and a URI")
        text = os.fspath(uri)
        base = os.path.basename(text.rstrip("/")) or name
        dest = os.path.join(target, base)
        if os.path.exists(dest):
            raise InvalidArgument(f"Invalid artifacts: two artifacts are named {base!r}")
        if is_local_uri(text):
            source = download_model(text)  # a checked local path (file: URIs too)
            if os.path.isdir(source):
                shutil.copytree(source, dest)
            else:
                shutil.copy2(source, dest)
        else:
            downloaded = download_model(text, os.path.join(target, f".{base}.tmp"))
            os.replace(downloaded, dest)
            shutil.rmtree(os.path.join(target, f".{base}.tmp"), ignore_errors=True)
        entries[name] = {"path": f"{ARTIFACTS_DIR}/{base}", "uri": text}
    return entries


def get_default_pip_requirements() -> list[str]:
    """The pip requirements a custom (``PythonModel``) model is saved with by default."""
    from mltrail.models._env import pinned

    return [pinned("mltrail"), pinned("cloudpickle")]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def _streamable(python_model: Any, streamable: bool | None) -> bool:
    """The flavor's ``streamable`` entry: as given, else whether the model defines
    ``predict_stream`` (MLflow's test: its class overrides the base class's)."""
    if streamable is not None:
        if not isinstance(streamable, bool):
            raise InvalidArgument(f"Invalid streamable {streamable!r}: expected True or False")
        return streamable
    return callable(getattr(type(python_model), "predict_stream", None))


def _declarations(model: Model, resources: Any, auth_policy: Any) -> None:
    """MLflow's model-serving declarations, written to ``MLmodel`` as given (as Model.log)."""
    if resources is not None and auth_policy is not None:
        raise InvalidArgument("Only one of resources and auth_policy can be given")
    for key, value in (("resources", resources), ("auth_policy", auth_policy)):
        if value is not None:
            model.extra[key] = value


def save_model(
    path: str | os.PathLike[str],
    loader_module: str | None = None,
    data_path: str | os.PathLike[str] | None = None,
    code_paths: Sequence[str] | None = None,
    infer_code_paths: bool = False,
    conda_env: Any = None,
    mlflow_model: Model | None = None,
    python_model: PythonModel | Callable[..., Any] | str | os.PathLike[str] | None = None,
    artifacts: dict[str, str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: str | os.PathLike[str] | dict[str, Any] | None = None,
    streamable: bool | None = None,
    resources: Any = None,
    auth_policy: Any = None,
    uv_project_path: str | os.PathLike[str] | None = None,
    uv_groups: Sequence[str] | None = None,
    uv_extras: Sequence[str] | None = None,
    **kwargs: Any,
) -> Model:
    """Save a custom model to the new directory *path*; returns its ``Model``.

    *python_model* is a ``PythonModel``, a function, or the path of a models-from-code file
    (a Python file that calls ``mltrail.models.set_model``), copied into the model; its
    ``ModelConfig`` reads *model_config* (a dict or the path of a YAML file) when it loads.

    *infer_code_paths* copies the project modules the model imports when it loads into
    ``code/`` (instead of *code_paths*); *streamable* is the flavor's ``streamable`` entry
    (None: whether the model defines ``predict_stream``); *uv_project_path* (else the current
    directory, when it is a uv project) gives the requirements by ``uv export`` of its lock
    file (with *uv_groups* and *uv_extras*) and its ``uv.lock``/``pyproject.toml`` are copied.
    """
    import cloudpickle

    from mltrail.models._env import early_probe, pinned

    if (python_model is None) == (loader_module is None):
        raise InvalidArgument(
            "Exactly one of python_model and loader_module must be given: a PythonModel (or a "
            "function), or a loader module with a data_path"
        )
    if artifacts and python_model is None:
        raise InvalidArgument("artifacts can only be given with python_model")
    if kwargs:
        raise InvalidArgument(f"Unsupported arguments for pyfunc.save_model: {sorted(kwargs)}")
    if infer_code_paths and code_paths:  # MLflow's message and error code (INTERNAL_ERROR)
        raise MltrailError("If 'infer_code_path' is set to True, 'code_paths' param cannot be set.")
    uv_dir = uv_source_dir(uv_project_path, uv_groups, uv_extras)
    config = read_model_config(model_config)
    code_file = None
    if isinstance(python_model, (str, os.PathLike)):
        code_file = os.path.abspath(os.fspath(python_model))
        if not code_file.endswith(".py") or not os.path.isfile(code_file):
            raise InvalidArgument(
                f"Invalid python_model {os.fspath(python_model)!r}: a models-from-code model is "
                "the path of an existing .py file"
            )
        python_model = load_code_model(code_file, config)
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    _declarations(model, resources, auth_policy)
    code = copy_code_paths(local, code_paths)
    # A python model loads by unpickling: what it imports is recorded whatever was imported.
    prewarm = ["cloudpickle", "mltrail.pyfunc._python_model"] if python_model is not None else None
    with early_probe(prewarm, pip_requirements, conda_env) as started:
        predict: Callable[[Any], Any] | None = None
        if python_model is not None:
            if not isinstance(python_model, PythonModel):
                if not callable(python_model):
                    raise InvalidArgument(
                        f"Invalid python_model of type {type(python_model).__name__}: expected a "
                        "PythonModel or a function"
                    )
                python_model = FunctionPythonModel(python_model)
            entries = _copy_artifacts(local, artifacts) if artifacts else {}
            conf: dict[str, Any] = {"cloudpickle_version": cloudpickle.__version__}
            loader = "mlflow.pyfunc.model"
            if code_file is not None:  # MLflow's models-from-code entry; nothing is pickled
                shutil.copy2(code_file, os.path.join(local, os.path.basename(code_file)))
                conf["model_code_path"] = os.path.basename(code_file)
                loader = "mlflow.pyfunc.loaders.code_model"
            else:
                with open(os.path.join(local, PYTHON_MODEL_FILE), "wb") as f:
                    cloudpickle.dump(python_model, f)
                conf["python_model"] = PYTHON_MODEL_FILE
            if entries:
                conf["artifacts"] = entries
            conf["streamable"] = _streamable(python_model, streamable)
            add_to_model(model, loader, code=code, model_config=config, **conf)
            if input_example is not None and signature is None:
                context = PythonModelContext(
                    artifacts={
                        n: os.path.join(local, *e["path"].split("/")) for n, e in entries.items()
                    },
                    model_config=dict(config),
                )
                python_model.load_context(context)
                predict = PythonModelWrapper(python_model, context).predict
            requirements = get_default_pip_requirements()
        else:
            data = None
            if data_path is not None:
                source = os.path.abspath(os.fspath(data_path))
                if not os.path.exists(source):
                    raise InvalidArgument(f"Invalid data_path {data_path!r}: no such file")
                data = os.path.basename(source.rstrip(os.sep))
                if os.path.isdir(source):
                    shutil.copytree(source, os.path.join(local, data))
                else:
                    shutil.copy2(source, os.path.join(local, data))
            add_to_model(
                model,
                str(loader_module),
                data=data,
                code=code,
                model_config=config,
                streamable=bool(streamable),
            )
            requirements = []
        if infer_code_paths:  # the model loads from its MLmodel, written first
            model.save(os.path.join(local, MLMODEL_FILE_NAME))
            model.flavors[FLAVOR_NAME]["code"] = infer_and_copy_code_paths(local)
        infer = True
        uv_requirements = None
        if uv_dir is not None and conda_env is None and pip_requirements is None:
            uv_requirements = export_uv_requirements(uv_dir, uv_groups, uv_extras)
        if uv_requirements is not None:
            defaults = [pinned("cloudpickle")] if python_model is not None else []
            requirements = [pinned("mltrail"), *with_locked(uv_requirements, defaults)]
            infer = False
        saved = finish_save(
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
            infer_requirements=infer,
            started_probe=started,
        )
        if uv_dir is not None:
            copy_uv_project_files(local, uv_dir)
        return saved


def log_model(
    artifact_path: str | None = None,
    loader_module: str | None = None,
    data_path: str | os.PathLike[str] | None = None,
    code_paths: Sequence[str] | None = None,
    infer_code_paths: bool = False,
    conda_env: Any = None,
    python_model: PythonModel | Callable[..., Any] | str | os.PathLike[str] | None = None,
    artifacts: dict[str, str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: str | os.PathLike[str] | dict[str, Any] | None = None,
    streamable: bool | None = None,
    resources: Any = None,
    auth_policy: Any = None,
    uv_project_path: str | os.PathLike[str] | None = None,
    uv_groups: Sequence[str] | None = None,
    uv_extras: Sequence[str] | None = None,
    prompts: Sequence[Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a custom model to the active run (started if none); returns its ``ModelInfo``.

    The arguments are :func:`save_model`'s and MLflow 3's logging ones; *prompts* (MLflow's
    GenAI prompt registry) are refused, as by ``Model.log``.
    """
    if prompts is not None:
        raise NotImplementedYet(
            "pyfunc.log_model's 'prompts' argument links GenAI prompts, which mltrail does not have"
        )

    def save(local: str, model: Model) -> Model:
        return save_model(
            local,
            loader_module=loader_module,
            data_path=data_path,
            code_paths=code_paths,
            infer_code_paths=infer_code_paths,
            conda_env=conda_env,
            mlflow_model=model,
            python_model=python_model,
            artifacts=artifacts,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            model_config=model_config,
            streamable=streamable,
            resources=resources,
            auth_policy=auth_policy,
            uv_project_path=uv_project_path,
            uv_groups=uv_groups,
            uv_extras=uv_extras,
        )

    return _log_model(
        save,
        artifact_path=artifact_path,
        name=name,
        registered_model_name=registered_model_name,
        run_id=run_id,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        model_id=model_id,
        await_registration_for=await_registration_for,
        model_config=model_config,
    )
