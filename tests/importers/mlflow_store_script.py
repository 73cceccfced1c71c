"""Run by the import tests with a real MLflow (3.x here, or 2.x in its own venv), never imported:

    python mlflow_store_script.py make TRACKING_URI OUT.json   # fill a store, then dump it
    python mlflow_store_script.py dump TRACKING_URI OUT.json   # dump what MLflow's client reads
    python mlflow_store_script.py more TRACKING_URI RUN_ID     # one more point and tag on a run

``make`` creates, through MLflow's own API: an experiment with tags, a deleted experiment with
a run, a parent run (params, tags, metrics of 100 steps, NaN and infinities, keys with ``/``, a
dataset input, an artifact), a nested child run, a deleted run, on MLflow 3 a logged model with
a metric linked to it and a dataset, and a registered model with versions (a description,
tags, an alias, a stage, a deleted version).  The dump is what ``MlflowClient`` reads back,
as JSON (NaN and infinities as JSON's NaN/Infinity).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, ViewType

MLFLOW_3 = int(mlflow.__version__.split(".")[0]) >= 3


def make(uri: str) -> None:
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp_id = client.create_experiment("exp-one", tags={"team": "vision", "note": "é ü"})
    gone_id = client.create_experiment("exp-gone")
    gone_run = client.create_run(gone_id, run_name="in-gone")
    client.log_param(gone_run.info.run_id, "p", "1")
    client.set_terminated(gone_run.info.run_id)
    client.delete_experiment(gone_id)

    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_name="parent", tags={"t1": "v1"}) as parent:
        run_id = parent.info.run_id
        mlflow.log_params({"lr": 0.1, "depth": 3, "opt/beta": "0.9"})
        mlflow.set_tag("mlflow.source.git.commit", "abc123")
        for step in range(100):
            mlflow.log_metric(
                "loss", 1.0 / (step + 1), step=step, timestamp=1_700_000_000_000 + step
            )
        for step, value in enumerate([math.nan, math.inf, -math.inf, -0.0, 1e-300]):
            mlflow.log_metric("special", value, step=step)
        mlflow.log_metric("nested/acc", 0.5, step=3)
        dataset = Dataset(
            name="train",
            digest="a27a57c9",
            source_type="s3",
            source='{"uri": "s3://bucket/data.csv"}',
            schema='{"mlflow_colspec": [{"type": "long", "name": "a"}]}',
            profile='{"num_rows": 2}',
        )
        client.log_inputs(
            run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])]
        )
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"a": 1}, "config.json")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_param("x", "y")
            mlflow.log_metric("m", 2.0)
        if MLFLOW_3:
            model_info = _log_model()
            mlflow.log_metric("val_acc", 0.93, step=7, model_id=model_info.model_id)
    with mlflow.start_run(run_name="doomed") as doomed:
        mlflow.log_param("k", "v")
    client.delete_run(doomed.info.run_id)

    client.create_registered_model("reg", tags={"domain": "vision"}, description="the model")
    first = client.create_model_version(
        "reg", f"runs:/{run_id}/model", run_id, tags={"mv": "t"}, description="first"
    )
    client.create_model_version("reg", f"runs:/{run_id}/model", run_id)
    third = client.create_model_version("reg", f"runs:/{run_id}/model", run_id)
    client.transition_model_version_stage("reg", first.version, "Production")
    client.set_registered_model_alias("reg", "champion", first.version)
    client.delete_model_version("reg", third.version)
    client.create_registered_model("other")
    print(json.dumps({"parent": run_id, "child": child.info.run_id}))


def _log_model() -> Any:
    import mlflow.pyfunc

    class Identity(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: Any, model_input: Any) -> Any:
            return model_input

    return mlflow.pyfunc.log_model(
        name="model",
        python_model=Identity(),
        registered_model_name="logged-reg",
        params={"p": "1"},
        pip_requirements=["mlflow"],
    )


def _history(client: MlflowClient, run_id: str, key: str) -> list[list[Any]] | None:
    try:
        points = client.get_metric_history(run_id, key)
    except Exception:  # the file store refuses deleted runs' histories
        return None
    return sorted([m.step, m.timestamp, m.value] for m in points)


def dump(uri: str) -> dict[str, Any]:
    client = MlflowClient(uri)
    experiments = client.search_experiments(view_type=ViewType.ALL)
    out: dict[str, Any] = {"mlflow_version": mlflow.__version__, "experiments": [], "runs": []}
    for e in experiments:
        out["experiments"].append(
            {
                "experiment_id": e.experiment_id,
                "name": e.name,
                "artifact_location": e.artifact_location,
                "lifecycle_stage": e.lifecycle_stage,
                "tags": dict(e.tags),
                "creation_time": getattr(e, "creation_time", None),
                "last_update_time": getattr(e, "last_update_time", None),
            }
        )
    ids = [e.experiment_id for e in experiments]
    for run in client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000):
        info = run.info
        entry: dict[str, Any] = {
            "run_id": info.run_id,
            "experiment_id": info.experiment_id,
            "run_name": info.run_name,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": info.artifact_uri,
            "lifecycle_stage": info.lifecycle_stage,
            "params": dict(run.data.params),
            "tags": dict(run.data.tags),
            "metrics": {k: _history(client, info.run_id, k) for k in run.data.metrics},
            "datasets": [
                {
                    "dataset": {
                        "name": d.dataset.name,
                        "digest": d.dataset.digest,
                        "source_type": d.dataset.source_type,
                        "source": d.dataset.source,
                        "schema": d.dataset.schema,
                        "profile": d.dataset.profile,
                    },
                    "tags": {t.key: t.value for t in d.tags},
                }
                for d in (run.inputs.dataset_inputs if run.inputs else [])
            ],
        }
        if MLFLOW_3:
            entry["outputs"] = [
                [m.model_id, m.step] for m in (run.outputs.model_outputs if run.outputs else [])
            ]
        out["runs"].append(entry)
    out["logged_models"] = []
    if MLFLOW_3:
        for m in client.search_logged_models(ids):
            out["logged_models"].append(
                {
                    "model_id": m.model_id,
                    "experiment_id": m.experiment_id,
                    "name": m.name,
                    "artifact_location": m.artifact_location,
                    "creation_timestamp": m.creation_timestamp,
                    "last_updated_timestamp": m.last_updated_timestamp,
                    "status": str(m.status),
                    "source_run_id": m.source_run_id,
                    "tags": dict(m.tags),
                    "params": dict(m.params),
                    "metrics": sorted(
                        [x.key, x.step, x.timestamp, x.value, x.dataset_name, x.dataset_digest]
                        for x in m.metrics or []
                    ),
                }
            )
    out["registered_models"] = []
    for rm in client.search_registered_models():
        versions = client.search_model_versions(f"name='{rm.name}'")
        out["registered_models"].append(
            {
                "name": rm.name,
                "description": rm.description,
                "creation_timestamp": rm.creation_timestamp,
                "last_updated_timestamp": rm.last_updated_timestamp,
                "tags": dict(rm.tags),
                "aliases": {a: int(v) for a, v in (rm.aliases or {}).items()},
                "versions": sorted(
                    (
                        {
                            "version": int(v.version),
                            "creation_timestamp": v.creation_timestamp,
                            "last_updated_timestamp": v.last_updated_timestamp,
                            "description": v.description,
                            "current_stage": v.current_stage,
                            "source": v.source,
                            "run_id": v.run_id,
                            "status": v.status,
                            "tags": dict(v.tags),
                        }
                        for v in versions
                    ),
                    key=lambda v: v["version"],
                ),
            }
        )
    return out


def more(uri: str, run_id: str) -> None:
    client = MlflowClient(uri)
    client.log_metric(run_id, "loss", 0.001, step=100)
    client.set_tag(run_id, "late", "yes")


if __name__ == "__main__":
    command, tracking_uri = sys.argv[1], sys.argv[2]
    if command == "more":
        more(tracking_uri, sys.argv[3])
    else:
        if command == "make":
            make(tracking_uri)
        with open(sys.argv[3], "w", encoding="utf-8") as stream:
            json.dump(dump(tracking_uri), stream)
