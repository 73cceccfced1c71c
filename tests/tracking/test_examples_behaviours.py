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
