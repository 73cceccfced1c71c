"""The environment a project's command runs in: local, virtualenv, uv, conda or docker.

As in MLflow, without ``--env-manager`` a project with a ``python_env`` (or none) runs in a
virtualenv, a ``conda_env`` one in conda, and a ``docker_env`` one in its container whatever
the manager; a ``python_env`` project cannot run with conda.  virtualenv and uv build the
environment file's Python version and packages (a ``conda.yaml`` gives its python pin and pip
list) with the environment builder model serving uses, cached by the hash of what it holds
and reused; conda creates the ``conda.yaml`` environment with conda, mamba or micromamba.
``local`` runs in this interpreter: its folder comes first on ``PATH``, so ``python`` is the
interpreter running mltrail.

The command is then run with the environment's ``bin`` folder first on ``PATH`` (and
``VIRTUAL_ENV`` or ``CONDA_PREFIX`` set), which is what activating it does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mltrail._envs import (
    EnvironmentManager,
    PythonEnvironment,
    read_conda_as_python_env,
    read_python_env,
)
from mltrail._exceptions import InvalidArgument
from mltrail.projects._spec import CONDA_ENV, DOCKER_ENV, PYTHON_ENV, Project

__all__ = [
    "ENV_MANAGERS",
    "RunEnvironment",
    "choose_env_manager",
    "prepare_environment",
    "project_environment",
]

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")
DOCKER = "docker"


@dataclass(frozen=True)
class RunEnvironment:
    """How to run a command in an environment: what to put first on PATH, what to set."""

    name: str  # the mlflow.project.env tag: local, virtualenv, uv, conda or docker
    bin_dir: Path | None = None
    variables: Mapping[str, str] = field(default_factory=dict)

    def apply(self, env: dict[str, str]) -> dict[str, str]:
        """*env* with this environment activated."""
        out = dict(env)
        if self.bin_dir is not None:
            out["PATH"] = os.pathsep.join([str(self.bin_dir), out.get("PATH", os.defpath)])
        out.update(self.variables)
        return out


def choose_env_manager(project: Project, env_manager: str | None) -> str:
    """The environment the project runs in (``docker`` for a docker_env project)."""
    if env_manager is not None and env_manager not in ENV_MANAGERS:
        raise InvalidArgument(
            f"Invalid env_manager {env_manager!r}: expected one of {', '.join(ENV_MANAGERS)}"
        )
    if project.env_type == DOCKER_ENV:
        return DOCKER
    if env_manager is None:
        return "conda" if project.env_type == CONDA_ENV else "virtualenv"
    if env_manager == "conda" and project.env_type == PYTHON_ENV:
        raise InvalidArgument(
            "Invalid env_manager 'conda': a python_env project cannot run in conda; use "
            "--env-manager virtualenv, uv or local"
        )
    return env_manager


def project_environment(project: Project) -> PythonEnvironment:
    """What a virtualenv or uv environment for *project* holds."""
    if project.env_file is not None and project.env_type == PYTHON_ENV:
        return read_python_env(project.env_file, "project")
    if project.env_file is not None and project.env_type == CONDA_ENV:
        return read_conda_as_python_env(project.env_file, "project")
    version = ".".join(map(str, sys.version_info[:3]))
    note = "the project declares no environment: this Python's version and mltrail only"
    return PythonEnvironment(version, notes=(note,))


def _local(scratch: Path) -> RunEnvironment:
    """This interpreter first on PATH, as ``python`` (a shim when its folder has none)."""
    folder = Path(sys.executable).parent
    python = folder / "python"
    try:
        same = python.exists() and python.samefile(sys.executable)
    except OSError:
        same = False
    if not same:
        folder = scratch / "bin"
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("python", "python3"):
            shim = folder / name
            shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
            shim.chmod(0o755)
    return RunEnvironment("local", folder)


def _conda_file(project: Project, scratch: Path) -> Path:
    if project.env_type == CONDA_ENV and project.env_file is not None:
        return project.env_file
    version = ".".join(map(str, sys.version_info[:2]))
    synthesized = scratch / "conda.yaml"
    synthesized.write_text(
        f"name: mltrail-project\ndependencies:\n  - python={version}\n  - pip\n",
        encoding="utf-8",
    )
    return synthesized


def prepare_environment(
    project: Project,
    manager: str,
    scratch: Path,
    env_root: str | os.PathLike[str] | None = None,
) -> RunEnvironment:
    """Build (or find in the cache) the environment *manager* names for *project*.

    *scratch* is a folder of this run for files it needs (a ``python`` shim, a conda file).
    """
    if manager == "local":
        return _local(scratch)
    if manager == DOCKER:
        return RunEnvironment(DOCKER)
    builder = EnvironmentManager(manager, env_root, subject="project", python_downloads=True)
    if manager == "conda":
        python = builder.prepare_conda(_conda_file(project, scratch))
        prefix = python.parent.parent
        return RunEnvironment(
            "conda", python.parent, {"CONDA_PREFIX": str(prefix), "CONDA_DEFAULT_ENV": str(prefix)}
        )
    python = builder.prepare_environment(project_environment(project))
    return RunEnvironment(manager, python.parent, {"VIRTUAL_ENV": str(python.parent.parent)})
