"""A ``docker_env`` project: the docker commands that prepare its image and run its command.

Every command is computed by a plain function (:func:`docker_plan`), so what would run can be
checked without a Docker engine; :func:`check_docker` stops with a clear message when there
is no ``docker`` executable or no engine answers.

As in MLflow, the image is the ``docker_env`` image, pulled when it is not on this machine,
or with ``--build-image`` an image built from it with the project's files copied to
``/mlflow/projects/code`` (tagged ``<project name>:<commit[:7]>``).  Without
``--build-image`` the project folder is mounted there instead (MLflow mounts nothing, so
the image had to hold the code).  The container gets the run's variables, the tracking
database's folder when the tracking URI is a local SQLite file (at ``/mlflow/tmp/mlruns``),
the run's local artifact folder at the same path, the ``docker_env`` volumes and
environment, and ``docker_args`` as ``--name value`` (``-n value`` for one letter).
"""

from __future__ import annotations

import shlex
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail._envs import docker_engine_problem
from mltrail._exceptions import ExecutionException, InvalidArgument

__all__ = [
    "CONTAINER_TRACKING_DIR",
    "CONTAINER_WORKDIR",
    "DockerPlan",
    "check_docker",
    "docker_plan",
    "dockerfile_text",
]

CONTAINER_WORKDIR = "/mlflow/projects/code/"
CONTAINER_TRACKING_DIR = "/mlflow/tmp/mlruns"


@dataclass(frozen=True)
class DockerPlan:
    """What runs, in order: preparing the image, then the container running the command."""

    image: str
    login: list[str] | None = None  # `docker login ... --password-stdin`: the password on stdin
    login_password: str | None = field(default=None, repr=False)
    pull: list[str] | None = None  # run when the image is not on this machine yet
    build: list[str] | None = None
    dockerfile: str | None = None  # the Dockerfile `build` reads (-f)
    run: list[str] = field(default_factory=list)

    def shell_command(self, command: str) -> str:
        """The shell command running *command* (the entry point's) in the container."""
        return f"{shlex.join(self.run)} {command}"


def check_docker() -> None:
    """Stop with a clear message when Docker cannot run a container here."""
    problem = docker_engine_problem()
    if problem is not None:
        raise ExecutionException(
            f"This project declares a docker_env and {problem}: install or start Docker "
            "(https://docs.docker.com/engine/install/), or run a project without docker_env"
        )


def dockerfile_text(base_image: str) -> str:
    """The Dockerfile of ``--build-image``: the base image with the project's files."""
    return f"FROM {base_image}\nCOPY . {CONTAINER_WORKDIR}\nWORKDIR {CONTAINER_WORKDIR}\n"


def _option(name: str, value: Any) -> list[str]:
    flag = f"-{name}" if len(name) == 1 else f"--{name}"
    if value is True:
        return [flag]
    if value is False or value is None:
        return []
    return [flag, str(value)]


def _local_sqlite_folder(tracking_uri: str) -> tuple[str, str] | None:
    """(host folder, container URI) for a local SQLite tracking URI."""
    if not tracking_uri.startswith("sqlite:///") or ":memory:" in tracking_uri:
        return None
    path = Path(tracking_uri[len("sqlite:///") :])
    return str(path.parent), f"sqlite:///{CONTAINER_TRACKING_DIR}/{path.name}"


def _local_artifact_folder(artifact_uri: str) -> str | None:
    parsed = urllib.parse.urlparse(artifact_uri)
    if parsed.scheme == "file":
        return urllib.parse.unquote(parsed.path)
    if not parsed.scheme and artifact_uri.startswith("/"):
        return artifact_uri
    return None


def _environment(
    run_env: Mapping[str, str], docker_environment: Sequence[Any], host_env: Mapping[str, str]
) -> dict[str, str]:
    env = dict(run_env)
    for entry in docker_environment:
        if isinstance(entry, list):
            env[str(entry[0])] = str(entry[1])
        elif entry in host_env:
            env[entry] = host_env[entry]
        else:
            raise InvalidArgument(
                f"The project's docker_env copies the environment variable {entry!r} from this "
                "machine, and it is not set here"
            )
    return env


def docker_plan(
    *,
    project_name: str | None,
    docker_env: Mapping[str, Any],
    work_dir: Path,
    commit: str | None,
    run_env: Mapping[str, str],
    tracking_uri: str,
    artifact_uri: str,
    host_env: Mapping[str, str],
    docker_args: Mapping[str, Any] | None = None,
    build_image: bool = False,
    docker_auth: Mapping[str, Any] | None = None,
) -> DockerPlan:
    """The docker commands for a run of the project in *work_dir* (nothing is run)."""
    if not project_name:
        raise InvalidArgument(
            "A docker_env project needs a name in its MLproject file: it names the image"
        )
    base = str(docker_env["image"])
    login: list[str] | None = None
    password: str | None = None
    if docker_auth:
        login = ["docker", "login", "--username", str(docker_auth.get("username", ""))]
        login += ["--password-stdin"]
        if docker_auth.get("registry"):
            login.append(str(docker_auth["registry"]))
        password = str(docker_auth.get("password", ""))
    if build_image:
        image = project_name + (f":{commit[:7]}" if commit else "")
        build = ["docker", "build", "--tag", image, "--file", "-", str(work_dir)]
        pull, dockerfile = None, dockerfile_text(base)
    else:
        image, build, dockerfile = base, None, None
        pull = ["docker", "pull", base]
    run = ["docker", "run", "--rm"]
    for name, value in (docker_args or {}).items():
        run += _option(str(name), value)
    env = dict(run_env)
    sqlite = _local_sqlite_folder(tracking_uri)
    if sqlite is not None:
        run += ["-v", f"{sqlite[0]}:{CONTAINER_TRACKING_DIR}"]
        env["MLFLOW_TRACKING_URI"] = env["MLTRAIL_TRACKING_URI"] = sqlite[1]
    artifacts = _local_artifact_folder(artifact_uri)
    if artifacts is not None:
        run += ["-v", f"{artifacts}:{artifacts}"]
    if not build_image:
        run += ["-v", f"{work_dir}:{CONTAINER_WORKDIR}", "-w", CONTAINER_WORKDIR]
    for volume in docker_env.get("volumes") or []:
        run += ["-v", str(volume)]
    env = _environment(env, docker_env.get("environment") or [], host_env)
    for key, value in env.items():
        run += ["-e", f"{key}={value}"]
    run.append(image)
    return DockerPlan(image, login, password, pull, build, dockerfile, run)
