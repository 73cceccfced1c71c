"""What MLflow's example scripts (run by ``scripts/mlflow_examples.py``) rely on, checked side by
side with the real ``mlflow``: one scenario script of ours runs under both libraries
(:mod:`tests.tracking._examples_scenario`) and each part of its summary must agree."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
from _differential import record_both

SCENARIO = Path(__file__).with_name("_examples_scenario.py")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return record_both(SCENARIO, tmp_path_factory.mktemp("examples"))


def test_logged_model_to_dictionary_is_mlflows(recorded: dict[str, Any]) -> None:
    ours, theirs = recorded["mltrail"]["to_dictionary"], recorded["mlflow"]["to_dictionary"]
    assert ours == theirs
    # not vacuous: the flat form holds the model as logged
    assert ours["status"] == 2  # READY
    assert ours["params"] == {"alpha": "0.3"}
    assert ours["same_ids"] == [True, True, True]
    assert ours["metrics"] == [["mse", 0.25, 3]]
    assert "model_uri" not in ours["keys"]


def test_signature_of_a_sparse_matrix_is_mlflows(recorded: dict[str, Any]) -> None:
    ours, theirs = recorded["mltrail"]["sparse_signature"], recorded["mlflow"]["sparse_signature"]
    assert ours == theirs
    assert '"dtype": "float32", "shape": [-1, 3]' in ours["csr"]["inputs"]
    assert '"dtype": "float64", "shape": [-1, 3]' in ours["csc"]["inputs"]


def test_loaded_pyfunc_model_knows_its_logged_model(recorded: dict[str, Any]) -> None:
    assert recorded["mltrail"]["pyfunc_model_id"] is True
    assert recorded["mlflow"]["pyfunc_model_id"] is True


def test_model_version_params_and_metrics_read_as_mlflows(recorded: dict[str, Any]) -> None:
    ours, theirs = recorded["mltrail"]["model_version"], recorded["mlflow"]["model_version"]
    assert ours["params"] is theirs["params"] is None
    assert ours["metrics"] is theirs["metrics"] is None
    # mltrail keeps the version's model_id; MLflow 3.17's SQL registry does not store it
    # (its get_model_version gives None), so that part is not compared.
    assert ours["model_id"] is True


def test_client_downloads_a_logged_models_file_through_its_run(recorded: dict[str, Any]) -> None:
    ours, theirs = (
        recorded["mltrail"]["download_through_run"],
        recorded["mlflow"]["download_through_run"],
    )
    assert ours == theirs
    assert ours == {"tail": ["ridge", "requirements.txt"], "has_scikit_learn": True}


def test_requirement_and_constraint_files_in_pip_requirements(recorded: dict[str, Any]) -> None:
    ours, theirs = recorded["mltrail"]["requirement_files"], recorded["mlflow"]["requirement_files"]
    assert ours == theirs
    assert ours == {
        "requirements.txt": ["scikit-learn", "pandas", "numpy", "-c", "constraints.txt"],
        "constraints.txt": ["scipy<99"],
    }


def test_evaluation_dataset_hashes_are_mlflows(recorded: dict[str, Any]) -> None:
    """NumPy data, then a pandas frame with its own index: the same hashes as MLflow's."""
    ours, theirs = recorded["mltrail"], recorded["mlflow"]
    assert ours["evaluation_dataset_tag"] == theirs["evaluation_dataset_tag"]
    assert len(ours["evaluation_dataset_tag"]) == 2
    assert all(len(digest) == 32 for _, digest in ours["evaluation_dataset_tag"])
