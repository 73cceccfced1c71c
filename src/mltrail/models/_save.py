"""What every flavor's ``save_model`` shares: the directory, example, signature, environment.

A flavor writes its own files, describes them in a :class:`Model`, then calls
:func:`finish_save`, which saves the input example (checking it against the signature, or
inferring the signature from it and the model's output), writes ``MLmodel`` and the
environment files, and records the model's size.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import AlreadyExists, InvalidArgument, MltrailError
from mltrail.models._enforce import enforce_schema
from mltrail.models._example import split_example, write_input_example
from mltrail.models._infer import infer_param_schema, infer_schema
from mltrail.models._model import MLMODEL_FILE_NAME, Model
from mltrail.models._signature import ModelSignature
from mltrail.models._uri import download_model

if TYPE_CHECKING:
    from mltrail.models._env import StartedProbe

__all__ = [
    "EXTRA_FILES_DIR",
    "copy_code_paths",
    "copy_extra_files",
    "finish_save",
    "prepare_model_dir",
]

_log = logging.getLogger(__name__)

CODE_DIR = "code"
#: Where ``extra_files=`` go in a model directory (MLflow's ``extra_files/``).
EXTRA_FILES_DIR = "extra_files"


def prepare_model_dir(path: str | os.PathLike[str]) -> str:
    """Create the (new or empty) model directory *path*; AlreadyExists when it has files."""
    text = os.path.abspath(os.fspath(path))
    if os.path.exists(text) and (not os.path.isdir(text) or os.listdir(text)):
        raise AlreadyExists(f"Path '{text}' already exists and is not empty")
    os.makedirs(text, exist_ok=True)
    return text


def copy_code_paths(path: str, code_paths: Sequence[str] | None) -> str | None:
    """Copy files and folders the model's code needs into ``<path>/code``; its name or None."""
    if not code_paths:
        return None
    if isinstance(code_paths, (str, os.PathLike)):
        raise InvalidArgument("Invalid code_paths: expected a list of paths, got one string")
    target = os.path.join(path, CODE_DIR)
    os.makedirs(target, exist_ok=True)
    for code_path in code_paths:
        source = os.path.abspath(os.fspath(code_path))
        if not os.path.exists(source):
            raise InvalidArgument(f"Invalid code_paths entry {code_path!r}: no such file")
        dest = os.path.join(target, os.path.basename(source.rstrip(os.sep)))
        if os.path.isdir(source):
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest)
    return CODE_DIR


def copy_extra_files(path: str, extra_files: Sequence[str] | None) -> dict[str, Any]:
    """Copy *extra_files* (local paths or artifact URIs) into ``<path>/extra_files``: the
    flavor entry's ``extra_files`` item (``{"extra_files": [{"path": ...}]}``, or {})."""
    if not extra_files:
        return {}
    if not isinstance(extra_files, (list, tuple)):
        raise InvalidArgument("Invalid extra_files: expected a list of paths or URIs")
    target = os.path.join(path, EXTRA_FILES_DIR)
    entries = []
    for uri in extra_files:
        if not isinstance(uri, (str, os.PathLike)) or not os.fspath(uri):
            raise InvalidArgument(f"Invalid extra_files entry {uri!r}: expected a path or URI")
        text = os.fspath(uri)
        download_model(text, target)
        entries.append({"path": f"{EXTRA_FILES_DIR}/{os.path.basename(text.rstrip('/'))}"})
    return {EXTRA_FILES_DIR: entries}


def _dir_size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def finish_save(
    path: str,
    model: Model,
    *,
    predict: Callable[[Any], Any] | None,
    signature: ModelSignature | bool | None,
    input_example: Any,
    default_requirements: Sequence[str],
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    conda_env: Any = None,
    metadata: dict[str, Any] | None = None,
    infer_requirements: bool = True,
    started_probe: StartedProbe | None = None,
) -> Model:
    """Complete a model directory whose flavor files are written; returns *model*."""
    from mltrail.models._env import write_environment

    if signature is not None and not isinstance(signature, (ModelSignature, bool)):
        raise InvalidArgument(
            f"Invalid signature of type {type(signature).__name__}: expected a ModelSignature "
            "(see mltrail.models.infer_signature)"
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidArgument("Invalid metadata: expected a dict")
    if input_example is not None:
        data = write_input_example(model, path, input_example)
        _, params = split_example(input_example)
        if isinstance(signature, ModelSignature):
            if signature.inputs is not None:
                try:
                    enforce_schema(data, signature.inputs)
                except InvalidArgument as exc:
                    raise InvalidArgument(
                        f"The input example does not match the model signature: {exc.message}"
                    ) from None
        elif signature is None and predict is not None:
            signature = _signature_from_example(predict, data, params)
    model.signature = signature if isinstance(signature, ModelSignature) else None
    if metadata is not None:
        model.metadata = metadata
    mlmodel = os.path.join(path, MLMODEL_FILE_NAME)
    model.save(mlmodel)
    env = write_environment(
        path,
        default_requirements,
        infer=infer_requirements,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        started=started_probe,
    )
    if "python_function" in model.flavors:
        model.flavors["python_function"]["env"] = env
    model.model_size_bytes = _dir_size(path)
    model.save(mlmodel)
    return model


def _signature_from_example(
    predict: Callable[[Any], Any], data: Any, params: dict[str, Any] | None
) -> ModelSignature | None:
    inputs = infer_schema(data)
    try:
        prediction = predict(data)
        # With column inputs a 1-d array holds one prediction per row: a column, as in MLflow.
        if not inputs.is_tensor_spec() and getattr(prediction, "ndim", None) == 1:
            import pandas as pd

            prediction = pd.Series(prediction)
        outputs = infer_schema(prediction)
    except (MltrailError, ValueError, TypeError, AttributeError, KeyError) as exc:
        _log.warning("Could not infer the model's output schema from its input example: %s", exc)
        outputs = None
    return ModelSignature(inputs, outputs, infer_param_schema(params) if params else None)
