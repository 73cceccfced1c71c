"""One script, run under the real ``mlflow`` and under ``mltrail as mlflow``: MLflow 3's
``log_model`` (a logged model per call) in a run, at a step, registered, outside any run, and
into a model made beforehand with ``initialize_logged_model``.

Called as ``python _logged_model_scenario.py <mlflow|mltrail> <tracking uri> <summary.json>``;
the summary holds what each library recorded, with model and run ids replaced by names.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import numpy as np
from sklearn.linear_model import LinearRegression

library, uri, out = sys.argv[1:4]
mlflow: Any = importlib.import_module("mlflow" if library == "mlflow" else "mltrail")

mlflow.set_tracking_uri(uri)
mlflow.set_experiment("logged")
X = np.arange(20.0).reshape(-1, 2)
y = X[:, 0] * 2 + X[:, 1]
model = LinearRegression().fit(X, y)
client = mlflow.MlflowClient()
ids: dict[str, str] = {}


def named(value: Any) -> Any:
    """*value* with every model and run id replaced by its name in the scenario."""
    text = json.dumps(value, sort_keys=True, default=str)
    for name, identifier in ids.items():
        text = text.replace(identifier, f"<{name}>")
    return json.loads(text)


def described(info: Any) -> dict[str, Any]:
    """What ``log_model`` returned and what the store holds for the logged model."""
    logged = client.get_logged_model(info.model_id)
    files = sorted(f.path for f in client.list_logged_model_artifacts(info.model_id))
    local = mlflow.artifacts.download_artifacts(f"{logged.artifact_location}/MLmodel")
    import yaml

    with open(local) as f:
        mlmodel = yaml.safe_load(f)
    return {
        "info": {
            "model_uri": info.model_uri,
            "model_uuid": info.model_uuid,
            "run_id": info.run_id,
            "name": info.name,
            "params": info.params,
            "user_tags": {k: v for k, v in (info.tags or {}).items() if "." not in k},
            "tag_keys": sorted(info.tags or {}),
            "registered_model_version": info.registered_model_version,
            "artifact_path_tail": info.artifact_path.rsplit("/", 3)[-3:],
            "flavors": sorted(info.flavors),
        },
        "logged": {
            "name": logged.name,
            "status": str(getattr(logged.status, "name", logged.status)).replace(
                "LOGGED_MODEL_", ""
            ),
            "model_type": logged.model_type,
            "source_run_id": logged.source_run_id,
            "params": logged.params,
            "tag_keys": sorted(logged.tags),
            "metrics": sorted((m.key, m.value, m.step, m.run_id) for m in (logged.metrics or [])),
        },
        "files": files,
        "mlmodel": {
            key: mlmodel.get(key) for key in ("model_id", "model_uuid", "run_id", "signature")
        },
        "mlmodel_artifact_path_tail": mlmodel["artifact_path"].rsplit("/", 3)[-3:],
    }


summary: dict[str, Any] = {}
with mlflow.start_run() as run:
    ids["run"] = run.info.run_id
    mlflow.log_param("alpha", "0.5")
    mlflow.log_metric("rmse", 0.1, step=0)
    mlflow.log_metric("rmse", 0.05, step=1)
    mlflow.log_metric("mae", 0.2, step=1)
    first = mlflow.sklearn.log_model(
        model,
        name="regressor",
        params={"p": 1, "alpha": "given"},
        tags={"team": "a"},
        model_type="linear",
        step=1,
        registered_model_name="Regressor",
        input_example=X[:2],
    )
    ids["first"] = first.model_id
    second = mlflow.sklearn.log_model(model, name="plain")
    ids["second"] = second.model_id
summary["first"] = described(first)
summary["second"] = described(second)
finished = client.get_run(run.info.run_id)
summary["run"] = {
    "outputs": sorted((o.model_id, o.step) for o in finished.outputs.model_outputs),
    "artifacts": [f.path for f in client.list_artifacts(run.info.run_id)],
    "tag_keys": sorted(k for k in finished.data.tags if k != "mlflow.runName"),
    "rmse_history": sorted(
        (m.step, m.value) for m in client.get_metric_history(run.info.run_id, "rmse")
    ),
}
version = client.get_model_version("Regressor", "1")
summary["version"] = {
    "source": version.source,
    "run_id": version.run_id,
    "tags": version.tags,
    "status": str(version.status),
}
summary["registered_model_tags"] = client.get_logged_model(first.model_id).tags.get(
    "mlflow.modelVersions"
)
loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/regressor")
summary["runs_uri_prediction"] = [round(float(v), 6) for v in loaded.predict(X[:3])]
by_version = mlflow.sklearn.load_model("models:/Regressor/1")
summary["version_prediction"] = [round(float(v), 6) for v in by_version.predict(X[:3])]

free = mlflow.sklearn.log_model(model, name="free")
ids["free"] = free.model_id
summary["free"] = described(free)
summary["free_started_a_run"] = mlflow.active_run() is not None

made = mlflow.initialize_logged_model(name="prepared", model_type="made-first")
ids["prepared"] = made.model_id
into = mlflow.sklearn.log_model(model, name="ignored-name", model_id=made.model_id)
summary["into_existing"] = described(into)
summary["into_same_id"] = into.model_id == made.model_id
summary["last_logged_is_prepared"] = mlflow.last_logged_model().model_id == made.model_id
summary["experiment_models"] = sorted(
    m.name for m in mlflow.search_logged_models(output_format="list")
)


class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input


# A model's model_config becomes its run's params (nested keys joined with "/"), from a dict or
# a YAML file; any other file is a warning, as is a config key the run holds another value of.
config_runs: dict[str, Any] = {}
folder = os.path.dirname(os.path.abspath(out))
yaml_path = os.path.join(folder, "config.yaml")
with open(yaml_path, "w") as f:
    f.write("timeout: 30\nllm:\n  temperature: 0.1\n  stop: [a, b]\n")
text_path = os.path.join(folder, "config.txt")
with open(text_path, "w") as f:
    f.write("timeout: 30\n")
configs: dict[str, Any] = {
    "dict": {"timeout": 5, "llm": {"name": "m", "sampling": {"top_k": 3}}, "flag": True},
    "yaml": yaml_path,
    "text": text_path,
    "clash": {"timeout": 7, "retries": 2},
}
for label, config in configs.items():
    with mlflow.start_run() as config_run:
        ids[f"{label}_run"] = config_run.info.run_id
        if label == "clash":
            mlflow.log_param("timeout", "10")
        info = mlflow.pyfunc.log_model(name="echo", python_model=Echo(), model_config=config)
        ids[label] = info.model_id
    config_runs[label] = {
        "run_params": client.get_run(config_run.info.run_id).data.params,
        "model_params": client.get_logged_model(info.model_id).params,
        "status": str(client.get_logged_model(info.model_id).status).replace("LOGGED_MODEL_", ""),
    }
summary["model_config"] = config_runs

with open(out, "w") as f:
    json.dump(named(summary), f, sort_keys=True, indent=1)
print("done", os.getpid())
