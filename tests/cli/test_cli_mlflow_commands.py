"""The commands of issue 21 (point 4) that MLflow's CLI has: ``experiments get|csv`` and
``runs create`` against a real SQLite store, and the same store filled the same way under
MLflow, whose own CLI's output is compared (``experiments csv`` columns and values, ``runs
create``'s JSON keys, ``experiments get``'s fields)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tests._differential import record_both

from mltrail import MlflowClient

SCRIPT = Path(__file__).with_name("_mlflow_commands_script.py")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.slow
def test_the_commands_answer_as_mlflow_s(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    recorded = record_both(SCRIPT, tmp_path)
    theirs, ours = recorded["mlflow"], recorded["mltrail"]
    their_rows, our_rows = _rows(theirs["csv"]), _rows(ours["csv"])
    # The same columns: the attributes in MLflow's order, then metrics, params and tags (tags
    # in key order in mltrail, in the order MLflow's store returned them in MLflow); mltrail's
    # own tags (mltrail.source.git.dirty) besides.
    ours_columns = [c for c in our_rows[0] if not c.startswith("tags.mltrail.")]
    assert sorted(ours_columns) == sorted(their_rows[0])
    assert list(our_rows[0])[:8] == list(their_rows[0])[:8]

    def values(rows: list[dict[str, str]]) -> list[list[str]]:
        keep = ("status", "metrics.loss", "params.alpha", "tags.team", "tags.mlflow.runName")
        return sorted([row[k] for k in keep] for row in rows)

    assert values(our_rows) == values(their_rows)
    assert [line.split(":")[0].strip() for line in ours["get"].splitlines()] == [
        line.split(":")[0].strip() for line in theirs["get"].splitlines()
    ]
    assert [line.split(": ")[1].isdigit() for line in ours["get"].splitlines()[4:6]] == [
        True,
        True,
    ]
    assert ours["get_json"]["name"] == theirs["get_json"]["name"] == "csv-export"
    assert list(ours["created"]) == list(theirs["created"])
    assert ours["created"]["status"] == theirs["created"]["status"] == "FAILED"
    assert ours["created_run"] == theirs["created_run"] == ["FAILED", "made", "v", "by the CLI"]


def test_get_needs_exactly_one_of_id_and_name(mltrail) -> None:
    assert mltrail("experiments", "get").exit_code == 2
    assert mltrail("experiments", "get", "-x", "0", "-n", "Default").exit_code == 2
    result = mltrail.fails("experiments", "get", "-n", "no such experiment")
    assert "No experiment is named 'no such experiment'" in result.stderr


def test_csv_to_a_file_and_of_an_unknown_experiment(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    eid = client.create_experiment("e")
    run = client.create_run(eid, run_name="only")
    client.log_metric(run.info.run_id, "m", 1.5)
    target = tmp_path / "runs.csv"
    mltrail.ok("experiments", "csv", "-x", eid, "-o", str(target))
    rows = _rows(target.read_text())
    assert [(r["run_id"], r["metrics.m"]) for r in rows] == [(run.info.run_id, "1.5")]
    mltrail.fails("experiments", "csv", "-x", "424242")


def test_runs_create_refuses_bad_arguments(mltrail, client: MlflowClient) -> None:
    assert mltrail("runs", "create").exit_code == 2
    client.create_experiment("e")
    result = mltrail("runs", "create", "--experiment-name", "e", "-t", "no-equals")
    assert result.exit_code == 2
    assert "Invalid tag 'no-equals'" in result.output
    result = mltrail("runs", "create", "--experiment-name", "e", "-t", "a=1", "-t", "a=2")
    assert result.exit_code == 2
    assert client.search_runs(None) == []


def test_runs_create_nested(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("e")
    parent = client.create_run(eid)
    out = json.loads(
        mltrail.ok(
            "runs", "create", "--experiment-id", eid, "--parent-run-id", parent.info.run_id
        ).stdout
    )
    child = client.get_run(out["run_id"])
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.info.status == "FINISHED"
