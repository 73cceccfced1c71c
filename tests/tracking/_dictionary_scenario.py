"""Scenario of tests/tracking/test_entity_dictionaries.py, run as ``python _dictionary_scenario.py
<mlflow|mltrail> <tracking uri> <summary.json>``: a run with a param, a metric, a tag, a dataset
input and a logged model, and the dictionaries of its entities, as JSON."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import pandas as pd
from _plain_entities import plain  # this folder: the script's own

warnings.filterwarnings("ignore")

if sys.argv[1] == "mlflow":
    import mlflow
else:
    import mltrail as mlflow

mlflow.set_tracking_uri(sys.argv[2])
mlflow.set_experiment("dictionaries")


out: dict[str, Any] = {}
with mlflow.start_run(run_name="r") as active:
    out["active"] = plain(active.to_dictionary())
    mlflow.log_param("lr", "0.1")
    mlflow.log_metric("loss", 0.5, step=2)
    mlflow.set_tag("t", "v")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    mlflow.log_input(mlflow.data.from_pandas(frame, name="frame"), context="training")
    model = mlflow.initialize_logged_model(name="m", params={"alpha": "1"}, model_type="t")
    mlflow.finalize_logged_model(model.model_id, "READY")
    mlflow.log_outputs([mlflow.entities.LoggedModelOutput(model.model_id, 2)])
run = mlflow.get_run(active.info.run_id)
out["run"] = plain(run.to_dictionary())
out["experiment"] = plain(mlflow.get_experiment(run.info.experiment_id))
out["model"] = plain(mlflow.get_logged_model(model.model_id).to_dictionary())
with open(sys.argv[3], "w", encoding="utf-8") as f:
    json.dump(out, f, default=str)
