"""``pyfunc.update_signature_for_type_hint_from_example`` (MLflow's ``TypeFromExample``).

The differential runs :mod:`tests.models._example_form_scenario` under the real ``mlflow`` and
under ``mltrail as mlflow`` and compares what ``MLmodel`` records and what the loaded models'
``predict`` receives for inputs in several forms.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import mltrail
from mltrail.models import Model

sys.path.insert(0, str(Path(__file__).parents[1]))
from _differential import record_both

SCENARIO = Path(__file__).with_name("_example_form_scenario.py")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return record_both(SCENARIO, tmp_path_factory.mktemp("example-form"))


def test_models_receive_what_mlflow_hands_them(recorded: dict[str, Any]) -> None:
    assert recorded["mltrail"] == recorded["mlflow"]


def test_the_recording_is_not_vacuous(recorded: dict[str, Any]) -> None:
    ours = recorded["mltrail"]
    assert ours["list"] == {"marked": True, "received": ["list", '["x", "y", "z"]']}
    assert ours["records"]["received"][0] == "list"
    assert ours["frame"]["received"][0] == "DataFrame"
    assert ours["dict_not_marked"]["marked"] is False
    assert ours["no_example"][0] == "DataFrame"


def test_the_mark_round_trips_through_mlmodel(tmp_path: Path) -> None:
    signature = mltrail.models.infer_signature(pd.Series([1.0, 2.0], name="x"))
    mltrail.pyfunc.update_signature_for_type_hint_from_example(pd.Series([1.0]), signature)
    Model(signature=signature).save(tmp_path / "MLmodel")
    assert yaml.safe_load((tmp_path / "MLmodel").read_text())["type_hint_from_example"] is True
    again = Model.load(tmp_path / "MLmodel")
    assert again.signature is not None
    assert again.signature._is_type_hint_from_example


def test_other_examples_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    signature = mltrail.models.infer_signature({"a": 1})
    with caplog.at_level(logging.WARNING):
        mltrail.pyfunc.update_signature_for_type_hint_from_example({"a": 1}, signature)
    assert "TypeFromExample" in caplog.text
    assert "dict" in caplog.text
    assert signature._is_type_hint_from_example is False
