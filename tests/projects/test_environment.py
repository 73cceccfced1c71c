"""Choosing and describing a project's environment, without building one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tests.projects.conftest import write_files

from mltrail._envs import EnvironmentManager, read_conda_as_python_env
from mltrail.exceptions import InvalidArgument
from mltrail.projects import load_project
from mltrail.projects._environment import (
    RunEnvironment,
    choose_env_manager,
    prepare_environment,
    project_environment,
)

CONDA = """\
name: demo
channels: [conda-forge]
dependencies:
  - python=3.11.7
  - numpy=1.26
  - pip
  - pip:
      - scikit-learn==1.5.0
      - mltrail
      - -r requirements.txt
"""


@pytest.mark.parametrize(
    ("files", "asked", "chosen"),
    [
        ({"train.py": ""}, None, "virtualenv"),  # MLflow's default, even with no env file
        ({"python_env.yaml": "python: '3.11'\n"}, None, "virtualenv"),
        ({"conda.yaml": CONDA, "requirements.txt": ""}, None, "conda"),
        ({"conda.yaml": CONDA, "requirements.txt": ""}, "uv", "uv"),
        ({"MLproject": "name: d\ndocker_env: {image: x}\n"}, "local", "docker"),
        ({"python_env.yaml": "python: '3.11'\n"}, "local", "local"),
    ],
)
def test_the_environment_a_project_runs_in(
    tmp_path: Path, files: dict[str, str], asked: str | None, chosen: str
) -> None:
    project = load_project(write_files(tmp_path / "p", files))
    assert choose_env_manager(project, asked) == chosen


def test_conda_yaml_for_virtualenv_and_uv(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "p", {"conda.yaml": CONDA, "requirements.txt": "pandas\n"})
    env = read_conda_as_python_env(folder / "conda.yaml")
    assert env == project_environment(load_project(folder))
    assert env.python == "3.11.7"
    assert env.build_dependencies == ("numpy==1.26",)
    assert env.requirements == ("scikit-learn==1.5.0", "pandas")  # mltrail is copied in
    (folder / "conda.yaml").write_text("dependencies: [python>3.9]\n")
    with pytest.raises(InvalidArgument, match="pin it"):
        read_conda_as_python_env(folder / "conda.yaml")


def test_the_conda_commands(tmp_path: Path) -> None:
    prefix, spec = tmp_path / "env", tmp_path / "conda.yaml"
    conda = EnvironmentManager.conda_create_command("/opt/conda/bin/conda", prefix, spec)
    tail = ["--prefix", str(prefix), "--file", str(spec)]
    assert conda == ["/opt/conda/bin/conda", "env", "create", "--quiet", *tail]
    micromamba = EnvironmentManager.conda_create_command("micromamba", prefix, spec)
    assert micromamba[:4] == ["micromamba", "create", "--yes", "--quiet"]


def test_local_puts_this_interpreter_first_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(write_files(tmp_path / "p", {"train.py": ""}))
    local = prepare_environment(project, "local", tmp_path / "scratch")
    assert local.bin_dir is not None
    assert (local.bin_dir / "python").samefile(sys.executable)
    env = local.apply({"PATH": "/usr/bin"})
    assert env["PATH"] == f"{local.bin_dir}{os.pathsep}/usr/bin"
    # An interpreter whose folder has no `python` gets a shim that runs it.
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python3.11"))
    shimmed = prepare_environment(project, "local", tmp_path / "scratch")
    assert shimmed.bin_dir == tmp_path / "scratch" / "bin"
    assert str(tmp_path / "bin" / "python3.11") in (shimmed.bin_dir / "python").read_text()
    assert RunEnvironment("uv", None, {"VIRTUAL_ENV": "/e"}).apply({"A": "1"}) == {
        "A": "1",
        "VIRTUAL_ENV": "/e",
    }
