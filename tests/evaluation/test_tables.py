"""``log_table`` and ``load_table``: MLflow's JSON table format and ``mlflow.loggedArtifacts``
tag, read and written by both tools (MLflow's client in a subprocess, against an mltrail
server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import mltrail
from mltrail.exceptions import InvalidArgument, NotFound

TABLE = {"inputs": ["What is MLflow?", "What is mltrail?"], "score": [0.5, 1.0], "n": [1, 2]}


def test_a_table_round_trips_and_is_tagged(store: str) -> None:
    with mltrail.start_run() as run:
        mltrail.log_table(TABLE, artifact_file="tables/qa.json")
    local = mltrail.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="tables/qa.json"
    )
    stored = json.loads(Path(local).read_text())
    assert stored == {
        "columns": ["inputs", "score", "n"],
        "data": [["What is MLflow?", 0.5, 1], ["What is mltrail?", 1.0, 2]],
    }
    tag = mltrail.get_run(run.info.run_id).data.tags["mlflow.loggedArtifacts"]
    assert tag == '[{"path": "tables/qa.json", "type": "table"}]'
    loaded = mltrail.load_table("tables/qa.json", run_ids=[run.info.run_id])
    pd.testing.assert_frame_equal(loaded, pd.DataFrame(TABLE))


def test_logging_again_appends_rows_and_load_joins_runs(store: str) -> None:
    ids = []
    for _ in range(2):
        with mltrail.start_run() as run:
            mltrail.log_table(pd.DataFrame(TABLE), "qa.json")
            ids.append(run.info.run_id)
    mltrail.log_table({"inputs": "more?", "score": 0.0, "n": 3}, "qa.json", run_id=ids[0])
    tag = mltrail.get_run(ids[0]).data.tags["mlflow.loggedArtifacts"]
    assert json.loads(tag) == [{"path": "qa.json", "type": "table"}]  # listed once
    first = mltrail.load_table("qa.json", run_ids=[ids[0]], extra_columns=["run_id"])
    assert list(first["n"]) == [1, 2, 3]
    assert set(first["run_id"]) == {ids[0]}
    everything = mltrail.load_table("qa.json", extra_columns=["run_id", "status"])
    assert len(everything) == 5
    assert set(everything["run_id"]) == set(ids)
    assert set(everything["status"]) == {"FINISHED"}
    mltrail.log_table({"run_id": ["mine"]}, "named.json", run_id=ids[1])
    named = mltrail.load_table("named.json", extra_columns=["run_id"])
    # a table column of the same name keeps its values; the run's goes to "run_id_"
    assert named.to_dict("list") == {"run_id": ["mine"], "run_id_": [ids[1]]}
    with pytest.raises(InvalidArgument, match="extra column 'inputs'"):
        mltrail.load_table("qa.json", extra_columns=["inputs"])


@pytest.mark.parametrize(
    ("artifact_file", "rule"),
    [("table.csv", "must end in '.json'"), ("a,b.json", "forbidden character ','"), ("", "")],
)
def test_bad_file_names_are_refused(store: str, artifact_file: str, rule: str) -> None:
    with mltrail.start_run() as run:
        with pytest.raises(InvalidArgument, match="Invalid artifact_file") as error:
            mltrail.log_table(TABLE, artifact_file)
        assert rule in str(error.value)
    assert mltrail.MlflowClient().list_artifacts(run.info.run_id) == []


def test_bad_data_and_missing_tables(store: str) -> None:
    with mltrail.start_run(), pytest.raises(InvalidArgument, match="DataFrame or a dictionary"):
        mltrail.log_table([1, 2], "t.json")  # type: ignore[arg-type]
    with pytest.raises(NotFound, match=r"No runs found with the table artifact 'nothing\.json'"):
        mltrail.load_table("nothing.json")


_MLFLOW_SIDE = """
import sys, json
import mlflow, pandas as pd
mlflow.set_tracking_uri(sys.argv[1])
theirs = mlflow.load_table("ours.json", run_ids=[sys.argv[2]], extra_columns=["run_id"])
with mlflow.start_run() as run:
    mlflow.log_table(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), "theirs.json")
print(json.dumps({"run_id": run.info.run_id, "read": theirs.to_dict("list")}))
"""


def test_mlflow_reads_our_tables_and_we_read_its(tracking_server: object) -> None:
    pytest.importorskip("mlflow")
    url = tracking_server.url  # type: ignore[attr-defined]
    mltrail.set_tracking_uri(url)
    with mltrail.start_run() as run:
        mltrail.log_table(TABLE, "ours.json")
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", _MLFLOW_SIDE, url, run.info.run_id],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["read"] == {**TABLE, "run_id": [run.info.run_id] * 2}
    theirs = mltrail.load_table("theirs.json", run_ids=[out["run_id"]])
    pd.testing.assert_frame_equal(theirs, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    tags = mltrail.get_run(out["run_id"]).data.tags
    assert json.loads(tags["mlflow.loggedArtifacts"]) == [{"path": "theirs.json", "type": "table"}]


def test_parquet_tables_round_trip(store: str) -> None:
    pytest.importorskip("pyarrow")
    with mltrail.start_run() as run:
        mltrail.log_table(TABLE, "qa.parquet")
        mltrail.log_table(TABLE, "qa.parquet")
    loaded = mltrail.load_table("qa.parquet", run_ids=[run.info.run_id])
    pd.testing.assert_frame_equal(loaded, pd.concat([pd.DataFrame(TABLE)] * 2, ignore_index=True))
