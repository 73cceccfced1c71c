"""MLflow 3's logged models with the official mlflow client against a real ``mltrail server``.

``log_model`` creates a logged model (``models:/<model_id>``), uploads its files through the
artifact proxy below the model's own location, links it to the run and finalizes it;
autologging with its default arguments does the same after training; the model registers
and loads back by id and by version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests._live_server import ServerProcess
from tests.compat.conftest import MLFLOW_WARNINGS

pytestmark = [pytest.mark.filterwarnings(w) for w in MLFLOW_WARNINGS]

sklearn = pytest.importorskip("sklearn")


def _iris() -> tuple[object, object]:
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def test_log_model_and_load_it_back(mlflow_server: ServerProcess, tmp_path: Path) -> None:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    features, labels = _iris()
    mlflow.set_experiment("logged-models")
    with mlflow.start_run() as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("acc", 0.9, step=0)
        model = LogisticRegression(max_iter=300).fit(features, labels)
        info = mlflow.sklearn.log_model(model, name="model")
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.model_id.startswith("m-")

    client = MlflowClient()
    logged = client.get_logged_model(info.model_id)
    assert logged.name == "model"
    assert logged.source_run_id == run.info.run_id
    assert logged.experiment_id == run.info.experiment_id
    assert str(logged.status) in ("LoggedModelStatus.READY", "READY")
    assert logged.params["C"] == "1.0"
    assert [(m.key, m.value, m.step) for m in logged.metrics] == [("acc", 0.9, 0)]
    assert logged.artifact_location == (
        f"mlflow-artifacts:/{run.info.experiment_id}/models/{info.model_id}/artifacts"
    )
    stored = (
        tmp_path
        / "srv"
        / "mltrail-artifacts"
        / run.info.experiment_id
        / "models"
        / info.model_id
        / "artifacts"
    )
    assert (stored / "MLmodel").is_file()

    # The run's own history is unchanged by the copy of its metrics to the model.
    assert len(client.get_metric_history(run.info.run_id, "acc")) == 1
    got = client.get_run(run.info.run_id)
    assert [o.model_id for o in got.outputs.model_outputs] == [info.model_id]
    # ... and in search results, as MLflow's own store gives them
    (searched,) = client.search_runs([run.info.experiment_id])
    assert [o.model_id for o in searched.outputs.model_outputs] == [info.model_id]

    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert list(loaded.predict(features[:5])) == list(model.predict(features[:5]))
    # runs:/<run_id>/<name> resolves to the logged model too
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert list(by_run.predict(features[:3])) == list(model.predict(features[:3]))

    # mltrail loads what MLflow logged, by model id and through the run
    import mltrail

    mltrail.set_tracking_uri(mlflow_server.url)
    try:
        ours = mltrail.pyfunc.load_model(info.model_uri)
        assert list(ours.predict(features[:5])) == list(model.predict(features[:5]))
        ours_by_run = mltrail.sklearn.load_model(f"runs:/{run.info.run_id}/model")
        assert list(ours_by_run.predict(features[:5])) == list(model.predict(features[:5]))
    finally:
        mltrail.set_tracking_uri(None)

    found = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string="name = 'model' AND params.C = '1.0' AND metrics.acc > 0.5",
        output_format="list",
    )
    assert [m.model_id for m in found] == [info.model_id]
    files = [f.path for f in client.list_logged_model_artifacts(info.model_id)]
    assert "MLmodel" in files

    # Registering runs:/<run_id>/<name> finds the logged model (MLflow 3 resolves it by search)
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "from-run")
    assert client.get_model_version("from-run", version.version).source == info.model_uri
    from_registry = mlflow.pyfunc.load_model("models:/from-run/1")
    assert list(from_registry.predict(features[:3])) == list(model.predict(features[:3]))

    client.set_logged_model_tags(info.model_id, {"stage": "candidate"})
    assert client.get_logged_model(info.model_id).tags["stage"] == "candidate"
    client.delete_logged_model_tag(info.model_id, "stage")
    assert "stage" not in client.get_logged_model(info.model_id).tags


def test_catboost_models_through_a_server_both_ways(mlflow_server: ServerProcess) -> None:
    cb = pytest.importorskip("catboost")
    import mlflow
    import numpy as np

    import mltrail

    features, labels = _iris()
    model = cb.CatBoostClassifier(iterations=5, verbose=False, allow_writing_files=False)
    model.fit(features, labels)
    expected = model.predict_proba(features[:5])
    mlflow.set_experiment("catboost")
    with mlflow.start_run() as run:
        theirs = mlflow.catboost.log_model(model, name="theirs")
    mltrail.set_tracking_uri(mlflow_server.url)
    try:
        for uri in (theirs.model_uri, f"runs:/{run.info.run_id}/theirs"):
            native = mltrail.catboost.load_model(uri)
            np.testing.assert_allclose(native.predict_proba(features[:5]), expected)
        with mltrail.start_run(run_id=run.info.run_id):
            ours = mltrail.catboost.log_model(model, name="ours")
    finally:
        mltrail.set_tracking_uri(None)
    assert ours.model_uri == f"models:/{ours.model_id}"
    loaded = mlflow.pyfunc.load_model(ours.model_uri)
    np.testing.assert_array_equal(loaded.predict(features[:5]), model.predict(features[:5]))
    native = mlflow.catboost.load_model(ours.model_uri)
    np.testing.assert_allclose(native.predict_proba(features[:5]), expected)


def test_mltrail_and_mlflow_log_models_that_look_the_same(mlflow_server: ServerProcess) -> None:
    """The same model logged by each client into one run of one server: the API, the registry
    and the run show the two the same way (MLflow 3's logged models, sources models:/m-...)."""
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    import mltrail

    features, labels = _iris()
    model = LogisticRegression(max_iter=300).fit(features, labels)
    mlflow.set_experiment("side-by-side")
    with mlflow.start_run() as run:
        mlflow.log_param("C", "1.0")
        mlflow.log_metric("acc", 0.9, step=2)
    arguments = {
        "params": {"solver": "lbfgs"},
        "tags": {"team": "a"},
        "model_type": "classifier",
        "step": 2,
        "input_example": features[:2],
    }
    with mlflow.start_run(run_id=run.info.run_id):
        theirs = mlflow.sklearn.log_model(
            model, name="theirs", registered_model_name="Theirs", **arguments
        )
    mltrail.set_tracking_uri(mlflow_server.url)
    try:
        with mltrail.start_run(run_id=run.info.run_id):
            ours = mltrail.sklearn.log_model(
                model, name="ours", registered_model_name="Ours", **arguments
            )
    finally:
        mltrail.set_tracking_uri(None)

    client = MlflowClient()

    def seen(model_id: str, registered: str) -> dict[str, object]:
        logged = client.get_logged_model(model_id)
        version = client.get_model_version(registered, "1")
        return {
            "status": str(logged.status),
            "source_run_id": logged.source_run_id,
            "experiment_id": logged.experiment_id,
            "model_type": logged.model_type,
            "params": logged.params,
            # (MLflow looks for git beside the entry point, pytest's here; mltrail in the
            # working directory: the git tags are compared by the scenario differentials)
            "tags": sorted(
                k for k in logged.tags if not k.startswith(("mltrail.", "mlflow.source.git."))
            ),
            "user_tags": {k: v for k, v in logged.tags.items() if "." not in k},
            "metrics": [(m.key, m.value, m.step, m.run_id) for m in logged.metrics],
            "location": logged.artifact_location.replace(model_id, "<id>"),
            "files": sorted(f.path for f in client.list_logged_model_artifacts(model_id)),
            "version_source": version.source.replace(model_id, "<id>"),
            "version_run": version.run_id,
            "version_tags": version.tags,
        }

    assert seen(ours.model_id, "Ours") == seen(theirs.model_id, "Theirs")
    assert ours.model_uri == f"models:/{ours.model_id}"
    outputs = client.get_run(run.info.run_id).outputs.model_outputs
    assert sorted((o.model_id, o.step) for o in outputs) == sorted(
        [(ours.model_id, 2), (theirs.model_id, 2)]
    )
    assert client.list_artifacts(run.info.run_id) == []
    # Each client loads the other's model by id, by run path and by version.
    for uri in (theirs.model_uri, f"runs:/{run.info.run_id}/theirs", "models:/Theirs/1"):
        mltrail.set_tracking_uri(mlflow_server.url)
        try:
            got = mltrail.pyfunc.load_model(uri).predict(features[:4])
        finally:
            mltrail.set_tracking_uri(None)
        assert list(got) == list(model.predict(features[:4]))
    for uri in (ours.model_uri, f"runs:/{run.info.run_id}/ours", "models:/Ours/1"):
        assert list(mlflow.pyfunc.load_model(uri).predict(features[:4])) == list(
            model.predict(features[:4])
        )


def test_sklearn_autolog_logs_the_model(mlflow_server: ServerProcess) -> None:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    features, labels = _iris()
    mlflow.set_experiment("autolog-models")
    mlflow.sklearn.autolog()
    try:
        with mlflow.start_run() as run:
            LogisticRegression(max_iter=300).fit(features, labels)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = mlflow.get_run(run.info.run_id)
    assert got.data.params["max_iter"] == "300"
    assert got.data.metrics["training_accuracy_score"] > 0.9
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    outputs = got.outputs.model_outputs
    assert len(outputs) == 1
    model_id = outputs[0].model_id
    logged = MlflowClient().get_logged_model(model_id)
    assert logged.source_run_id == run.info.run_id
    assert logged.params["max_iter"] == "300"
    assert {m.key for m in logged.metrics} >= {"training_accuracy_score"}
    assert len(MlflowClient().get_metric_history(run.info.run_id, "training_accuracy_score")) == 1

    loaded = mlflow.pyfunc.load_model(f"models:/{model_id}")
    assert len(loaded.predict(features[:4])) == 4

    version = mlflow.register_model(f"models:/{model_id}", "autologged")
    assert version.version == "1" or version.version == 1
    stored = MlflowClient().get_model_version("autologged", "1")
    assert stored.source == f"models:/{model_id}"  # MLflow's client drops the model_id field
    assert stored.run_id == run.info.run_id  # the logged model's source run
    registered = mlflow.pyfunc.load_model("models:/autologged/1")
    assert list(registered.predict(features[:4])) == list(loaded.predict(features[:4]))


def test_logged_model_errors(mlflow_server: ServerProcess) -> None:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    with pytest.raises(MlflowException) as missing:
        client.get_logged_model("m-" + "0" * 32)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    eid = mlflow.create_experiment("lm-errors")
    with pytest.raises(MlflowException) as bad_name:
        client.create_logged_model(eid, name="a/b")
    assert bad_name.value.error_code == "INVALID_PARAMETER_VALUE"
    model = client.create_logged_model(eid, name="plain", params={"p": "1"})
    with pytest.raises(MlflowException) as changed:
        client.log_model_params(model.model_id, {"p": "2"})
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    client.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException):
        client.get_logged_model(model.model_id)
