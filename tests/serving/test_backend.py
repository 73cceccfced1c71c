"""``mltrail.models.FlavorBackend`` and its python_function backend, ``PyFuncBackend``.

The base class is MLflow's interface (the names and parameters are compared in
tests/test_public_names.py); here: it is abstract as MLflow documents it, and the backend
behaves as MLflow's on the same model and input: ``predict`` writes the same file, as
MLflow's backend (run in a subprocess) does, ``serve(synchronous=False)`` returns a running
server process, ``generate_dockerfile`` writes a build context; plus what it refuses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from tests._live_server import find_free_port
from tests.serving.conftest import Models

import mltrail
from mltrail.models import FlavorBackend
from mltrail.serving import PyFuncBackend, get_flavor_backend

MLFLOW_PREDICT = """
import sys
from mlflow.models.flavor_backend_registry import get_flavor_backend
uri, source, target = sys.argv[1:4]
get_flavor_backend(uri, env_manager="local").predict(uri, source, target, "json")
"""


def test_the_base_class_is_abstract() -> None:
    class Partial(FlavorBackend):
        def predict(self, model_uri: str, input_path: Any, output_path: Any, ct: str) -> None:
            pass

    with pytest.raises(TypeError, match="abstract"):
        Partial({})  # type: ignore[abstract]


def test_a_complete_backend_gets_the_defaults() -> None:
    class Echo(FlavorBackend):
        def predict(self, model_uri: str, input_path: Any, output_path: Any, ct: str) -> str:
            return f"{model_uri}:{ct}"

        def serve(self, model_uri: str, port: int, host: str, timeout: float, *a: Any) -> None:
            return None

        def build_image(self, model_uri: str, image_name: str, *args: Any) -> None:
            return None

        def generate_dockerfile(self, model_uri: str, output_dir: str, *args: Any) -> None:
            return None

        def can_score_model(self) -> bool:
            return False

    backend = Echo({"loader_module": "x"})
    assert backend._config == {"loader_module": "x"}
    assert backend.prepare_env("m") is None
    assert backend.can_build_image() is True
    assert backend.predict("m", None, None, "csv") == "m:csv"


def test_predict_writes_what_mlflows_backend_writes(models: Models, tmp_path: Path) -> None:
    source = models.sklearn_dir / "serving_input_example.json"
    ours, theirs = tmp_path / "ours.json", tmp_path / "theirs.json"
    backend = get_flavor_backend(str(models.sklearn_dir), env_manager="local")
    assert isinstance(backend, PyFuncBackend)
    assert isinstance(backend, FlavorBackend)
    backend.predict(str(models.sklearn_dir), str(source), str(ours), "json")
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    done = subprocess.run(
        [sys.executable, "-c", MLFLOW_PREDICT, str(models.sklearn_dir), str(source), str(theirs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(ours.read_text()) == json.loads(theirs.read_text())
    assert len(json.loads(ours.read_text())["predictions"]) == 2


def test_the_backend_carries_the_flavor_config(models: Models) -> None:
    backend = get_flavor_backend(str(models.pyfunc_dir), env_manager="local")
    conf = mltrail.models.Model.load(models.pyfunc_dir).flavors["python_function"]
    assert backend._config == conf
    assert backend.can_score_model()
    assert backend.can_build_image()


def test_serve_asynchronously_returns_the_running_server(models: Models) -> None:
    port = find_free_port()
    backend = PyFuncBackend({}, "local")
    process = backend.serve(
        str(models.sklearn_dir),
        port=port,
        host="127.0.0.1",
        timeout=30,
        synchronous=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert isinstance(process, subprocess.Popen)
    try:
        body = json.loads((models.sklearn_dir / "serving_input_example.json").read_text())
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        for _ in range(600):  # until the server listens (polled, no time asserted)
            try:
                with urllib.request.urlopen(request) as answer:
                    predictions = json.loads(answer.read())["predictions"]
                break
            except OSError:
                assert process.poll() is None, "the server exited"
                time.sleep(0.1)
        assert len(predictions) == 2
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_generate_dockerfile_writes_the_build_context(models: Models, tmp_path: Path) -> None:
    backend = PyFuncBackend({}, "virtualenv")
    path = backend.generate_dockerfile(str(models.sklearn_dir), str(tmp_path / "ctx"))
    assert Path(path) == tmp_path / "ctx" / "Dockerfile"
    assert Path(path).is_file()
    assert (tmp_path / "ctx" / "model_dir" / "MLmodel").is_file()


def test_can_score_model_asks_for_the_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CONDA_EXE", raising=False)
    monkeypatch.delenv("MAMBA_EXE", raising=False)
    assert PyFuncBackend({}, "conda").can_score_model() is False
    assert PyFuncBackend({}, "local").can_score_model() is True


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: PyFuncBackend({}, "pipenv"), "Invalid env_manager 'pipenv'"),
        (lambda: PyFuncBackend({}, "local", workers=-1), "Invalid workers"),
        (
            lambda: PyFuncBackend({}, "local").predict("m", None, None, "xml"),
            "Invalid content_type 'xml'",
        ),
        (
            lambda: PyFuncBackend({}, "local").generate_dockerfile("m", "d", install_java=True),
            "install_java",
        ),
        (
            lambda: PyFuncBackend({}, "uv").serve("m", 1, "h", 1, model_config={"a": 1}),
            "model_config",
        ),
    ],
)
def test_bad_arguments_are_refused(call: Any, match: str) -> None:
    with pytest.raises(mltrail.exceptions.MlflowException, match=match) as info:
        call()
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_model_without_python_function_has_no_backend(tmp_path: Path) -> None:
    mltrail.models.Model(flavors={"other": {}}).save(tmp_path / "MLmodel")
    with pytest.raises(mltrail.exceptions.MlflowException, match="No suitable flavor backend"):
        get_flavor_backend(str(tmp_path), env_manager="local")
