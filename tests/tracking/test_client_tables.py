"""``MlflowClient.log_table`` / ``load_table``, run under MLflow and under mltrail on the same
calls (:mod:`tests.tracking._client_tables_scenario`): the tables, the tag listing them and the
errors are the same."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from tests._differential import record_both

import mltrail

SCENARIO = Path(__file__).with_name("_client_tables_scenario.py")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("mlflow")
    pytest.importorskip("pandas")
    return record_both(SCENARIO, tmp_path_factory.mktemp("client-tables"))


@pytest.mark.slow
def test_client_tables_match_mlflows(recorded: dict[str, Any]) -> None:
    theirs, ours = dict(recorded["mlflow"]), dict(recorded["mltrail"])
    # A forbidden character in the file name: MLflow raises a bare ValueError, mltrail its
    # INVALID_PARAMETER_VALUE error naming the character (docs/api-compatibility.md).
    assert (theirs.pop("bad_name"), ours.pop("bad_name")) == (
        "ValueError",
        "INVALID_PARAMETER_VALUE",
    )
    assert ours == theirs


@pytest.mark.slow
def test_what_the_scenario_shows(recorded: dict[str, Any]) -> None:
    ours = recorded["mltrail"]
    assert ours["tag"] == [{"path": "qa.json", "type": "table"}]
    # newest run first, rows appended in order within a run
    assert [(r["question"], r["run_id"]) for r in ours["all"]] == [
        ("d", "run1"),
        ("a", "run0"),
        ("b", "run0"),
        ("c", "run0"),
    ]
    assert ours["warned"] != []
    assert ours["clash"] == [{"run_id": "mine", "x": 1, "run_id_": "run1"}]
    assert ours["other_experiment"] == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(mltrail.exceptions.InvalidArgument, match="forbidden character"):
        mltrail.MlflowClient().log_table("any", {"a": [1]}, "a,b.json")


def test_signatures_are_mlflows() -> None:
    mlflow = pytest.importorskip("mlflow")
    for name in ("log_table", "load_table"):
        theirs = inspect.signature(getattr(mlflow.MlflowClient, name)).parameters
        ours = inspect.signature(getattr(mltrail.MlflowClient, name)).parameters
        assert [(p.name, p.default) for p in ours.values()] == [
            (p.name, p.default) for p in theirs.values()
        ]


def test_the_fluent_and_the_client_forms_read_the_same_table(sqlite_uri: str) -> None:
    mltrail.set_tracking_uri(sqlite_uri)
    client = mltrail.MlflowClient()
    experiment_id = client.create_experiment("tables")
    mltrail.set_experiment(experiment_id=experiment_id)
    with mltrail.start_run() as run:
        mltrail.log_table({"a": [1, 2]}, "t.json")
    client.log_table(run.info.run_id, {"a": [3]}, "t.json")
    fluent = mltrail.load_table("t.json", extra_columns=["run_id"])
    through_client = client.load_table(experiment_id, "t.json", extra_columns=["run_id"])
    assert fluent.equals(through_client)
    assert fluent["a"].tolist() == [1, 2, 3]
