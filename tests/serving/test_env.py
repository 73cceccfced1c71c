"""Environment managers: reading a model's environment, and real uv/virtualenv environments
built from PyPI, cached under an env root and reused (slow the first time only)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.serving.conftest import Models, child_env, cli_command, run_server

from mltrail._envs import (
    EnvironmentManager,
    PythonEnvironment,
    default_env_root,
    mltrail_requirements,
    read_model_environment,
)
from mltrail._envs._spec import overridden
from mltrail._exceptions import InvalidArgument, NotFound

IN_CI = os.environ.get("CI", "").lower() == "true"


def _write_model_env(folder: Path, python_env: str, requirements: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "python_env.yaml").write_text(python_env)
    (folder / "requirements.txt").write_text(requirements)
    return folder


def test_read_model_environment(tmp_path: Path) -> None:
    model = _write_model_env(
        tmp_path / "m",
        "python: 3.11.4\nbuild_dependencies:\n- pip==24.0\ndependencies:\n- -r requirements.txt\n",
        "# pins\nscikit-learn==1.5.0\nnumpy==1.26.4  # comment\n\nmltrail==0.1.0\n-r extra.txt\n",
    )
    (model / "extra.txt").write_text("scipy==1.13.0\n")
    env = read_model_environment(model)
    assert env.python == "3.11.4"
    assert env.python_minor == "3.11"
    assert env.build_dependencies == ("pip==24.0",)
    # mltrail itself is copied in from the running process, never installed from an index
    assert env.requirements == ("scikit-learn==1.5.0", "numpy==1.26.4", "scipy==1.13.0")


def test_requirements_files_must_stay_inside_the_model(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("evil==1\n")
    model = _write_model_env(
        tmp_path / "m", "python: 3.11\ndependencies:\n- -r ../secret.txt\n", ""
    )
    with pytest.raises(InvalidArgument, match="inside the model directory"):
        read_model_environment(model)


def test_models_without_python_env_use_this_python(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pandas\n")
    env = read_model_environment(tmp_path)
    assert env.python_minor == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert env.requirements == ("pandas",)
    assert env.notes
    bare = read_model_environment(tmp_path / "missing-files")
    assert bare.requirements == ()


def test_env_hash_depends_on_what_decides_the_content(tmp_path: Path) -> None:
    manager = EnvironmentManager("uv", tmp_path)
    a = PythonEnvironment("3.11.4", (), ("numpy==1.26.4", "pandas==2.2.0"))
    b = PythonEnvironment("3.11.4", (), ("pandas==2.2.0", "numpy==1.26.4"))
    c = PythonEnvironment("3.11.4", (), ("pandas==2.2.1", "numpy==1.26.4"))
    assert manager.env_hash(a, "3.11.7") == manager.env_hash(b, "3.11.7")
    assert manager.env_hash(a, "3.11.7") != manager.env_hash(c, "3.11.7")
    assert manager.env_hash(a, "3.11.7") != manager.env_hash(a, "3.12.1")
    assert EnvironmentManager("virtualenv", tmp_path).env_hash(a, "3.11.7") != manager.env_hash(
        a, "3.11.7"
    )


def test_an_override_replaces_the_models_requirements_of_the_same_packages() -> None:
    env = PythonEnvironment("3.11.4", ("pip",), ("numpy==1.26.4", "Scikit_Learn>=1.4", "six"))
    changed = overridden(env, ["scikit-learn==1.5.0", "requests==2.32.0", "mltrail==9"])
    # mltrail is still copied in, never installed from an index
    assert changed.requirements == (
        "numpy==1.26.4",
        "six",
        "scikit-learn==1.5.0",
        "requests==2.32.0",
    )
    assert changed.build_dependencies == ("pip",)
    manager = EnvironmentManager("uv", Path("/unused"))
    # an environment of its own: the model's cached one is left as it is
    assert manager.env_hash(changed, "3.11.7") != manager.env_hash(env, "3.11.7")


def test_a_missing_python_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"needs Python 2\.6.*--env-manager local"):
        EnvironmentManager("virtualenv", tmp_path).find_python("2.6.9")


def test_unknown_manager(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="'pip': expected virtualenv, uv or conda"):
        EnvironmentManager("pip", tmp_path)


def test_defaults() -> None:
    assert default_env_root().parts[-2:] == ("mltrail", "envs")
    names = {
        r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in mltrail_requirements()
    }
    assert {"pandas", "numpy", "starlette", "uvicorn"} <= names


# --- real environments --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def env_root() -> Path:
    """Environments persist across test runs (a rebuild costs a minute); CI builds them once."""
    root = Path(os.environ.get("MLTRAIL_TEST_ENV_ROOT") or default_env_root().parent / "test-envs")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def small_model(models: Models) -> Path:
    """The custom pyfunc model, with only what it needs to load as requirements."""
    return models.pyfunc_dir


def _predict_in_env(
    manager: str, model: Path, env_root: Path, tmp_path: Path, *options: str
) -> tuple[dict[str, object], str]:
    source = tmp_path / "in.json"
    source.write_text(
        json.dumps({"dataframe_records": [{"x": 1.5, "y": 1}], "params": {"factor": 2}})
    )
    proc = subprocess.run(
        cli_command(
            "models",
            "predict",
            "-m",
            str(model),
            "-i",
            str(source),
            "--env-manager",
            manager,
            "--env-root",
            str(env_root),
            *options,
        ),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=1200,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout), proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("manager", ["uv", "virtualenv"])
def test_predict_in_an_isolated_environment_built_once(
    manager: str, small_model: Path, env_root: Path, tmp_path: Path
) -> None:
    if manager == "uv":
        EnvironmentManager.uv_binary()  # NotFound fails the test: uv is a dev dependency
    result, _ = _predict_in_env(manager, small_model, env_root, tmp_path)
    assert result == {"predictions": [{"0": 4.0}]}
    again, stderr = _predict_in_env(manager, small_model, env_root, tmp_path)
    assert again == result
    assert f"Using the cached {manager} environment" in stderr
    envs = [p for p in env_root.iterdir() if p.name.startswith(f"{manager}-") and p.is_dir()]
    assert envs, list(env_root.iterdir())
    env_dir = max(envs, key=lambda p: p.stat().st_mtime)
    assert (env_dir / ".complete").exists()
    # mltrail runs from its copy inside the environment, not from this checkout
    probe = subprocess.run(
        [
            str(EnvironmentManager.env_python(env_dir)),
            "-I",
            "-c",
            "import mltrail, sklearn; print(mltrail.__file__)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode != 0  # scikit-learn is not in this model's environment
    where = subprocess.run(
        [
            str(EnvironmentManager.env_python(env_dir)),
            "-I",
            "-c",
            "import mltrail; print(mltrail.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(env_dir))


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_serve_from_a_uv_environment(small_model: Path, env_root: Path, tmp_path: Path) -> None:
    import psutil

    args = ["-m", str(small_model), "--env-manager", "uv", "--env-root", str(env_root)]
    with run_server(args, tmp_path, child_env(), timeout=1200) as server:
        response = httpx.post(
            server.url + "/invocations",
            json={"inputs": {"x": [1.0, 2.0], "y": [1, 1]}},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"predictions": [{"0": 2.0}, {"0": 3.0}]}
        bad = httpx.post(
            server.url + "/invocations", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert bad.status_code == 400
        children = psutil.Process(server.process.pid).children(recursive=True)
        assert any(str(env_root) in " ".join(c.cmdline()) for c in children)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_an_interrupted_build_is_rebuilt(small_model: Path, env_root: Path, tmp_path: Path) -> None:
    manager = EnvironmentManager("uv", env_root, echo=False)
    python = manager.prepare(small_model)
    env_dir = python.parent.parent
    (env_dir / ".complete").unlink()
    (env_dir / "half-built").write_text("x")
    again = manager.prepare(small_model)
    assert again == python
    assert (env_dir / ".complete").exists()
    assert not (env_dir / "half-built").exists()


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_predict_with_requirements_overridden(
    small_model: Path, env_root: Path, tmp_path: Path
) -> None:
    """``-r`` installs its requirements into an environment of its own (MLflow's
    ``pip_requirements_override``), and ``--env`` variables reach the model's process."""
    EnvironmentManager.uv_binary()
    result, stderr = _predict_in_env(
        "uv", small_model, env_root, tmp_path, "-r", "six==1.16.0", "--env", "MLTRAIL_X=1"
    )
    assert result == {"predictions": [{"0": 4.0}]}
    found = re.search(r"(?:uv environment for the model in|cached uv environment) (\S+)", stderr)
    assert found is not None, stderr
    env_dir = Path(found.group(1))
    marker = json.loads((env_dir / ".complete").read_text())
    assert "six==1.16.0" in marker["requirements"]
    probe = [str(EnvironmentManager.env_python(env_dir)), "-I", "-c"]
    version = subprocess.run(
        [*probe, "import six; print(six.__version__)"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == "1.16.0"
