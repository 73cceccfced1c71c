"""Entities' ``to_dictionary`` / ``from_dictionary``, differentially against MLflow's.

Each entity is built from the same values in both libraries: mltrail's dictionary must equal
MLflow's (``to_dictionary()`` where MLflow has one, else ``dict(entity)``, its attribute
pairs), and mltrail's ``from_dictionary`` must rebuild the entity from MLflow's dictionary.
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from tests._differential import record_both
from tests.tracking._plain_entities import plain

import mltrail.entities as ours
from mltrail.entities._logged_model import LoggedModelMetric
from mltrail.exceptions import InvalidArgument

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import mlflow.entities as theirs

SCENARIO = Path(__file__).with_name("_dictionary_scenario.py")


def mlflow_dictionary(entity: Any) -> dict[str, Any]:
    if hasattr(type(entity), "to_dictionary"):
        return dict(entity.to_dictionary())
    return dict(entity)


def pairs() -> list[tuple[Any, Any]]:
    """(mltrail entity, MLflow entity) built from the same values."""
    dataset = {"name": "d", "digest": "abc123", "source_type": "local", "source": '{"uri": "x"}'}
    ds_ours = ours.Dataset(**dataset, schema='{"a": 1}')
    ds_theirs = theirs.Dataset(**dataset, schema='{"a": 1}')
    di_ours = ours.DatasetInput(ds_ours, [ours.InputTag("mlflow.data.context", "train")])
    di_theirs = theirs.DatasetInput(ds_theirs, [theirs.InputTag("mlflow.data.context", "train")])
    info = {
        "run_id": "r1",
        "experiment_id": "3",
        "user_id": "ann",
        "status": "FINISHED",
        "start_time": 10,
        "end_time": 20,
        "lifecycle_stage": "active",
        "artifact_uri": "file:///a/r1/artifacts",
        "run_name": "brave-owl",
    }
    info_ours = ours.RunInfo(**info)
    info_theirs = theirs.RunInfo(**info)
    data_ours = ours.RunData(
        [ours.Metric("loss", 0.25, 5, 2)], [ours.Param("lr", "0.1")], [ours.RunTag("t", "v")]
    )
    data_theirs = theirs.RunData(
        [theirs.Metric("loss", 0.25, 5, 2)], [theirs.Param("lr", "0.1")], [theirs.RunTag("t", "v")]
    )
    inputs_ours = ours.RunInputs([di_ours], [ours.LoggedModelInput("m-1")])
    inputs_theirs = theirs.RunInputs([di_theirs], [theirs.LoggedModelInput("m-1")])
    outputs_ours = ours.RunOutputs([ours.LoggedModelOutput("m-2", 4)])
    outputs_theirs = theirs.RunOutputs([theirs.LoggedModelOutput("m-2", 4)])
    model = {
        "experiment_id": "3",
        "model_id": "m-2",
        "name": "clf",
        "artifact_location": "file:///a/models/m-2/artifacts",
        "creation_timestamp": 100,
        "last_updated_timestamp": 200,
        "model_type": "classifier",
        "source_run_id": "r1",
        "status_message": "ok",
        "tags": {"mlflow.user": "ann"},
        "params": {"alpha": "0.5"},
    }
    metric = {
        "key": "acc",
        "value": 0.9,
        "timestamp": 7,
        "step": 1,
        "run_id": "r1",
        "dataset_name": "d",
    }
    model_ours = ours.LoggedModel(
        **model,
        status="READY",
        metrics=[LoggedModelMetric(**metric, model_id="m-2", dataset_digest="abc123")],
    )
    model_theirs = theirs.LoggedModel(
        **model,
        status=theirs.LoggedModelStatus.READY,
        metrics=[theirs.Metric(**metric, model_id="m-2", dataset_digest="abc123")],
    )
    experiment = {
        "experiment_id": "3",
        "name": "exp",
        "artifact_location": "file:///a/3",
        "lifecycle_stage": "active",
        "creation_time": 1,
        "last_update_time": 2,
    }
    return [
        (ds_ours, ds_theirs),
        (ours.InputTag("k", "v"), theirs.InputTag("k", "v")),
        (di_ours, di_theirs),
        (info_ours, info_theirs),
        (data_ours, data_theirs),
        (inputs_ours, inputs_theirs),
        (outputs_ours, outputs_theirs),
        (
            ours.Run(info_ours, data_ours, inputs_ours, outputs_ours),
            theirs.Run(info_theirs, data_theirs, inputs_theirs, outputs_theirs),
        ),
        (model_ours, model_theirs),
        (ours.LoggedModelInput("m-1"), theirs.LoggedModelInput("m-1")),
        (ours.LoggedModelOutput("m-1", 3), theirs.LoggedModelOutput("m-1", 3)),
        (ours.LoggedModelParameter("a", "1"), theirs.LoggedModelParameter("a", "1")),
        (ours.LoggedModelTag("a", "1"), theirs.LoggedModelTag("a", "1")),
        (ours.Param("a", "1"), theirs.Param("a", "1")),
        (ours.RunTag("a", "1"), theirs.RunTag("a", "1")),
        (ours.ExperimentTag("a", "1"), theirs.ExperimentTag("a", "1")),
        (
            ours.Experiment(**experiment, tags={"note": "x"}),
            theirs.Experiment(**experiment, tags=[theirs.ExperimentTag("note", "x")]),
        ),
    ]


# MLflow's Experiment attributes mltrail leaves out (GenAI trace settings).
_EXPERIMENT_EXTRAS = ("trace_location", "effective_trace_archival_retention")


@pytest.mark.parametrize(("mine", "mlflows"), pairs(), ids=lambda e: type(e).__name__)
def test_dictionary_equals_mlflows(mine: Any, mlflows: Any) -> None:
    expected = mlflow_dictionary(mlflows)
    if isinstance(mlflows, theirs.Experiment):
        for extra in _EXPERIMENT_EXTRAS:
            expected.pop(extra)
    got = mine.to_dictionary()
    assert plain(got) == plain(expected)
    assert list(got) == list(expected) or sorted(got) == sorted(expected)


@pytest.mark.parametrize(("mine", "mlflows"), pairs(), ids=lambda e: type(e).__name__)
def test_from_mlflows_dictionary_round_trips(mine: Any, mlflows: Any) -> None:
    rebuilt = type(mine).from_dictionary(mlflow_dictionary(mlflows))
    assert type(rebuilt) is type(mine)
    assert rebuilt == mine
    assert type(mine).from_dictionary(mine.to_dictionary()) == mine


def test_entities_inside_dictionaries_are_entities_as_in_mlflow() -> None:
    """MLflow keeps a run's model inputs and a model's metrics as entities in the dictionary."""
    run_inputs = ours.RunInputs([], [ours.LoggedModelInput("m-1")])
    assert run_inputs.to_dictionary()["model_inputs"] == [ours.LoggedModelInput("m-1")]
    metric = LoggedModelMetric("acc", 0.5, 1, 0, "m-1")
    model = ours.LoggedModel("m-1", "0", "n", "file:///x", 1, 2, metrics=[metric])
    assert model.to_dictionary()["metrics"] == [ours.Metric("acc", 0.5, 1, 0, "m-1")]
    assert model.to_dictionary()["status"] == 1  # PENDING, as MLflow's to_int


def test_nan_metric_stays_a_float() -> None:
    data = ours.RunData([ours.Metric("loss", math.nan, 1, 0)])
    value = data.to_dictionary()["metrics"]["loss"]
    assert isinstance(value, float)
    assert math.isnan(value)
    mlflow_value = theirs.RunData([theirs.Metric("loss", math.nan, 1, 0)]).to_dictionary()
    assert math.isnan(mlflow_value["metrics"]["loss"])


def test_run_data_from_metric_entities_keeps_history_fields() -> None:
    data = ours.RunData.from_dictionary(
        {"metrics": [theirs.Metric("loss", 0.5, 9, 3)], "params": [{"key": "a", "value": "1"}]}
    )
    assert data.metrics == {"loss": 0.5}
    assert data.params == {"a": "1"}
    assert data.to_dict()["metrics"] == [{"key": "loss", "value": 0.5, "timestamp": 9, "step": 3}]


def test_bad_dictionaries_name_the_entity_and_the_keys() -> None:
    with pytest.raises(InvalidArgument, match=r"RunInfo.from_dictionary: expected a RunInfo"):
        ours.Run.from_dictionary({"info": 5, "data": {}})
    with pytest.raises(
        InvalidArgument, match=r"Dataset.from_dictionary: the dictionary lacks digest \(it needs"
    ):
        ours.Dataset.from_dictionary({"name": "d", "source_type": "local", "source": "x"})
    with pytest.raises(InvalidArgument, match=r"Run.from_dictionary: the dictionary lacks data"):
        ours.Run.from_dictionary({"info": {}})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return record_both(SCENARIO, tmp_path_factory.mktemp("dictionaries"))


# Values that differ between any two runs: ids, times, paths, the user.
_PER_RUN = ("run_id", "experiment_id", "start_time", "end_time", "artifact_uri", "user_id")


def _without_per_run(run: dict[str, Any]) -> dict[str, Any]:
    run = copy.deepcopy(run)
    """The run's dictionary without per-run values; of the tags, the names of MLflow's system
    tags (their values are the machine's; mltrail adds ``mltrail.*`` tags of its own)."""
    info = {k: v for k, v in run["info"].items() if k not in _PER_RUN}
    tags = sorted(k for k in run["data"]["tags"] if not k.startswith("mltrail."))
    return {**run, "info": info, "data": {**run["data"], "tags": tags}}


@pytest.mark.slow
def test_recorded_run_dictionaries_match_mlflows(recorded: dict[str, Any]) -> None:
    """A run recorded by each library (param, metric, tag, dataset input, logged model output):
    the active run's dictionary, and the fetched run's, are shaped and filled as MLflow's."""
    mine, expected = recorded["mltrail"], recorded["mlflow"]
    # MLflow's SQL store hands start_run a run without outputs (None, so no "outputs" key);
    # through its REST client, as for every fetched run, a run always has them.
    assert "outputs" not in expected["active"]
    assert mine["active"].pop("outputs") == {"model_outputs": []}
    assert _without_per_run(mine["active"]) == _without_per_run(expected["active"])
    ours_run, their_run = _without_per_run(mine["run"]), _without_per_run(expected["run"])
    for run in (ours_run, their_run):
        for output in run["outputs"]["model_outputs"]:
            output.pop("model_id")
        # A dataset's digest is mltrail's own hash (docs/evaluation.md).
        for dataset_input in run["inputs"]["dataset_inputs"]:
            assert len(dataset_input["dataset"].pop("digest")) == 8
    assert ours_run == their_run
    assert ours.Run.from_dictionary(mine["run"]).to_dictionary()["info"] == mine["run"]["info"]


@pytest.mark.slow
def test_recorded_experiment_and_model_dictionaries_match_mlflows(
    recorded: dict[str, Any],
) -> None:
    mine, expected = recorded["mltrail"], recorded["mlflow"]
    per_experiment = ("experiment_id", "artifact_location", "creation_time", "last_update_time")
    for extra in (*_EXPERIMENT_EXTRAS, *per_experiment):
        expected["experiment"].pop(extra)
        mine["experiment"].pop(extra, None)
    assert mine["experiment"] == expected["experiment"]
    per_model = ("experiment_id", "model_id", "artifact_location", "source_run_id")
    times = ("creation_timestamp", "last_updated_timestamp")
    for model in (mine["model"], expected["model"]):
        for key in (*per_model, *times):
            model.pop(key)
        model["tags"] = sorted(model["tags"])
    # A model without metrics: MLflow's SQL store says None, its REST client (as mltrail) [].
    assert (mine["model"].pop("metrics"), expected["model"].pop("metrics")) == ([], None)
    assert mine["model"] == expected["model"]
    assert mine["model"]["status"] == 2
