"""Behaviours MLflow's example scripts rely on, run under the real ``mlflow`` and under
``mltrail as mlflow`` (see ``scripts/mlflow_examples.py``); our own code, not the examples'.

Called as ``python _examples_scenario.py <mlflow|mltrail> <tracking uri> <summary.json>``.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import numpy as np
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

with open(out, "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True, default=str)
