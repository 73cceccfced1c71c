"""``add_libraries_to_model``: MLflow's "wheeled model", a registered model re-logged with
wheels of its requirements (``mltrail.models.add_libraries_to_model``).

The version's files are downloaded, ``pip wheel`` builds (or fetches) a wheel of every line of
its ``requirements.txt`` into ``wheels/``, ``requirements.txt`` is kept as
``original_requirements.txt`` and rewritten to name the wheels (``wheels/<file>.whl``), so is
the ``pip`` list of ``conda.yaml``, and ``MLmodel`` gains ``wheels: {platform: ...}`` (the
wheels suit that platform only) and the new logged model's ids, its ``artifact_path`` ending
in ``_wheels``.  The result is logged as a new logged model of the version's run (of the active
run when there is one; a new run when the version has none) and registered as a new version of
the same registered model, or of *registered_model_name*.  The layout is MLflow's, so either
library loads and installs the other's wheeled models.

``MLTRAIL_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS`` (or MLflow's ``MLFLOW_...``, default
``--only-binary=:all:``) gives ``pip wheel``'s options, from MLflow's allowed set; pip's own
variables (``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, ...) apply as usual.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from typing import Any

from mltrail._exceptions import BadRequest, InvalidArgument, MltrailError
from mltrail._run_names import generate_run_name
from mltrail.models._model import MLMODEL_FILE_NAME, Model, ModelInfo, log_saved_model
from mltrail.registry._uris import parse_models_uri, resolve_model_version
from mltrail.tracking._artifact_helpers import download_artifacts
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent import active_run, start_run

__all__ = ["add_libraries_to_model"]

WHEELS_DIR = "wheels"
ORIGINAL_REQUIREMENTS = "original_requirements.txt"
REQUIREMENTS = "requirements.txt"
REGISTERED_MODEL_META = "registered_model_meta"
_DEFAULT_OPTIONS = "--only-binary=:all:"
_OPTIONS_VARIABLES = (
    "MLTRAIL_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS",
    "MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS",
)
_ALLOWED_OPTIONS = frozenset(
    {
        "--only-binary=:all:",
        "--only-binary=:none:",
        "--no-binary=:all:",
        "--no-binary=:none:",
        "--prefer-binary",
        "--no-build-isolation",
        "--use-pep517",
        "--check-build-dependencies",
        "--ignore-requires-python",
        "--no-deps",
        "--no-verify",
        "--pre",
        "--require-hashes",
        "--no-clean",
    }
)


def _registered_version(model_uri: str) -> tuple[str, int, Any]:
    """(name, version number, ModelVersion) of a registered-model URI; MLflow's error (code
    INTERNAL_ERROR) for any other URI."""
    parsed = parse_models_uri(model_uri) if isinstance(model_uri, str) else None
    if parsed is None or parsed.name is None or parsed.path:
        raise MltrailError(
            f"Not a proper models:/ URI: {model_uri}. Models URIs must be of the form "
            "'models:/model_name/suffix' or 'models:/model_name@alias' where suffix is a model "
            "version, stage, or the string 'latest' and where alias is a registered model alias"
        )
    client = MlflowClient()
    name, version = resolve_model_version(parsed, client)
    return name, version, client.get_model_version(name, version)


def _pip_wheel_options() -> list[str]:
    variable, text = _OPTIONS_VARIABLES[0], _DEFAULT_OPTIONS
    for name in _OPTIONS_VARIABLES:
        if name in os.environ:
            variable, text = name, os.environ[name]
            break
    options = text.split()
    unknown = sorted(set(options) - _ALLOWED_OPTIONS)
    if unknown:
        raise InvalidArgument(
            f"Invalid pip wheel option passed to `{variable}`: {unknown}. Allowed options: "
            f"{', '.join(sorted(_ALLOWED_OPTIONS))}. Set other pip options as pip's environment "
            "variables (PIP_INDEX_URL, PIP_FIND_LINKS, ...)"
        )
    return options


def _download_wheels(requirements: str, wheels_dir: str) -> None:
    os.makedirs(wheels_dir, exist_ok=True)
    command = [sys.executable, "-m", "pip", "wheel", *_pip_wheel_options()]
    command += ["--wheel-dir", wheels_dir, "-r", requirements]
    command += ["--no-cache-dir", "--progress-bar=off", "--disable-pip-version-check"]
    done = subprocess.run(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    if done.returncode != 0:
        raise MltrailError(
            f"An error occurred while downloading the dependency wheels: {done.stdout}"
        )


def _conda_file(model: Model) -> str | None:
    env = model.flavors.get("python_function", {}).get("env")
    if isinstance(env, dict):
        value = env.get("conda")
        return str(value) if value else None
    return str(env) if env else None


def _pip_list(conda: dict[str, Any]) -> list[Any]:
    for dep in conda.get("dependencies") or []:
        if isinstance(dep, dict) and "pip" in dep:
            return list(dep["pip"])
    return []


def _with_pip_list(conda: dict[str, Any], pip: list[str]) -> dict[str, Any]:
    deps = [
        {"pip": pip} if isinstance(d, dict) and "pip" in d else d
        for d in conda.get("dependencies") or []
    ]
    if not any(isinstance(d, dict) and "pip" in d for d in deps):
        deps.append({"pip": pip})
    return {**conda, "dependencies": deps}


class _WheeledModel:
    """Saves the model a registered version URI names, with wheels of its requirements."""

    def __init__(self, model_uri: str, name: str, version: int) -> None:
        self.model_uri = model_uri
        self.name = name
        self.version = version

    def save(self, path: str, new: Model) -> Model:
        import yaml

        os.makedirs(path, exist_ok=True)
        download_artifacts(artifact_uri=self.model_uri, dst_path=path)
        with open(os.path.join(path, REGISTERED_MODEL_META), "w", encoding="utf-8") as f:
            yaml.safe_dump({"model_name": self.name, "model_version": str(self.version)}, f)
        original = Model.load(os.path.join(path, MLMODEL_FILE_NAME))
        if original.extra.get(WHEELS_DIR) is not None:
            raise BadRequest("Model libraries are already added")
        requirements = os.path.join(path, REQUIREMENTS)
        conda_name = _conda_file(original)
        conda_path = os.path.join(path, conda_name) if conda_name else None
        if conda_path is None and not os.path.isfile(requirements):
            raise BadRequest("Cannot add libraries for model with no logged dependencies.")
        conda: dict[str, Any] | None = None
        if conda_path is not None and os.path.isfile(conda_path):
            with open(conda_path, encoding="utf-8") as f:
                conda = yaml.safe_load(f) or {}
        if not os.path.isfile(requirements):
            with open(requirements, "w", encoding="utf-8") as f:
                f.write("\n".join(str(r) for r in _pip_list(conda or {})))
        wheels_dir = os.path.join(path, WHEELS_DIR)
        _download_wheels(requirements, wheels_dir)
        shutil.copy2(requirements, os.path.join(path, ORIGINAL_REQUIREMENTS))
        wheels = [
            f"{WHEELS_DIR}/{name}"
            for name in sorted(os.listdir(wheels_dir))
            if name.endswith(".whl")
        ]
        with open(requirements, "w", encoding="utf-8") as f:
            f.write("".join(f"{wheel}\n" for wheel in wheels))
        if conda is not None and conda_path is not None:
            with open(conda_path, "w", encoding="utf-8") as f:
                yaml.safe_dump(_with_pip_list(conda, wheels), f, default_flow_style=False)
        model = self._metadata(original, new)
        model.save(os.path.join(path, MLMODEL_FILE_NAME))
        return model

    @staticmethod
    def _metadata(original: Model, new: Model) -> Model:
        """The original ``MLmodel`` with what logging set (ids, run, time), as MLflow merges
        them, marked as wheeled for this platform."""
        for field in ("artifact_path", "run_id", "utc_time_created", "model_uuid", "model_id"):
            value = getattr(new, field)
            if value:
                setattr(original, field, value)
        original.extra.update({k: v for k, v in new.extra.items() if v})
        original.artifact_path = f"{original.artifact_path}_{WHEELS_DIR}"
        original.extra[WHEELS_DIR] = {"platform": platform.platform()}
        return original


def _log(model_uri: str, registered_model_name: str | None) -> ModelInfo:
    name, version, _ = _registered_version(model_uri)
    wheeled = _WheeledModel(model_uri, name, version)
    return log_saved_model(
        wheeled.save,
        artifact_path=None,
        name=generate_run_name(),  # MLflow's logged model is named at random too
        registered_model_name=registered_model_name or name,
    )


def add_libraries_to_model(
    model_uri: str, run_id: str | None = None, registered_model_name: str | None = None
) -> ModelInfo:
    """Re-log the registered model version *model_uri* names (``models:/<name>/<version>``,
    a stage, ``latest`` or ``@alias``) with wheels of all its requirements, and register it as
    a new version of the same model (or of *registered_model_name*); returns its ModelInfo.

    It is logged to the active run; with none, to *run_id*, else to the version's source run
    (a new run when the version has none).  The wheels suit this platform only.
    """
    if active_run() is not None:
        return _log(model_uri, registered_model_name)
    if run_id is None:
        run_id = _registered_version(model_uri)[2].run_id
    with start_run(run_id=run_id):
        return _log(model_uri, registered_model_name)
