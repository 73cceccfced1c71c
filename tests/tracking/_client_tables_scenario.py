"""Scenario of tests/tracking/test_client_tables.py, run as ``python _client_tables_scenario.py
<mlflow|mltrail> <tracking uri> <summary.json>``: ``MlflowClient.log_table`` and ``load_table``
called the same way under both libraries, and what each returned, as JSON."""

from __future__ import annotations

import json
import logging
import sys
import warnings
from typing import Any

import pandas as pd

warnings.filterwarnings("ignore")

if sys.argv[1] == "mlflow":
    import mlflow
else:
    import mltrail as mlflow

mlflow.set_tracking_uri(sys.argv[2])
client = mlflow.MlflowClient()
experiment_id = client.create_experiment("tables")
other_experiment = client.create_experiment("elsewhere")
out: dict[str, Any] = {}
runs = [client.create_run(experiment_id, start_time=1000 + i) for i in range(3)]
ids = [run.info.run_id for run in runs]
names = {run_id: f"run{i}" for i, run_id in enumerate(ids)}


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


caught = Warnings()
logging.getLogger().addHandler(caught)
logging.getLogger("mlflow").addHandler(caught)  # MLflow's loggers do not propagate


def frame(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as records, run ids named by the run's creation order."""
    records = json.loads(table.to_json(orient="records"))
    for row in records:
        for key, value in row.items():
            if isinstance(value, str) and value in names:
                row[key] = names[value]
    return records


def error_of(call: Any) -> Any:
    try:
        call()
    except Exception as exc:  # MLflow's MlflowException, mltrail's MltrailError
        return getattr(exc, "error_code", type(exc).__name__)
    return None


client.log_table(ids[0], {"question": ["a", "b"], "score": [0.5, 1.0]}, "qa.json")
client.log_table(ids[0], pd.DataFrame({"question": ["c"], "score": [0.25]}), "qa.json")
client.log_table(ids[1], {"question": ["d"], "score": [2.0]}, "qa.json")
client.log_table(ids[1], {"run_id": ["mine"], "x": [1]}, "dir/clash.json")
out["tag"] = json.loads(client.get_run(ids[0]).data.tags["mlflow.loggedArtifacts"])
out["artifacts"] = sorted(f.path for f in client.list_artifacts(ids[0]))
out["all"] = frame(client.load_table(experiment_id, "qa.json", extra_columns=["run_id"]))
out["subset"] = frame(client.load_table(experiment_id, "qa.json", run_ids=[ids[0]]))
caught.messages.clear()
out["subset_with_a_run_without_it"] = frame(
    client.load_table(experiment_id, "qa.json", run_ids=[ids[0], ids[2]], extra_columns=["run_id"])
)
out["warned"] = [m for m in caught.messages if "Not all runs" in m]
out["clash"] = frame(client.load_table(experiment_id, "dir/clash.json", extra_columns=["run_id"]))
out["other_experiment"] = error_of(lambda: client.load_table(other_experiment, "qa.json"))
out["missing_table"] = error_of(lambda: client.load_table(experiment_id, "none.json"))
out["bad_name"] = error_of(lambda: client.log_table(ids[0], {"a": [1]}, "a,b.json"))
with open(sys.argv[3], "w", encoding="utf-8") as f:
    json.dump(out, f)
