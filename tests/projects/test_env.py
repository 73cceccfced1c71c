"""The one test that builds an environment: a uv environment from the project's
python_env.yaml, built by the first run and reused by the second (cached by content)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tests.projects.conftest import write_files

import mltrail
from mltrail._envs import default_env_root
from mltrail.tracking import MlflowClient

PYTHON = ".".join(map(str, sys.version_info[:3]))
MLPROJECT = """\
name: isolated
python_env: envs/python_env.yaml
entry_points:
  main:
    command: python train.py
"""
TRAIN = """\
import sys
import mltrail

with mltrail.start_run():
    mltrail.set_tag("python", sys.executable)
"""


@pytest.fixture(scope="session")
def env_root() -> Path:
    """Environments persist across test runs (a rebuild downloads packages)."""
    root = Path(os.environ.get("MLTRAIL_TEST_ENV_ROOT") or default_env_root().parent / "test-envs")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_uv_environment_is_built_once_and_reused(
    tmp_path: Path, client: MlflowClient, env_root: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = write_files(
        tmp_path / "p",
        {
            "MLproject": MLPROJECT,
            "envs/python_env.yaml": f"python: {PYTHON}\ndependencies:\n  - -r requirements.txt\n",
            "envs/requirements.txt": "mltrail\n",  # never installed: the running one is copied
            "train.py": TRAIN,
        },
    )
    first = mltrail.projects.run(str(project), env_manager="uv", env_root=env_root)
    second = mltrail.projects.run(str(project), env_manager="uv", env_root=env_root)
    assert "Using the cached uv environment" in capfd.readouterr().err
    pythons = set()
    for submitted in (first, second):
        run = client.get_run(submitted.run_id)
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.project.env"] == "uv"
        pythons.add(run.data.tags["python"])
        logged = {f.path for f in client.list_artifacts(run.info.run_id, "project/envs")}
        assert logged == {"project/envs/python_env.yaml", "project/envs/requirements.txt"}
    (python,) = pythons  # the same environment both times
    assert python.startswith(f"{env_root}{os.sep}uv-")
