"""The MLproject format as MLflow reads it; every bad file and bad value is an InvalidArgument
that names the file, the line or the parameter, and the rule."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from tests.projects.conftest import MLPROJECT, tutorial_project, write_files

from mltrail.exceptions import InvalidArgument
from mltrail.projects import load_project


def test_the_tutorial_shape(tmp_path: Path) -> None:
    project = load_project(tutorial_project(tmp_path / "p"))
    assert project.name == "tutorial"
    assert project.env_type == "python_env"
    assert project.env_file == (tmp_path / "p" / "python_env.yaml").resolve()
    main = project.get_entry_point("main")
    assert {n: (p.type, p.default) for n, p in main.parameters.items()} == {
        "alpha": ("float", "0.5"),
        "l1_ratio": ("float", "0.1"),
        "epochs": ("int", "3"),
        "label": ("string", None),
    }
    command = main.compute_command({"label": "it's", "alpha": 1e-3, "seed": "a b"}, tmp_path)
    assert command == (
        "python train.py --alpha 0.001 --l1-ratio 0.1 --epochs 3 --label 'it'\"'\"'s' --seed 'a b'"
    )
    assert shlex.split(command)[-4:] == ["--label", "it's", "--seed", "a b"]
    # The values logged: defaults filled in, undeclared ones apart, nothing resolved.
    assert main.parameter_values({"label": "x", "n": 1}) == (
        {"alpha": "0.5", "l1_ratio": "0.1", "epochs": "3", "label": "x"},
        {"n": "1"},
    )


def test_required_parameters_are_named(tmp_path: Path) -> None:
    main = load_project(tutorial_project(tmp_path / "p")).get_entry_point("main")
    with pytest.raises(InvalidArgument, match=r"required parameters 'label' .*MLproject, line 9"):
        main.compute_command({}, tmp_path)


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("alpha", "fast", "type float expects a number"),
        ("epochs", "2.5", "type int expects a whole number"),
    ],
)
def test_values_are_checked_against_their_type(
    tmp_path: Path, name: str, value: str, rule: str
) -> None:
    main = load_project(tutorial_project(tmp_path / "p")).get_entry_point("main")
    with pytest.raises(InvalidArgument, match=f"Invalid value '{value}' for parameter '{name}'"):
        main.compute_command({"label": "x", name: value}, tmp_path)
    with pytest.raises(InvalidArgument) as error:
        main.parameter_values({"label": "x", name: value})
    assert rule in error.value.message
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"


def test_path_and_uri_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = write_files(
        tmp_path / "p",
        {
            "MLproject": (
                "entry_points:\n  main:\n    parameters:\n      data: path\n"
                "      out: {type: uri, default: 's3://bucket/out'}\n"
                "    command: cat {data} {out}\n"
            )
        },
    )
    main = load_project(project).get_entry_point("main")
    (tmp_path / "data.csv").write_text("x\n")
    monkeypatch.chdir(tmp_path)
    # A path is made absolute, relative to where `mltrail run` runs (as MLflow does).
    assert main.compute_command({"data": "data.csv"}, tmp_path) == (
        f"cat {tmp_path / 'data.csv'} s3://bucket/out"
    )
    file_uri = (tmp_path / "data.csv").as_uri()
    assert str(tmp_path / "data.csv") in main.compute_command({"data": file_uri}, tmp_path)
    with pytest.raises(InvalidArgument, match="type path expects an existing file or folder"):
        main.compute_command({"data": "missing.csv"}, tmp_path)
    with pytest.raises(InvalidArgument, match="type uri expects a URI with a scheme"):
        main.compute_command({"data": "data.csv", "out": "relative/out"}, tmp_path)
    # A remote path is downloaded into the storage folder by the given function.
    fetched: list[tuple[str, Path]] = []

    def download(uri: str, folder: Path) -> str:
        fetched.append((uri, folder))
        return str(folder / "data.csv")

    command = main.compute_command({"data": "s3://bucket/data.csv"}, tmp_path / "s", download)
    assert fetched == [("s3://bucket/data.csv", tmp_path / "s" / "param_data")]
    assert command.startswith(f"cat {tmp_path / 's' / 'param_data' / 'data.csv'} ")


def test_a_folder_without_mlproject_runs_scripts_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_files(tmp_path / "p", {"train.py": "", "run me.sh": "", "conda.yaml": "x: 1\n"})
    project = load_project(folder)
    assert project.name is None
    assert project.mlproject_file is None
    assert (project.env_type, project.env_file) == ("conda_env", folder.resolve() / "conda.yaml")
    monkeypatch.delenv("SHELL", raising=False)
    assert project.get_entry_point("train.py").compute_command({"a": 1}, tmp_path) == (
        "python train.py --a 1"
    )
    assert project.get_entry_point("run me.sh").command == "bash 'run me.sh'"
    with pytest.raises(InvalidArgument, match=r"not a \.py or \.sh script"):
        project.get_entry_point("main")
    with pytest.raises(InvalidArgument, match=r"there is no file other\.py"):
        project.get_entry_point("other.py")
    with pytest.raises(InvalidArgument, match="there is no file"):
        project.get_entry_point("../outside.py")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nentry_points: [\n", r"Invalid YAML in .*MLproject, line 3"),
        ("- a\n- b\n", r"the MLproject file must be a mapping"),
        (
            "python_env: python_env.yaml\nconda_env: conda.yaml\n",
            r"line 2\): it declares python_env and conda_env",
        ),
        ("python_env: missing.yaml\n", r"line 1\): the project has no file 'missing.yaml'"),
        ("conda_env: ../outside.yaml\n", r"must be inside the project"),
        ("docker_env:\n  volumes: [a]\n", r"line 1\): it needs an image"),
        ("docker_env:\n  image: x\n  volumes: a\n", r"line 3\): volumes must be a list"),
        (
            "docker_env:\n  image: x\n  environment: [[a, b, c]]\n",
            r"line 3\): environment must be a list",
        ),
        ("entry_points:\n  main:\n    parameters: {}\n", r"line 2\): it needs a command"),
        (
            "entry_points:\n  main:\n    command: go\n    parameters:\n      n: {type: number}\n",
            r"line 5\): unknown type 'number'; the types are string, float, int, path, uri",
        ),
        (
            "entry_points:\n  main:\n    command: go\n    parameters:\n"
            "      n: {type: int, default: ten}\n",
            r"Invalid value 'ten' for parameter 'n' \(.*line 5\): type int",
        ),
        ("entry_points:\n  main: go\n", r"line 2\): entry point 'main' must be a mapping"),
    ],
)
def test_bad_files_name_the_file_the_line_and_the_rule(
    tmp_path: Path, text: str, message: str
) -> None:
    folder = write_files(tmp_path / "p", {"MLproject": text})
    with pytest.raises(InvalidArgument, match=message) as error:
        load_project(folder)
    assert str(folder / "MLproject") in error.value.message


def test_a_command_naming_an_undeclared_parameter(tmp_path: Path) -> None:
    text = "entry_points:\n  main:\n    command: python t.py {alpha} {{literal}}\n"
    main = load_project(write_files(tmp_path / "p", {"MLproject": text})).get_entry_point("main")
    with pytest.raises(InvalidArgument, match=r"line 3\): \{alpha\} names no declared parameter"):
        main.compute_command({"alpha": 1}, tmp_path)
    text = "entry_points:\n  main:\n    command: python t.py {\n"
    main = load_project(write_files(tmp_path / "q", {"MLproject": text})).get_entry_point("main")
    with pytest.raises(InvalidArgument, match=r"line 3\): Single '\{' encountered"):
        main.compute_command({}, tmp_path)


def test_mlproject_is_found_in_any_case_and_env_files_by_default(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "p",
        {
            "mlproject": MLPROJECT.replace("python_env: python_env.yaml\n", ""),
            "python_env.yaml": "python: '3.11'\n",
            "conda.yaml": "dependencies: [python=3.11]\n",
        },
    )
    project = load_project(folder)
    assert project.mlproject_file == folder / "mlproject"
    assert (project.env_type, project.env_file) == ("python_env", folder / "python_env.yaml")
