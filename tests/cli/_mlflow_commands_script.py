"""Scenario of tests/cli/test_cli_mlflow_commands.py, run as ``python
_mlflow_commands_script.py <mlflow|mltrail> <tracking uri> <summary.json>``: one experiment of
two finished runs, then the library's own CLI (``experiments csv|get``, ``runs create``)."""

import json
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
library, uri, summary = sys.argv[1], sys.argv[2], sys.argv[3]
if library == "mlflow":
    import mlflow

    command = [sys.executable, "-m", "mlflow"]
else:
    import mltrail as mlflow

    command = [sys.executable, "-c", "from mltrail.cli import main; main()"]
mlflow.set_tracking_uri(uri)
experiment = mlflow.set_experiment("csv-export")
for alpha, loss in (("0.1", 0.5), ("0.2", 0.25)):
    with mlflow.start_run(run_name="r" + alpha, tags={"team": "vision"}):
        mlflow.log_param("alpha", alpha)
        mlflow.log_metric("loss", loss)
env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
env.update(MLFLOW_TRACKING_URI=uri, MLTRAIL_TRACKING_URI=uri, MLFLOW_DISABLE_TELEMETRY="true")


def cli(*args):
    done = subprocess.run([*command, *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


out = {
    "csv": cli("experiments", "csv", "-x", experiment.experiment_id),
    "get": cli("experiments", "get", "-x", experiment.experiment_id),
    "get_json": json.loads(cli("experiments", "get", "-n", "csv-export", "--output", "json")),
    "created": json.loads(
        cli(
            "runs",
            "create",
            "--experiment-name",
            "csv-export",
            "--run-name",
            "made",
            "-t",
            "k=v",
            "--status",
            "failed",
            "--description",
            "by the CLI",
        )
    ),
}
created = mlflow.get_run(out["created"]["run_id"])
out["created_run"] = [
    created.info.status,
    created.info.run_name,
    created.data.tags.get("k"),
    created.data.tags.get("mlflow.note.content"),
]
with open(summary, "w", encoding="utf-8") as f:
    json.dump(out, f)
