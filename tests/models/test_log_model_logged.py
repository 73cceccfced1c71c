"""Every flavor's ``log_model`` is MLflow 3's: a logged model per call (``models:/m-...``).

The differential runs one script under the real ``mlflow`` and under ``mltrail as mlflow``
(:mod:`tests.models._logged_model_scenario`) and compares what each recorded: the logged
models (names, params, tags, type, status, linked metrics, files, ``MLmodel``), the run's
outputs and artifacts, the registered version and what the URIs load.  The other tests pin
mltrail's own guarantees: a failed save leaves a FAILED model, bad arguments are refused
before anything is written, and models logged the old way (into the run's artifacts) still
load.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import mltrail
from mltrail.exceptions import MlflowException

sys.path.insert(0, str(Path(__file__).parents[1]))
from _differential import record_both

SCENARIO = Path(__file__).with_name("_logged_model_scenario.py")


def _comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with mltrail's own extra run tag (``mltrail.source.git.dirty``) left out
    and the run's outputs in one order."""
    out = json.loads(json.dumps(summary))
    out["run"]["tag_keys"] = [k for k in out["run"]["tag_keys"] if not k.startswith("mltrail.")]
    out["run"]["outputs"] = sorted(out["run"]["outputs"])
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return record_both(SCENARIO, tmp_path_factory.mktemp("logged-models"))


def test_log_model_records_what_mlflow_3_records(recorded: dict[str, Any]) -> None:
    ours, theirs = _comparable(recorded["mltrail"]), _comparable(recorded["mlflow"])
    assert ours == theirs


def test_the_recording_is_mlflow_3s_layout(recorded: dict[str, Any]) -> None:
    """What the two agree on is MLflow 3's shape (so the comparison above is not vacuous)."""
    ours = recorded["mltrail"]
    first = ours["first"]
    assert first["info"]["model_uri"] == "models:/<first>"
    assert first["info"]["model_uuid"] == "<first>"
    assert first["info"]["artifact_path_tail"] == ["models", "<first>", "artifacts"]
    assert first["info"]["params"] == {"alpha": "0.5", "p": "1"}  # the run's value wins
    assert first["info"]["user_tags"] == {"team": "a"}
    assert first["info"]["registered_model_version"] == 1
    assert first["logged"]["status"] == "READY"
    assert first["logged"]["model_type"] == "linear"
    assert first["logged"]["source_run_id"] == "<run>"
    # The run's values at the model's step (1) are linked to it; step 0's are not.
    assert first["logged"]["metrics"] == [["mae", 0.2, 1, "<run>"], ["rmse", 0.05, 1, "<run>"]]
    assert "MLmodel" in first["files"]
    assert "model.skops" in first["files"]
    assert first["mlmodel"]["model_id"] == "<first>"
    assert sorted(ours["run"]["outputs"]) == [["<first>", 1], ["<second>", 0]]
    assert ours["run"]["artifacts"] == []  # the files are the model's, not the run's
    assert "mlflow.log-model.history" not in ours["run"]["tag_keys"]
    assert ours["run"]["rmse_history"] == [[0, 0.1], [1, 0.05]]  # linking adds no point
    assert ours["version"]["source"] == "models:/<first>"
    assert ours["version"]["run_id"] == "<run>"
    assert ours["version"]["tags"] == {"team": "a"}
    assert ours["registered_model_tags"] == '[{"name": "Regressor", "version": 1}]'
    assert ours["runs_uri_prediction"] == ours["version_prediction"]
    assert ours["free"]["info"]["run_id"] is None
    assert ours["free"]["logged"]["source_run_id"] is None
    assert ours["free_started_a_run"] is False
    assert ours["into_same_id"] is True
    assert ours["into_existing"]["logged"]["name"] == "prepared"
    assert ours["into_existing"]["logged"]["status"] == "READY"
    assert ours["last_logged_is_prepared"] is True
    assert ours["experiment_models"] == ["free", "plain", "prepared", "regressor"]
    configs = ours["model_config"]
    assert configs["dict"]["run_params"] == {
        "timeout": "5",
        "llm/name": "m",
        "llm/sampling/top_k": "3",
        "flag": "True",
    }
    assert configs["dict"]["model_params"] == {}  # the run had none when the model was made
    assert configs["yaml"]["run_params"] == {
        "timeout": "30",
        "llm/temperature": "0.1",
        "llm/stop": "['a', 'b']",
    }
    assert configs["text"]["run_params"] == {}  # not a JSON or YAML file: a warning only
    # A key the run already holds with another value: a warning, the model is logged anyway.
    assert configs["clash"]["run_params"] == {"timeout": "10"}
    assert configs["clash"]["model_params"] == {"timeout": "10"}
    assert {c["status"] for c in configs.values()} == {"READY"}


@pytest.fixture
def store(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    mltrail.set_tracking_uri(uri)
    return uri


@pytest.fixture
def model() -> LinearRegression:
    X = np.arange(10.0).reshape(-1, 1)
    return LinearRegression().fit(X, X[:, 0] * 3)


def test_a_failed_save_leaves_a_failed_model_and_no_files(
    store: str, model: LinearRegression, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mltrail.sklearn._flavor as flavor

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(flavor, "dump_estimator", broken)
    with mltrail.start_run() as run, pytest.raises(OSError, match="disk full"):
        mltrail.sklearn.log_model(model, name="broken")
    client = mltrail.MlflowClient()
    (logged,) = client.search_logged_models([run.info.experiment_id])
    assert logged.name == "broken"
    assert logged.status == "FAILED"
    assert client.list_logged_model_artifacts(logged.model_id) == []
    assert client.get_run(run.info.run_id).outputs.model_outputs[0].model_id == logged.model_id


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"params": ["a"]}, "Invalid params"),
        ({"tags": "team=a"}, "Invalid tags"),
        ({"step": "1"}, "Invalid step"),
        ({"model_type": 3}, "Invalid model_type"),
        ({"model_id": "not-a-model"}, "model"),
    ],
)
def test_bad_logged_model_arguments_are_refused_before_anything_is_written(
    store: str, model: LinearRegression, arguments: dict[str, Any], message: str
) -> None:
    with mltrail.start_run() as run, pytest.raises(MlflowException, match=message):
        mltrail.sklearn.log_model(model, name="m", **arguments)
    client = mltrail.MlflowClient()
    assert client.search_logged_models([run.info.experiment_id]) == []
    assert client.get_run(run.info.run_id).outputs.model_outputs == []


def test_models_logged_into_run_artifacts_still_load(
    store: str, model: LinearRegression, tmp_path: Path
) -> None:
    """A store from before logged models: the model's files below the run's artifacts."""
    saved = tmp_path / "saved"
    mltrail.sklearn.save_model(model, saved)
    with mltrail.start_run() as run:
        mltrail.log_artifacts(str(saved), "old-model")
    uri = f"runs:/{run.info.run_id}/old-model"
    X = np.arange(3.0).reshape(-1, 1)
    np.testing.assert_allclose(
        mltrail.sklearn.load_model(uri).predict(X), [0.0, 3.0, 6.0], atol=1e-9
    )
    np.testing.assert_allclose(
        mltrail.pyfunc.load_model(uri).predict(X), [0.0, 3.0, 6.0], atol=1e-9
    )
    version = mltrail.register_model(uri, "Old")
    assert version.source.endswith("/old-model")
    loaded = mltrail.sklearn.load_model("models:/Old/1")
    np.testing.assert_allclose(loaded.predict(X), [0.0, 3.0, 6.0], atol=1e-9)


def test_extra_files_go_into_every_flavor_entry(
    store: str, model: LinearRegression, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("trained on the toy set")
    info = mltrail.sklearn.log_model(model, name="with-notes", extra_files=[str(notes)])
    assert info.flavors["sklearn"]["extra_files"] == [{"path": "extra_files/notes.txt"}]
    client = mltrail.MlflowClient()
    listed = client.list_logged_model_artifacts(info.model_id, "extra_files")
    assert [f.path for f in listed] == ["extra_files/notes.txt"]


def test_model_log_takes_a_flavor_module(store: str, model: LinearRegression) -> None:
    """``Model.log(name=, flavor=, **save_model arguments)``, as MLflow's flavors call it."""
    with mltrail.start_run() as run:
        info = mltrail.models.Model.log(
            name="via-model-log",
            flavor=mltrail.sklearn,
            sk_model=model,
            metadata={"owner": "team-a"},
            resources={"api_version": "1", "databricks": {}},
            tags={"k": "v"},
        )
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    assert info.metadata == {"owner": "team-a"}
    assert info.tags is not None
    assert info.tags["k"] == "v"
    saved = mltrail.models.Model.load(info.model_uri)
    assert saved.extra["resources"] == {"api_version": "1", "databricks": {}}
    assert saved.model_id == info.model_id
    X = np.arange(3.0).reshape(-1, 1)
    np.testing.assert_allclose(
        mltrail.pyfunc.load_model(info.model_uri).predict(X), [0.0, 3.0, 6.0], atol=1e-9
    )
    with pytest.raises(MlflowException, match="save_model"):
        mltrail.models.Model.log(name="x", flavor=object())
    with pytest.raises(MlflowException, match="Only one of resources and auth_policy"):
        mltrail.models.Model.log(
            name="x", flavor=mltrail.sklearn, sk_model=model, resources={}, auth_policy={}
        )
