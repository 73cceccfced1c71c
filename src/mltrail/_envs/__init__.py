"""Isolated environments for the code mltrail runs: a model's scoring server, a project's
command.

A :class:`PythonEnvironment` says what an environment holds (read from ``python_env.yaml``,
``conda.yaml`` or ``requirements.txt``); :class:`EnvironmentManager` builds one with
virtualenv, uv or conda, caches it by the hash of what decides its content and reuses it.
Model serving and projects share this package; it sits below both faces.
"""

from mltrail._envs._docker import docker_engine_problem
from mltrail._envs._manager import (
    CONDA_TOOLS,
    ENV_MANAGERS,
    EnvironmentManager,
    copy_mltrail,
    default_env_root,
    env_lock,
    mltrail_requirements,
)
from mltrail._envs._spec import (
    PythonEnvironment,
    read_conda_as_python_env,
    read_model_environment,
    read_python_env,
)

__all__ = [
    "CONDA_TOOLS",
    "ENV_MANAGERS",
    "EnvironmentManager",
    "PythonEnvironment",
    "copy_mltrail",
    "default_env_root",
    "docker_engine_problem",
    "env_lock",
    "mltrail_requirements",
    "read_conda_as_python_env",
    "read_model_environment",
    "read_python_env",
]
