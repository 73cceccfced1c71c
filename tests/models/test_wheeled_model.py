"""``mltrail.models.add_libraries_to_model``: MLflow's wheeled models.

The differential runs :mod:`tests.models._wheeled_scenario` under the real ``mlflow`` and
under ``mltrail as mlflow``: a registered custom model is re-logged with wheels of its
requirements (to the version's run, to the active run under another registered name, to a
given run), pip finding the wheels in a local folder only; the new versions' files,
``MLmodel``, requirements, ``conda.yaml``, runs, logged models and predictions are compared,
and so are the errors (a model already wheeled, a URI that is not a registered version, a pip
option outside MLflow's set, a wheel pip cannot find).  The other tests check that each
library's wheeled model is the other's: MLflow's loads in mltrail, and mltrail's wheels install
with pip from the model directory alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mltrail

sys.path.insert(0, str(Path(__file__).parents[1]))
from _differential import record_both

SCENARIO = Path(__file__).with_name("_wheeled_scenario.py")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wheeled")


@pytest.fixture(scope="module")
def recorded(root: Path) -> dict[str, Any]:
    return record_both(SCENARIO, root)


def test_wheeled_models_are_mlflows(recorded: dict[str, Any]) -> None:
    assert recorded["mltrail"] == recorded["mlflow"]


def test_the_recording_is_not_vacuous(recorded: dict[str, Any]) -> None:
    ours = recorded["mltrail"]
    assert ours["info"] == {"registered_model_version": 2, "model_uri_is_logged_model": True}
    second = ours["reg_2"]
    assert second["requirements"] == ["wheels/tinypkg-0.1-py3-none-any.whl"]
    assert second["original_requirements"] == ["tinypkg==0.1"]
    assert second["conda_pip"] == second["requirements"]
    assert "wheels/tinypkg-0.1-py3-none-any.whl" in second["files"]
    assert second["run"] == second["logged_model_source_run"] == "<first run>"
    assert second["artifact_path_is_new_model_wheels"]
    assert second["ids_are_new_model"]
    assert second["prediction"] == [2, 3]
    assert ours["wheeled_1"]["run"] == "<active run>"
    assert ours["reg_3_run"] == "<active run>"
    assert ours["versions"] == [["reg", 1], ["reg", 2], ["reg", 3], ["wheeled", 1]]
    assert {k: v["error_code"] for k, v in ours["errors"].items()} == {
        "already_wheeled": "BAD_REQUEST",
        "not_registered": "INTERNAL_ERROR",
        "bad_option": "INVALID_PARAMETER_VALUE",
        "no_wheel": "INTERNAL_ERROR",
    }


# Unpickling MLflow's model imports mlflow, whose PythonModel reads the predict type hints.
@pytest.mark.filterwarnings("ignore:.*Any type hint:UserWarning")
def test_mlflows_wheeled_model_loads_in_mltrail(recorded: dict[str, Any], root: Path) -> None:
    model = root / "mlflow" / "dl-reg-2"
    assert "wheels" in mltrail.models.Model.load(model).extra
    assert list(mltrail.pyfunc.load_model(str(model)).predict([5])) == [6]


def test_mltrails_wheels_install_from_the_model_alone(recorded: dict[str, Any], root: Path) -> None:
    model = root / "mltrail" / "dl-reg-2"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--no-deps",
            "--disable-pip-version-check",
            "-r",
            "requirements.txt",
        ],
        cwd=model,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Would install tinypkg-0.1" in done.stdout
