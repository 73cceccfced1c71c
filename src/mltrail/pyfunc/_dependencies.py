"""Where a model's dependencies are written down: ``get_model_dependencies``."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import validate_artifact_path
from mltrail.models._model import Model
from mltrail.models._uri import download_model

__all__ = ["EnvType", "get_model_dependencies"]

_log = logging.getLogger(__name__)
_FORMATS = ("pip", "conda")


class EnvType:
    """The environment kinds a model's ``python_function`` flavor records (``env`` keys)."""

    CONDA = "conda"
    VIRTUALENV = "virtualenv"


def _env_file(local: str, meta: Model, kind: str, default: str) -> str:
    conf = meta.flavors.get("python_function") or {}
    env = conf.get("env")
    name: Any = env.get(kind) if isinstance(env, dict) else None
    if kind == EnvType.CONDA and isinstance(env, str):
        name = env  # MLflow 1.x wrote the conda file name as "env" itself
    return os.path.join(local, *validate_artifact_path(str(name or default)).split("/"))


def get_model_dependencies(model_uri: str, format: str = "pip") -> str:
    """The local path of the model's ``requirements.txt`` (``format="pip"``) or ``conda.yaml``
    (``format="conda"``).  The whole model is downloaded.  A model saved without a
    ``requirements.txt`` gets one written from the pip section of its ``conda.yaml`` (its conda
    packages are left out, with a warning)."""
    if format not in _FORMATS:
        raise InvalidArgument(f"Invalid format {format!r}: expected 'pip' or 'conda'")
    local = download_model(model_uri)
    meta = Model.load(local)
    conda_file = _env_file(local, meta, EnvType.CONDA, "conda.yaml")
    if format == "conda":
        return conda_file
    pip_file = os.path.join(local, "requirements.txt")
    if not os.path.isfile(pip_file):
        pip_file = _requirements_from_conda(conda_file)
    _log.info(
        "To install the dependencies the model was saved with, run: 'pip install -r %s'",
        pip_file,
    )
    return pip_file


def _requirements_from_conda(conda_file: str) -> str:
    import yaml

    with open(conda_file, encoding="utf-8") as f:
        env = yaml.safe_load(f) or {}
    pip: list[str] = []
    others: list[str] = []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            pip.extend(str(p) for p in dep["pip"])
        elif isinstance(dep, str) and not dep.startswith(("python=", "python>", "pip")):
            others.append(dep)
    if others:
        _log.warning(
            "These conda dependencies are not in the pip requirements: %s", ", ".join(others)
        )
    folder = tempfile.mkdtemp(prefix="mltrail-deps-")
    path = os.path.join(folder, "requirements.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(f"{line}\n" for line in pip))
    return path
