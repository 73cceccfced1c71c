"""MLflow's ``mlflow.models`` functions that score or package a model: ``predict``,
``validate_serving_input`` and ``build_docker`` (re-exported by :mod:`mltrail.models`).

They live here, beside the scoring server whose input rules and Docker build context they
share; ``mltrail models predict`` and ``mltrail models build-docker`` call them too.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mltrail._envs import EnvironmentManager, docker_engine_problem
from mltrail._exceptions import InvalidArgument
from mltrail.models._info import convert_input_example_to_serving_input
from mltrail.serving._backend import ENV_MANAGERS, PyFuncBackend, run_in_env
from mltrail.serving._parsing import parse_json_input
from mltrail.serving._predict import INPUT_TYPES
from mltrail.serving._server import load_model

__all__ = [
    "build_docker",
    "docker_engine_problem",
    "env_python",
    "predict",
    "run_in_env",
    "validate_serving_input",
]


def validate_serving_input(model_uri: str, serving_input: str | dict[str, Any]) -> Any:
    """Check that *serving_input* (the JSON a scoring server takes, as text or a dict) is
    accepted by the model *model_uri* names: it is parsed as the server parses it and the model
    predicts on it, in this process.  Returns the predictions; a bad input raises the error
    the server would answer with (400)."""
    if not isinstance(serving_input, (str, bytes, dict)):
        raise InvalidArgument(
            "Invalid serving_input: expected JSON text or a dict, got "
            f"{type(serving_input).__name__}"
        )
    model = load_model(model_uri)
    schema = model.metadata.get_input_schema()
    parsed = parse_json_input(serving_input, schema, max_columns=None)
    if parsed.params:
        return model.predict(parsed.data, params=parsed.params)
    return model.predict(parsed.data)


def env_python(env_manager: str, env_root: str | None, model_dir: str) -> str:
    """The interpreter of the model's environment built by *env_manager* (cached)."""
    return str(EnvironmentManager(env_manager, env_root).prepare(model_dir))


def _input_file(input_data: Any, content_type: str, folder: str) -> str:
    """*input_data* written as a file of *content_type* (json: a scoring request)."""
    path = os.path.join(folder, f"input.{content_type}")
    if content_type == "json":
        if isinstance(input_data, (str, bytes)):
            text = input_data.decode() if isinstance(input_data, bytes) else input_data
        elif isinstance(input_data, dict) and any(
            k in input_data for k in ("dataframe_split", "dataframe_records", "instances", "inputs")
        ):
            text = json.dumps(input_data)
        else:
            text = convert_input_example_to_serving_input(input_data) or ""
        Path(path).write_text(text, encoding="utf-8")
    elif content_type == "csv":
        if isinstance(input_data, str):
            Path(path).write_text(input_data, encoding="utf-8")
        elif hasattr(input_data, "to_csv"):
            input_data.to_csv(path, index=False)
        else:
            raise InvalidArgument(
                "Invalid input_data for content_type='csv': expected a pandas DataFrame or CSV text"
            )
    else:
        raise InvalidArgument("Invalid input_data: give a parquet file as input_path")
    return path


def _check_predict_arguments(
    input_data: Any,
    input_path: str | None,
    content_type: str,
    env_manager: str,
) -> None:
    if input_data is not None and input_path is not None:
        raise InvalidArgument("Invalid predict arguments: give input_data or input_path, not both")
    if content_type not in INPUT_TYPES:
        raise InvalidArgument(
            f"Invalid content_type {content_type!r}: expected one of {', '.join(INPUT_TYPES)}"
        )
    if env_manager not in ENV_MANAGERS:
        raise InvalidArgument(
            f"Invalid env_manager {env_manager!r}: expected one of {', '.join(ENV_MANAGERS)}"
        )


def predict(
    model_uri: str,
    input_data: Any = None,
    input_path: str | None = None,
    content_type: str = "json",
    output_path: str | None = None,
    env_manager: str = "virtualenv",
    install_mlflow: bool = False,
    pip_requirements_override: Sequence[str] | None = None,
    extra_envs: Mapping[str, str] | None = None,
) -> None:
    """Score *input_data* (a DataFrame, array, dict, list or a JSON scoring request) or the
    file *input_path* (standard input when both are None) with the model, in the model's own
    environment (``virtualenv``, ``uv``, ``conda``) or in this process (``local``), as
    ``mltrail models predict`` does; predictions go to *output_path* or standard output as
    ``{"predictions": ...}``.  *extra_envs* are environment variables set while predicting;
    *pip_requirements_override* (``["package==version", ...]``) replaces the model's
    requirements of the same packages in the environment built for it (not with ``local``).
    mltrail is always installed into the environment it builds (*install_mlflow* changes
    nothing)."""
    _check_predict_arguments(input_data, input_path, content_type, env_manager)
    backend = PyFuncBackend({}, env_manager)
    with tempfile.TemporaryDirectory(prefix="mltrail-predict-") as scratch:
        if input_data is not None:
            input_path = _input_file(input_data, content_type, scratch)
        backend.predict(
            model_uri,
            input_path,
            output_path,
            content_type,
            pip_requirements_override=pip_requirements_override,
            extra_envs=extra_envs,
        )


def build_docker(
    model_uri: str | None = None,
    name: str = "mlflow-pyfunc",
    env_manager: str = "virtualenv",
    mlflow_home: str | None = None,
    install_java: bool = False,
    install_mlflow: bool = False,
    base_image: str | None = None,
) -> None:
    """Build a Docker image named *name* that serves the model *model_uri* names on port 8080.

    The build context (``mltrail models generate-dockerfile``'s) is written to a new private
    folder first; when no Docker engine is there, :class:`TemporarilyUnavailable` says so and
    names that folder, which ``docker build -t NAME FOLDER`` builds on another machine.  The
    image installs the model's pip requirements (whatever *env_manager*) and this mltrail.
    mltrail builds images of one model: *model_uri* is required, and *mlflow_home* and
    *install_java* are not supported."""
    if not model_uri:
        raise InvalidArgument(
            "Invalid model_uri: mltrail builds the image of one model (e.g. runs:/<run_id>/model)"
        )
    if env_manager not in ENV_MANAGERS:
        raise InvalidArgument(
            f"Invalid env_manager {env_manager!r}: expected one of {', '.join(ENV_MANAGERS)}"
        )
    PyFuncBackend({}, env_manager).build_image(
        model_uri,
        name,
        install_java=install_java,
        install_mlflow=install_mlflow,
        mlflow_home=mlflow_home,
        base_image=base_image,
    )
