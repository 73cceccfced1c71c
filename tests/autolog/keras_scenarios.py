"""The same Keras 3 training, autologged by the real MLflow or by mltrail.

``python keras_scenarios.py mlflow|mltrail OUT.json`` (in a folder of its own, with
``KERAS_BACKEND=torch``) fits a tiny Dense model on NumPy arrays in a few configurations and
writes what each run recorded: params, metric histories, tags, artifacts, the model summary,
the run's dataset and model inputs and outputs, and the logged model (flavors, signature,
files, linked metrics).  One process per library: both cannot patch Keras at once.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import warnings
from typing import Any

import numpy as np
import yaml

mlflow: Any = None


def data() -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.linspace(-1, 1, 4) + 0.5).astype("float32").reshape(-1, 1)
    return x[:48], y[:48], x[48:], y[48:]


def fit(**fit_kwargs: Any) -> Any:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    x, y, xv, yv = data()
    model.fit(x, y, verbose=0, **{"validation_data": (xv, yv), **fit_kwargs})
    return model


def artifacts(client: Any, run_id: str, path: str | None = None) -> list[str]:
    found = []
    for f in client.list_artifacts(run_id, path):
        found += artifacts(client, run_id, f.path) if f.is_dir else [f.path]
    return found


def _model_files(model: Any) -> list[str]:
    local = mlflow.artifacts.download_artifacts(artifact_uri=model.artifact_location)
    return sorted(
        os.path.relpath(os.path.join(root, f), local)
        for root, _, files in os.walk(local)
        for f in files
    )


def record(run_id: str) -> dict[str, Any]:
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    paths = artifacts(client, run_id)
    texts = {}
    for path in paths:
        if path.endswith(".txt"):
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)
            with open(local) as f:
                texts[path] = f.read()
    models = [
        m for m in mlflow.search_logged_models(output_format="list") if m.source_run_id == run_id
    ]
    logged = []
    for model in models:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{model.artifact_location}/MLmodel"
        )
        with open(local) as f:
            mlmodel = yaml.safe_load(f)
        logged.append(
            {
                "name": model.name,
                "status": str(model.status),
                "flavors": sorted(mlmodel["flavors"]),
                "keras": {
                    k: v for k, v in mlmodel["flavors"]["keras"].items() if k != "keras_version"
                },
                "signature": mlmodel.get("signature"),
                "files": [f for f in _model_files(model) if not f.startswith("__")],
                "metrics": sorted({(m.key, m.step) for m in model.metrics or []}),
                "linked_to_inputs": [i.model_id for i in run.inputs.model_inputs]
                == [model.model_id],
                "outputs": [o.model_id for o in run.outputs.model_outputs] == [model.model_id],
            }
        )
    datasets = sorted(
        (
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "schema": d.dataset.schema,
                "profile": d.dataset.profile,
                "tags": sorted((t.key, t.value) for t in d.tags),
            }
            for d in run.inputs.dataset_inputs
        ),
        key=lambda d: d["tags"],
    )
    return {
        "status": run.info.status,
        "params": run.data.params,
        "metrics": {
            key: [(m.step, m.value) for m in client.get_metric_history(run_id, key)]
            for key in run.data.metrics
        },
        "tags": run.data.tags,
        "artifacts": sorted(paths),
        "texts": texts,
        "datasets": datasets,
        "models": logged,
    }


def main() -> None:
    global mlflow
    warnings.simplefilter("ignore")
    lib = sys.argv[1]
    mlflow = importlib.import_module(lib)
    importlib.import_module(f"{lib}.keras")
    if lib == "mlflow":
        from _mlflow_requirements import skip_requirement_inference

        skip_requirement_inference()
    mlflow.set_tracking_uri(f"sqlite:///{os.path.abspath('store.db')}")
    out: dict[str, Any] = {}

    mlflow.keras.autolog(registered_model_name="kmodel")
    fit(epochs=3, batch_size=16)
    out["plain"] = record(mlflow.last_active_run().info.run_id)
    out["plain"]["versions"] = len(mlflow.MlflowClient().search_model_versions("name='kmodel'"))

    mlflow.keras.autolog(log_every_epoch=False, log_every_n_steps=2, log_models=False)
    with mlflow.start_run() as run:
        fit(epochs=2, batch_size=8, shuffle=False)
    out["steps"] = record(run.info.run_id)

    mlflow.keras.autolog(disable=True)
    with mlflow.start_run() as run:
        fit(epochs=2, batch_size=16, callbacks=[mlflow.keras.MlflowCallback()])
    out["callback"] = record(run.info.run_id)

    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
