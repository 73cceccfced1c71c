"""Projects: run an MLproject (MLflow's format) as a tracked, reproducible run.

``mltrail.projects.run`` (also ``mltrail.run``) takes ``mlflow.projects.run``'s arguments and
returns a :class:`SubmittedRun`; ``mltrail run URI`` is its command line.  See
``docs/projects.md``.
"""

from mltrail._exceptions import ExecutionException
from mltrail.projects._docker import DockerPlan, docker_plan
from mltrail.projects._environment import ENV_MANAGERS
from mltrail.projects._fetch import fetch_project
from mltrail.projects._reproduce import REPRODUCED_FROM_TAG, reproduce_run
from mltrail.projects._run import (
    BACKEND_TAG,
    ENTRY_POINT_TAG,
    ENV_ARTIFACT_PATH,
    ENV_TAG,
    EXIT_CODE_TAG,
    PARAMETERS_TAG,
    run,
)
from mltrail.projects._spec import EntryPoint, Parameter, Project, load_project
from mltrail.projects._submitted import LocalSubmittedRun, SubmittedRun

__all__ = [
    "BACKEND_TAG",
    "ENTRY_POINT_TAG",
    "ENV_ARTIFACT_PATH",
    "ENV_MANAGERS",
    "ENV_TAG",
    "EXIT_CODE_TAG",
    "PARAMETERS_TAG",
    "REPRODUCED_FROM_TAG",
    "DockerPlan",
    "EntryPoint",
    "ExecutionException",
    "LocalSubmittedRun",
    "Parameter",
    "Project",
    "SubmittedRun",
    "docker_plan",
    "fetch_project",
    "load_project",
    "reproduce_run",
    "run",
]
