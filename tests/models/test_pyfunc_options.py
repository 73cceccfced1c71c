"""pyfunc.save_model/log_model's ``infer_code_paths``, ``streamable`` and uv options.

The differential runs one scenario (:mod:`tests.models._pyfunc_options_scenario`) under the
real ``mlflow`` and under ``mltrail as mlflow`` and compares what the saved models hold: the
inferred ``code/`` files, the flavor's ``code`` and ``streamable`` entries, the requirements
``uv export`` gave (with groups and extras, from ``infer_pip_requirements`` too,
auto-detected from the current directory, turned off, overridden by ``pip_requirements``),
the copied uv files and the error for ``infer_code_paths`` with ``code_paths``.  The other
tests pin what the scenario cannot see from inside one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import mltrail
from mltrail.exceptions import MlflowException

sys.path.insert(0, str(Path(__file__).parents[1]))
from _differential import record_both

SCENARIO = Path(__file__).with_name("_pyfunc_options_scenario.py")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return record_both(SCENARIO, tmp_path_factory.mktemp("pyfunc-options"))


def test_saved_models_hold_what_mlflow_saves(recorded: dict[str, Any]) -> None:
    assert recorded["mltrail"] == recorded["mlflow"]


def test_the_recording_is_not_vacuous(recorded: dict[str, Any]) -> None:
    ours = recorded["mltrail"]
    assert ours["inferred"]["files"] == [
        "code/helpers.py",
        "code/shop/__init__.py",
        "code/shop/model.py",
        "code/shop/pricing.py",
    ]
    assert ours["inferred"]["conf"] == {"code": "code", "streamable": False}
    assert ours["streamable"] == {
        "auto_streamer": True,
        "auto_plain": False,
        "forced": True,
        "loader": False,
    }
    assert ours["uv"]["requirements"][:3] == ["./libs/alpha", "./libs/beta", "./libs/gamma"]
    assert ours["uv"]["files"] == ["pyproject.toml", "uv.lock"]
    assert ours["uv"]["lock_copied"]
    assert ours["uv_plain"][0] == "./libs/alpha"
    assert "./libs/beta" not in ours["uv_plain"]
    assert ours["uv_given"]["requirements"] == ["cloudpickle"]
    assert ours["infer_pip_requirements"] == ["./libs/alpha", "./libs/beta"]
    assert "uv.lock" in ours["uv_auto"]["files"]
    assert not ours["uv_off"]["has_lock"]
    assert ours["infer_with_code_paths"]["error_code"] == "INTERNAL_ERROR"


class Plain(mltrail.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input


def test_inferred_code_loads_from_the_model_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copied modules are what a fresh interpreter elsewhere imports the model from."""
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "lib" / "__init__.py").write_text("")
    (project / "lib" / "scaler.py").write_text(
        textwrap.dedent(
            """
            import mltrail

            class Scaler(mltrail.pyfunc.PythonModel):
                def predict(self, context, model_input, params=None):
                    return [3 * v for v in model_input]
            """
        )
    )
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))
    from lib.scaler import Scaler  # type: ignore[import-not-found]

    mltrail.pyfunc.save_model(
        tmp_path / "m", python_model=Scaler(), infer_code_paths=True, pip_requirements=["x"]
    )
    assert (tmp_path / "m" / "code" / "lib" / "scaler.py").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "import mltrail; m = mltrail.pyfunc.load_model({!r}); print(m.predict([1, 2]))".format(
        str(tmp_path / "m")
    )
    env = {**os.environ, "MLTRAIL_ALLOW_PICKLE": "true"}
    env["PYTHONPATH"] = str(Path(mltrail.__file__).parents[1])
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == "[3, 6]", done.stderr


def test_nothing_local_imported_means_no_code_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Local(mltrail.pyfunc.PythonModel):  # pickled by value: loading imports no module
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input

    monkeypatch.chdir(tmp_path)
    model = mltrail.pyfunc.save_model(
        "m", python_model=Local(), infer_code_paths=True, pip_requirements=["x"]
    )
    assert model.flavors["python_function"]["code"] is None
    assert not (tmp_path / "m" / "code").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"streamable": "yes"}, "streamable"),
        ({"uv_groups": "lint"}, "uv_groups"),
        ({"uv_extras": [""]}, "uv_extras"),
        ({"uv_project_path": 3}, "uv_project_path"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(MlflowException, match=field) as info:
        mltrail.pyfunc.save_model(tmp_path / "m", python_model=Plain(), **kwargs)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_stale_lock_falls_back_to_inference(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``uv export --frozen`` refuses a lock file that does not match: MLflow's fallback."""
    project = tmp_path / "uvp"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0.1.0"\ndependencies = []\n'
    )
    (project / "uv.lock").write_text("this is not a lock file\n")
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=Plain(), uv_project_path=project)
    assert "uv export failed" in caplog.text
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("cloudpickle==") for r in requirements)
    assert (tmp_path / "m" / "uv.lock").is_file()  # copied as MLflow does


@pytest.fixture
def tracking(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    mltrail.set_tracking_uri(uri)
    return uri


def test_log_model_passes_the_options_and_refuses_prompts(tracking: str, tmp_path: Path) -> None:
    info = mltrail.pyfunc.log_model(
        name="m", python_model=Plain(), streamable=True, pip_requirements=["x"]
    )
    assert info.flavors["python_function"]["streamable"] is True
    with pytest.raises(MlflowException, match="prompts") as refused:
        mltrail.pyfunc.log_model(name="p", python_model=Plain(), prompts=["prompts:/a/1"])
    assert refused.value.error_code == "NOT_IMPLEMENTED"
