"""``mltrail.models.build_docker``, ``predict`` and ``validate_serving_input``: what they refuse,
and ``build_docker`` where no Docker engine runs (this machine): it says so and leaves the
build context, which ``mltrail models generate-dockerfile`` would have written.  Their results
are compared with MLflow's in tests/models/test_names_differential.py."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.serving.conftest import Models

import mltrail
from mltrail._exceptions import InvalidArgument, TemporarilyUnavailable
from mltrail.cli import cli
from mltrail.serving import _backend, _model_api


def test_build_docker_without_an_engine_writes_the_context(
    models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_backend, "docker_engine_problem", lambda: "no engine in this test")
    with pytest.raises(TemporarilyUnavailable, match="no engine in this test") as caught:
        mltrail.models.build_docker(str(models.sklearn_dir), name="my-model")
    assert caught.value.error_code == "TEMPORARILY_UNAVAILABLE"
    found = re.search(r"docker build -t my-model (\S+)`", caught.value.message)
    assert found is not None
    context = Path(found.group(1))
    assert (context / "Dockerfile").is_file()
    assert (context / "model_dir" / "MLmodel").is_file()


def test_docker_engine_problem_names_a_missing_executable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert _model_api.docker_engine_problem() == "there is no `docker` executable on PATH"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"model_uri": None}, "builds the image of one model"),
        ({"install_java": True}, "install_java are not supported"),
        ({"env_manager": "pipenv"}, "Invalid env_manager 'pipenv'"),
        ({"name": "-t"}, "Invalid image name"),
    ],
)
def test_build_docker_refuses(models: Models, arguments: dict[str, object], message: str) -> None:
    call = {"model_uri": str(models.sklearn_dir), **arguments}
    with pytest.raises(InvalidArgument, match=message):
        mltrail.models.build_docker(**call)  # type: ignore[arg-type]


def test_predict_refuses(models: Models) -> None:
    path = str(models.sklearn_dir)
    with pytest.raises(InvalidArgument, match="input_data or input_path, not both"):
        mltrail.models.predict(path, input_data={"x": [1]}, input_path="in.json")
    with pytest.raises(InvalidArgument, match="Invalid content_type 'xml'"):
        mltrail.models.predict(path, input_path="in.xml", content_type="xml")
    # Requirements can only be overridden in an environment built for the model (as in MLflow).
    with pytest.raises(InvalidArgument, match="not supported with env_manager 'local'"):
        mltrail.models.predict(
            path, input_path="in.json", env_manager="local", pip_requirements_override=["x"]
        )
    with pytest.raises(InvalidArgument, match="Invalid pip_requirements_override 'x==1'"):
        mltrail.models.predict(path, input_path="in.json", pip_requirements_override="x==1")


def test_the_cli_takes_mlflows_predict_options(models: Models, tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1.0]]}}))
    base = ["models", "predict", "-m", str(models.sklearn_dir), "-i", str(source)]
    bad_env = CliRunner().invoke(cli, [*base, "--env", "NO_EQUALS_SIGN"])
    assert bad_env.exit_code == 2
    assert "'NO_EQUALS_SIGN' is not KEY=VALUE" in bad_env.output
    local = CliRunner().invoke(cli, [*base, "--env-manager", "local", "-r", "x==1,y==2"])
    assert local.exit_code == 1
    assert "not supported with env_manager 'local'" in local.output


def test_predict_sets_extra_envs_while_predicting_locally(
    models: Models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLTRAIL_TEST_EXTRA_ENV", raising=False)
    seen: list[str | None] = []
    real = _backend.predict_stream

    def spy(*args: object) -> None:
        seen.append(os.environ.get("MLTRAIL_TEST_EXTRA_ENV"))
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_backend, "predict_stream", spy)
    example = json.loads((models.sklearn_dir / "serving_input_example.json").read_text())
    out = tmp_path / "out.json"
    mltrail.models.predict(
        str(models.sklearn_dir),
        example,
        env_manager="local",
        output_path=str(out),
        extra_envs={"MLTRAIL_TEST_EXTRA_ENV": "on"},
    )
    assert seen == ["on"]
    assert "predictions" in json.loads(out.read_text())
    assert "MLTRAIL_TEST_EXTRA_ENV" not in os.environ


def test_validate_serving_input_refuses_other_types(models: Models) -> None:
    with pytest.raises(InvalidArgument, match="expected JSON text or a dict, got list"):
        mltrail.models.validate_serving_input(str(models.sklearn_dir), [1, 2])  # type: ignore[arg-type]


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="mltrail")


def test_cli_update_pip_requirements(models: Models, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(models.sklearn_dir, model)
    result = _cli("models", "update-pip-requirements", "-m", str(model), "add", "tabulate==0.9")
    assert result.exit_code == 0, result.output
    assert "tabulate==0.9" in (model / "requirements.txt").read_text().splitlines()
    result = _cli("models", "update-pip-requirements", "-m", str(model), "remove", "tabulate")
    assert result.exit_code == 0, result.output
    assert "tabulate" not in (model / "requirements.txt").read_text()
    result = _cli("models", "update-pip-requirements", "-m", str(model), "add", "not a req!")
    assert result.exit_code == 1
    assert "not pip requirements" in result.output


def test_cli_build_docker_without_an_engine(
    models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_backend, "docker_engine_problem", lambda: "no engine in this test")
    result = _cli("models", "build-docker", "-m", str(models.sklearn_dir), "-n", "my-model")
    assert result.exit_code == 1
    assert "Cannot build the image 'my-model': no engine in this test" in result.output
    assert "docker build -t my-model " in result.output


def test_cli_prepare_env(models: Models, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str | None]] = []

    def fake_env_python(
        backend: _backend.PyFuncBackend, model_dir: str, quiet: bool, override: list[str]
    ) -> str:
        assert override == []
        asked.append((backend._env_manager, backend._env_root_dir))
        assert (Path(model_dir) / "MLmodel").is_file()
        return "/envs/uv-123/bin/python"

    monkeypatch.setattr(_backend.PyFuncBackend, "_env_python", fake_env_python)
    result = _cli("models", "prepare-env", "-m", str(models.sklearn_dir), "--env-manager", "uv")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "/envs/uv-123/bin/python"
    assert asked == [("uv", None)]
    result = _cli("models", "prepare-env", "-m", str(models.sklearn_dir), "--env-manager", "local")
    assert result.exit_code == 0
    assert "nothing to prepare" in result.stderr
