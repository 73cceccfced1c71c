"""Behaviours MLflow's example scripts rely on, run under the real ``mlflow`` and under
``mltrail as mlflow`` (see ``scripts/mlflow_examples.py``); our own code, not the examples'.

Called as ``python _examples_scenario.py <mlflow|mltrail> <tracking uri> <summary.json>``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.linear_model import Ridge

library, uri, out = sys.argv[1:4]
mlflow: Any = importlib.import_module("mlflow" if library == "mlflow" else "mltrail")
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("examples")

X = np.linspace(0.0, 1.0, 24).reshape(-1, 3)
y = X @ np.array([1.0, -2.0, 0.5])
summary: dict[str, Any] = {}

# A logged model read back as a flat dictionary (LoggedModel.to_dictionary).
with mlflow.start_run() as run:
    mlflow.log_metric("mse", 0.25, step=3)
    info = mlflow.sklearn.log_model(
        Ridge(alpha=0.3).fit(X, y), name="ridge", params={"alpha": 0.3}, step=3
    )
flat = mlflow.get_logged_model(info.model_id).to_dictionary()
summary["to_dictionary"] = {
    "keys": list(flat),
    "status": flat["status"],
    "name": flat["name"],
    "params": flat["params"],
    "model_type": flat["model_type"],
    "status_message": flat["status_message"],
    "same_ids": [
        flat["model_id"] == info.model_id,
        flat["source_run_id"] == run.info.run_id,
        flat["experiment_id"] == run.info.experiment_id,
    ],
    "user_tags": {
        k: v for k, v in flat["tags"].items() if not k.startswith(("mlflow.", "mltrail."))
    },
    "metrics": sorted((m.key, m.value, m.step) for m in flat["metrics"] or []),
    "types": {k: type(v).__name__ for k, v in flat.items() if k not in ("metrics", "model_type")},
}

# A signature inferred from a SciPy sparse matrix (what xgboost's DMatrix.get_data returns).
sparse = scipy.sparse.csr_matrix(X.astype(np.float32))
summary["sparse_signature"] = {
    "csr": mlflow.models.infer_signature(sparse, y).to_dict(),
    "csc": mlflow.models.infer_signature(scipy.sparse.csc_matrix(X)).to_dict(),
}

# The pyfunc model loaded from models:/<id> knows the logged model it came from.
loaded = mlflow.pyfunc.load_model(info.model_uri)
summary["pyfunc_model_id"] = loaded.model_id == info.model_id

# A model version made from a logged model; MLflow's registry keeps no params or metrics on it.
client = mlflow.MlflowClient()
client.create_registered_model("examples-model")
client.create_model_version("examples-model", info.model_uri, model_id=info.model_id)
version = client.get_model_version("examples-model", 1)
summary["model_version"] = {
    "model_id": version.model_id == info.model_id,
    "params": version.params,
    "metrics": version.metrics,
}

# A run's logged model's files, downloaded by the client through the run (MLflow 3 keeps them
# at the model's own location, not in the run's artifacts).
local = client.download_artifacts(run.info.run_id, "ridge/requirements.txt")
with open(local) as f:
    requirements = f.read()
summary["download_through_run"] = {
    "tail": local.replace(os.sep, "/").split("/")[-2:],
    "has_scikit_learn": "scikit-learn" in requirements,
}

# pip_requirements given as a list naming a requirements file (-r) and a constraints file (-c).
with open("more.requirements.txt", "w") as f:
    f.write("# extra\npandas\n-r nested.txt\n")
with open("nested.txt", "w") as f:
    f.write("numpy\n")
with open("pins.constraints.txt", "w") as f:
    f.write("scipy<99\n")
with mlflow.start_run() as run:
    listed = mlflow.sklearn.log_model(
        Ridge().fit(X, y),
        name="listed",
        pip_requirements=["scikit-learn", "-r more.requirements.txt", "-c pins.constraints.txt"],
    )
files = {}
location = mlflow.get_logged_model(listed.model_id).artifact_location
for name in ("requirements.txt", "constraints.txt"):
    with open(mlflow.artifacts.download_artifacts(f"{location}/{name}")) as f:
        # MLflow adds its own pin (mlflow==X) to a given list; mltrail adds none.
        files[name] = [w for w in f.read().split() if not w.startswith(("mlflow", "mltrail"))]
summary["requirement_files"] = files

# evaluate() on NumPy data: the mlflow.datasets run tag names the data by MLflow's hash.
with mlflow.start_run() as run:
    mlflow.evaluate(
        info.model_uri,
        X,
        targets=y,
        model_type="regressor",
        evaluators="default",
        feature_names=["a", "b", "c"],
        evaluator_config={"log_model_explainability": False},
    )
    frame = pd.DataFrame(X, columns=["a", "b", "c"], index=range(100, 100 + len(X)))
    mlflow.evaluate(
        info.model_uri,
        frame.assign(label=y),
        targets="label",
        model_type="regressor",
        evaluators="default",
        evaluator_config={"log_model_explainability": False},
    )
entries = json.loads(client.get_run(run.info.run_id).data.tags["mlflow.datasets"])
summary["evaluation_dataset_tag"] = [(e["name"], e["hash"]) for e in entries]

with open(out, "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True, default=str)
