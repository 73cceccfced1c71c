"""The same project run by the official ``mlflow run`` and by mltrail, both logging to an
mltrail tracking server (served in process); the command imports the official mlflow in
both cases, so it also shows an MLflow script logging into mltrail's run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests._live_server import ThreadedServer, clean_env
from tests.projects.conftest import git_init, write_files

import mltrail
from mltrail.tracking import MlflowClient

MLPROJECT = """\
name: parity
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.5}
      label: {type: string, default: plain}
    command: "python train.py {alpha} {label}"
"""

TRAIN = """\
import sys
import mlflow

with mlflow.start_run():
    mlflow.log_metric("alpha", float(sys.argv[1]))
    mlflow.set_tag("argv", " ".join(sys.argv[2:]))
"""

# What mltrail records beyond MLflow: the environment of a local run (MLflow writes none for
# --env-manager local) and the branch checked out (MLflow: only when -v names a branch).
MLTRAIL_EXTRAS = {"mlflow.project.env", "mlflow.source.git.branch"}


def test_mlflow_run_and_mltrail_run_record_the_same(
    tmp_path: Path, tracking_server: ThreadedServer
) -> None:
    repo = write_files(tmp_path / "repo", {"MLproject": MLPROJECT, "train.py": TRAIN})
    commit = git_init(repo, remote="https://example.com/org/parity.git")
    url = tracking_server.url
    command = ["run", str(repo), "--env-manager", "local", "--experiment-name", "by-mlflow"]
    official = subprocess.run(
        [sys.executable, "-m", "mlflow", *command, "-P", "alpha=0.3", "-P", "extra=1"],
        env=clean_env({"MLFLOW_TRACKING_URI": url}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert official.returncode == 0, official.stderr[-3000:]

    mltrail.set_tracking_uri(url)
    ours = mltrail.projects.run(
        str(repo),
        parameters={"alpha": "0.3", "extra": "1"},
        env_manager="local",
        experiment_name="by-mltrail",
    )
    client = MlflowClient(url)
    (theirs,) = client.search_runs(client.get_experiment_by_name("by-mlflow").experiment_id)
    mine = client.get_run(ours.run_id)

    assert mine.info.status == theirs.info.status == "FINISHED"
    assert (
        mine.data.params == theirs.data.params == {"alpha": "0.3", "label": "plain", "extra": "1"}
    )
    assert mine.data.metrics == theirs.data.metrics == {"alpha": 0.3}
    assert mine.data.tags["argv"] == theirs.data.tags["argv"] == "plain --extra 1"
    their_keys = {k for k in theirs.data.tags if k.startswith("mlflow.")}
    my_keys = {k for k in mine.data.tags if k.startswith("mlflow.")}
    assert their_keys <= my_keys
    assert my_keys - their_keys <= MLTRAIL_EXTRAS
    for key in their_keys - {"mlflow.runName"}:
        assert mine.data.tags[key] == theirs.data.tags[key], key
    assert mine.data.tags["mlflow.source.git.commit"] == commit
    assert mine.data.tags["mlflow.source.name"] == repo.as_uri()
