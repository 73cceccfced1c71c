"""MLflow's fluent functions beyond runs, params and metrics, run as one script under the real
``mlflow`` and under ``import mltrail as mlflow``, each on a SQLite store of its own, and
compared by what each recorded: experiment tags set by keyword and deleted, a nested run's
parent, ``log_stream``, ``log_inputs`` (several datasets with contexts and tags),
``initialize_logged_model`` / ``last_logged_model`` / ``log_model_params`` / ``log_outputs``,
``delete_run`` then ``restore_run``, ``set_model_version_tag``, the two flushes, and the errors
of bad calls (error codes).

Each tool runs in its own subprocess (MLflow's module state and warnings stay out of this one).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mltrail as mlflow

SCRIPT = r"""
import io, json, sys, warnings
warnings.filterwarnings("ignore")
if sys.argv[1] == "mlflow":
    import mlflow
    from mlflow.entities import LoggedModelOutput
else:
    import mltrail as mlflow
    from mltrail.entities import LoggedModelOutput
import pandas as pd

mlflow.set_tracking_uri(sys.argv[2])
out = {}
exp = mlflow.set_experiment("surface")
mlflow.set_experiment_tag(key="team", value="vision")
mlflow.set_experiment_tags({"a": "1", "b": "2"})
mlflow.delete_experiment_tag("b")
tags = mlflow.get_experiment(exp.experiment_id).tags
out["experiment_tags"] = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}

def error_of(call):
    try:
        call()
    except Exception as exc:  # MLflow's MlflowException, mltrail's equivalent
        return getattr(exc, "error_code", type(exc).__name__)
    return None

with mlflow.start_run() as parent:
    with mlflow.start_run(nested=True) as child:
        mlflow.log_stream(io.BytesIO(b"x" * 300_000), "blobs/stream.bin")
    found = mlflow.get_parent_run(child.info.run_id)
    out["parent_of_child"] = found.info.run_id == parent.info.run_id
    out["parent_of_parent"] = mlflow.get_parent_run(parent.info.run_id)
    frame = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    train = mlflow.data.from_pandas(frame, name="train")
    test = mlflow.data.from_pandas(frame * 2, name="test")
    mlflow.log_inputs([train, test], ["training", "testing"], [{"k": "v"}, None])
    out["bad_log_inputs"] = error_of(lambda: mlflow.log_inputs([train], [], []))
    model = mlflow.initialize_logged_model(
        name="m", params={"alpha": "0.5"}, tags={"t": "v"}, model_type="agent"
    )
    out["model"] = {
        "name": model.name,
        "status": str(model.status).split(".")[-1],
        "model_type": model.model_type,
        "source_is_the_run": model.source_run_id == parent.info.run_id,
        "experiment": model.experiment_id == exp.experiment_id,
        "params": model.params,
    }
    out["last_is_it"] = mlflow.last_logged_model().model_id == model.model_id
    mlflow.log_model_params({"beta": "1"}, model_id=model.model_id)
    mlflow.log_outputs([LoggedModelOutput(model.model_id, 3)])
    mlflow.flush_async_logging()
    mlflow.flush_artifact_async_logging()

run = mlflow.get_run(parent.info.run_id)
out["inputs"] = sorted(
    [d.dataset.name, sorted([t.key, t.value] for t in d.tags)] for d in run.inputs.dataset_inputs
)
out["outputs"] = [[o.model_id == model.model_id, o.step] for o in run.outputs.model_outputs]
stored = mlflow.get_logged_model(model.model_id)
out["model_params"] = stored.params
out["model_tags"] = {k: v for k, v in stored.tags.items() if not k.startswith("mlflow.")}
out["model_context_tags"] = sorted(k for k in stored.tags if k.startswith("mlflow."))
mlflow.delete_run(child.info.run_id)
out["deleted"] = mlflow.get_run(child.info.run_id).info.lifecycle_stage
mlflow.restore_run(child.info.run_id)
out["restored"] = mlflow.get_run(child.info.run_id).info.lifecycle_stage
client = mlflow.MlflowClient()
out["stream"] = [[f.path, f.file_size] for f in client.list_artifacts(child.info.run_id, "blobs")]
client.create_registered_model("rm")
source = "runs:/" + parent.info.run_id + "/model"
version = client.create_model_version("rm", source, run_id=parent.info.run_id)
mlflow.set_model_version_tag("rm", version.version, key="stage", value="qa")
out["version_tags"] = client.get_model_version("rm", version.version).tags
out["tag_missing_key"] = error_of(lambda: mlflow.delete_experiment_tag("no-such-tag"))
print("RESULT " + json.dumps(out, sort_keys=True))
"""


def _run(tool: str, folder: Path) -> dict[str, Any]:
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, tool, f"sqlite:///{folder / 'store.db'}"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


@pytest.mark.slow
def test_the_same_script_records_the_same_under_mlflow_and_mltrail(tmp_path: Path) -> None:
    theirs = _run("mlflow", tmp_path / "mlflow")
    ours = _run("mltrail", tmp_path / "mltrail")
    # The one difference, on purpose: MLflow raises its bare MlflowException (INTERNAL_ERROR)
    # for log_inputs' lists of different lengths; mltrail says it is the caller's argument.
    assert (theirs.pop("bad_log_inputs"), ours.pop("bad_log_inputs")) == (
        "INTERNAL_ERROR",
        "INVALID_PARAMETER_VALUE",
    )
    assert ours == theirs
    # and the script did exercise what it claims
    assert ours["experiment_tags"] == {"team": "vision", "a": "1"}
    assert ours["parent_of_child"] is True
    assert ours["parent_of_parent"] is None
    assert ours["stream"] == [["blobs/stream.bin", 300_000]]
    assert ours["model"]["status"] == "PENDING"
    assert ours["model_params"] == {"alpha": "0.5", "beta": "1"}
    assert ours["outputs"] == [[True, 3]]
    assert (ours["deleted"], ours["restored"]) == ("deleted", "active")
    assert ours["version_tags"] == {"stage": "qa"}
    assert "mlflow.user" in ours["model_context_tags"]


def test_log_stream_refuses_text_and_leaves_nothing(sqlite_uri: str) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    with mlflow.start_run() as run:
        with pytest.raises(mlflow.MlflowException, match="binary mode"):
            mlflow.log_stream(io.StringIO("text"), "notes.txt")
        with pytest.raises(mlflow.MlflowException, match="artifact_file"):
            mlflow.log_stream(io.BytesIO(b"x"), "folder/")
    assert mlflow.MlflowClient().list_artifacts(run.info.run_id) == []


def test_log_model_params_needs_a_model(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    monkeypatch.delenv("MLFLOW_ACTIVE_MODEL_ID", raising=False)
    monkeypatch.delenv("MLTRAIL_ACTIVE_MODEL_ID", raising=False)
    with pytest.raises(mlflow.MlflowException, match="Missing model_id"):
        mlflow.log_model_params({"a": "1"})
    model = mlflow.initialize_logged_model(name="env-model")
    monkeypatch.setenv("MLFLOW_ACTIVE_MODEL_ID", model.model_id)
    mlflow.log_model_params({"a": "1"})
    assert mlflow.get_logged_model(model.model_id).params == {"a": "1"}
