"""docker_env projects: the commands that would run (no Docker engine on the test machines),
and the message when docker is missing or its engine is not running."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from tests.projects.conftest import write_files

import mltrail
from mltrail.exceptions import ExecutionException, InvalidArgument
from mltrail.projects import docker_plan
from mltrail.projects._docker import check_docker, dockerfile_text
from mltrail.tracking import MlflowClient

RUN_ENV = {"MLFLOW_RUN_ID": "r1", "MLTRAIL_RUN_ID": "r1", "MLFLOW_EXPERIMENT_ID": "0"}
DOCKER_ENV = {
    "image": "python:3.11-slim",
    "volumes": ["/data:/data"],
    "environment": [["MODE", "test"], "HOME"],
}


def test_the_commands_of_a_run_in_the_docker_env_image(tmp_path: Path) -> None:
    plan = docker_plan(
        project_name="demo",
        docker_env=DOCKER_ENV,
        work_dir=tmp_path / "p",
        commit="0123456789abcdef",
        run_env=RUN_ENV,
        tracking_uri=f"sqlite:///{tmp_path}/store/mltrail.db",
        artifact_uri=f"file://{tmp_path}/artifacts/0/r1/artifacts",
        host_env={"HOME": "/home/me"},
        docker_args={"gpus": "all", "t": True, "network": "host"},
        docker_auth={"username": "me", "password": "pw", "registry": "ghcr.io"},
    )
    assert plan.image == "python:3.11-slim"
    assert plan.pull == ["docker", "pull", "python:3.11-slim"]
    assert plan.build is None
    assert plan.login == ["docker", "login", "--username", "me", "--password-stdin", "ghcr.io"]
    assert plan.login_password == "pw"
    assert "pw" not in repr(plan)
    container_uri = "sqlite:////mlflow/tmp/mlruns/mltrail.db"
    assert plan.run == [
        "docker", "run", "--rm",
        "--gpus", "all", "-t", "--network", "host",
        "-v", f"{tmp_path}/store:/mlflow/tmp/mlruns",
        "-v", f"{tmp_path}/artifacts/0/r1/artifacts:{tmp_path}/artifacts/0/r1/artifacts",
        "-v", f"{tmp_path / 'p'}:/mlflow/projects/code/", "-w", "/mlflow/projects/code/",
        "-v", "/data:/data",
        "-e", "MLFLOW_RUN_ID=r1", "-e", "MLTRAIL_RUN_ID=r1", "-e", "MLFLOW_EXPERIMENT_ID=0",
        "-e", f"MLFLOW_TRACKING_URI={container_uri}",
        "-e", f"MLTRAIL_TRACKING_URI={container_uri}",
        "-e", "MODE=test", "-e", "HOME=/home/me",
        "python:3.11-slim",
    ]  # fmt: skip
    command = plan.shell_command("python train.py --alpha 0.5")
    assert shlex.split(command)[-4:] == ["python", "train.py", "--alpha", "0.5"]


def test_build_image_copies_the_project_into_an_image_named_after_it(tmp_path: Path) -> None:
    plan = docker_plan(
        project_name="demo",
        docker_env={"image": "python:3.11-slim"},
        work_dir=tmp_path,
        commit="0123456789abcdef",
        run_env=RUN_ENV,
        tracking_uri="http://127.0.0.1:5000",
        artifact_uri="mlflow-artifacts:/0/r1/artifacts",
        host_env={},
        build_image=True,
    )
    assert plan.image == "demo:0123456"
    assert plan.build == ["docker", "build", "--tag", "demo:0123456", "--file", "-", str(tmp_path)]
    assert plan.pull is None
    assert plan.login is None
    assert plan.dockerfile == dockerfile_text("python:3.11-slim")
    assert plan.dockerfile.splitlines()[1:] == [
        "COPY . /mlflow/projects/code/",
        "WORKDIR /mlflow/projects/code/",
    ]
    assert "-v" not in plan.run  # nothing of this machine's to mount: a server, remote artifacts
    assert plan.run[-1] == "demo:0123456"


def test_docker_env_rules(tmp_path: Path) -> None:
    common = {
        "work_dir": tmp_path,
        "commit": None,
        "run_env": RUN_ENV,
        "tracking_uri": "http://127.0.0.1:5000",
        "artifact_uri": "s3://b/a",
    }
    with pytest.raises(InvalidArgument, match="needs a name in its MLproject"):
        docker_plan(project_name=None, docker_env={"image": "x"}, host_env={}, **common)
    with pytest.raises(InvalidArgument, match="copies the environment variable 'HOME'"):
        docker_plan(project_name="d", docker_env=DOCKER_ENV, host_env={}, **common)


def test_no_docker_executable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ExecutionException, match="no `docker` executable on PATH"):
        check_docker()


def test_a_docker_project_stops_before_a_run_exists(
    tmp_path: Path, client: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No engine here: a docker client that cannot reach one, or no docker at all."""
    fake = write_files(
        tmp_path / "bin",
        {"docker": "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"},
    )
    (fake / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    project = write_files(
        tmp_path / "p",
        {"MLproject": "name: d\ndocker_env:\n  image: python:3.11-slim\nentry_points:\n"
         "  main:\n    command: python -V\n"},
    )  # fmt: skip
    with pytest.raises(ExecutionException, match="no Docker engine is running here") as error:
        mltrail.projects.run(str(project), env_manager="local")
    assert "Cannot connect to the Docker daemon" in error.value.message
    assert list(client.search_runs(None)) == []
