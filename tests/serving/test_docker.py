"""``mltrail models generate-dockerfile``: the build context's content (no Docker engine
exists here), and its entry point run as the image would run it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests._live_server import find_free_port, start_process
from tests.serving.conftest import Models, child_env

from mltrail.cli import cli
from mltrail.serving._docker import render_dockerfile


def _generate(*args: str) -> None:
    result = CliRunner().invoke(cli, ["models", "generate-dockerfile", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword, rest.strip()))
    return out


def test_build_context_content(models: Models, tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    _generate("-m", str(models.sklearn_dir), "-d", str(out))
    text = (out / "Dockerfile").read_text()
    steps = _instructions(text)
    keywords = [k for k, _ in steps]
    python = ".".join(map(str, sys.version_info[:3]))
    assert steps[0] == ("FROM", f"python:{python}-slim")
    # dependencies are installed before the model is copied, so their layer is reused
    assert keywords.index("RUN") < keywords.index("COPY", keywords.index("RUN"))
    run = next(rest for k, rest in steps if k == "RUN")
    assert "-r /opt/ml/requirements/model.txt" in run
    assert "-r /opt/ml/requirements/mltrail.txt" in run
    copies = [rest for k, rest in steps if k == "COPY"]
    assert "requirements/ /opt/ml/requirements/" in copies
    assert "mltrail/src/ /opt/mltrail/" in copies
    assert "model_dir/ /opt/ml/model/" in copies
    assert ("ENV", "PYTHONPATH=/opt/mltrail") in steps
    assert ("USER", "mltrail") in steps  # not root
    assert ("EXPOSE", "8080") in steps
    entry = json.loads(dict(steps)["ENTRYPOINT"])
    assert entry[:4] == ["python", "-m", "mltrail.serving", "serve"]
    assert entry[entry.index("--model-path") + 1] == "/opt/ml/model"
    assert entry[entry.index("--host") + 1] == "0.0.0.0"
    assert json.loads(dict(steps)["CMD"]) == ["--workers", "1"]
    assert "HEALTHCHECK" in keywords

    # the context holds the model, its requirements, mltrail's and mltrail's sources
    assert (out / "model_dir" / "MLmodel").read_text() == (
        models.sklearn_dir / "MLmodel"
    ).read_text()
    model_reqs = (out / "requirements" / "model.txt").read_text().split()
    assert any(r.startswith("scikit-learn==") for r in model_reqs)
    mltrail_reqs = (out / "requirements" / "mltrail.txt").read_text()
    assert "starlette" in mltrail_reqs
    assert "uvicorn" in mltrail_reqs
    assert (out / "mltrail" / "src" / "mltrail" / "serving" / "__main__.py").is_file()
    assert list((out / "mltrail" / "src").glob("mltrail-*.dist-info/METADATA"))
    assert not list(out.rglob("__pycache__"))


def test_every_uri_form_and_options(models: Models, tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    _generate(
        "-m",
        f"models:/{models.registered_name}@champion",
        "-d",
        str(out),
        "--tracking-uri",
        models.tracking_uri,
        "--base-image",
        "registry.local/python:3.11",
    )
    text = (out / "Dockerfile").read_text()
    assert text.splitlines()[2] == "FROM registry.local/python:3.11"
    assert f"models:/{models.registered_name}@champion" in text.splitlines()[0]
    assert (out / "model_dir" / "MLmodel").is_file()


def test_output_directory_must_be_empty(models: Models, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    result = CliRunner().invoke(
        cli,
        [
            "models",
            "generate-dockerfile",
            "-m",
            str(models.pyfunc_dir),
            "-d",
            str(tmp_path / "taken"),
        ],
    )
    assert result.exit_code == 1
    assert "not empty" in result.stderr


def test_build_dependencies_are_installed_first() -> None:
    text = render_dockerfile("3.10.14", ("pip==24.0", "setuptools"))
    assert text.splitlines()[2] == "FROM python:3.10.14-slim"
    assert 'python -m pip install "pip==24.0" "setuptools"' in text


@pytest.mark.slow
def test_the_entry_point_serves_the_model(models: Models, tmp_path: Path) -> None:
    """Run the image's ENTRYPOINT + CMD with the context's sources, as `docker run` would."""
    out = tmp_path / "ctx"
    _generate("-m", str(models.sklearn_dir), "-d", str(out))
    steps = dict(_instructions((out / "Dockerfile").read_text()))
    command = json.loads(steps["ENTRYPOINT"]) + json.loads(steps["CMD"])
    port = find_free_port()
    command[0] = sys.executable
    command[command.index("--model-path") + 1] = str(out / "model_dir")
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    env = child_env(PYTHONPATH=str(out / "mltrail" / "src"))
    url = f"http://127.0.0.1:{port}"
    server = start_process(command, url, ready="/ping", cwd=tmp_path, env=env, timeout=120)
    try:
        where = httpx.get(f"{url}/version").text
        assert where
        row = dict.fromkeys(models.features, 1.0)
        response = httpx.post(f"{url}/invocations", json={"dataframe_records": [row]}, timeout=30)
        assert response.json() == {"predictions": [1]}
    finally:
        server.stop()
