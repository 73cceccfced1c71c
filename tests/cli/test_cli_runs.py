"""``mltrail runs``: each command against a real SQLite store."""

from __future__ import annotations

import json

from mltrail import MlflowClient
from mltrail.entities import LifecycleStage


def _make_runs(client: MlflowClient, experiment_id: str, losses: list[float]) -> list[str]:
    ids = []
    for i, loss in enumerate(losses):
        run = client.create_run(experiment_id, start_time=1_700_000_000_000 + i, run_name=f"r{i}")
        client.log_metric(run.info.run_id, "loss", loss)
        client.log_param(run.info.run_id, "model", "cnn" if i % 2 else "mlp")
        ids.append(run.info.run_id)
    return ids


def test_list_prints_a_table(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("e")
    ids = _make_runs(client, eid, [0.5, 0.2])
    lines = mltrail.ok("runs", "list", "--experiment-id", eid).stdout.splitlines()
    assert lines[0].split() == ["Run", "ID", "Experiment", "Name", "Status", "Stage", "Started"]
    rows = [line.split() for line in lines[2:]]
    # Newest first (start_time descending).
    assert [row[0] for row in rows] == [ids[1], ids[0]]
    assert rows[0][1:5] == [eid, "r1", "RUNNING", "active"]


def test_list_json_filter_order_and_max_results(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("e")
    ids = _make_runs(client, eid, [0.5, 0.2, 0.9, 0.1])

    def listed(*args: str) -> list[str]:
        out = mltrail.ok("runs", "list", "-x", eid, "--json", *args).stdout
        return [json.loads(line)["info"]["run_id"] for line in out.splitlines()]

    assert listed("--order-by", "metrics.loss ASC") == [ids[3], ids[1], ids[0], ids[2]]
    assert listed("--filter", "metrics.loss < 0.4", "--order-by", "metrics.loss DESC") == [
        ids[1],
        ids[3],
    ]
    assert listed("--filter", "params.model = 'cnn'", "--order-by", "start_time") == [
        ids[1],
        ids[3],
    ]
    assert listed(
        "--order-by", "params.model", "--order-by", "metrics.loss", "--max-results", "3"
    ) == [
        ids[3],
        ids[1],
        ids[0],
    ]
    first = json.loads(mltrail.ok("runs", "list", "-x", eid, "--json").stdout.splitlines()[0])
    assert first["data"]["metrics"] == {"loss": 0.1}
    assert first["data"]["params"] == {"model": "cnn"}


def test_list_views_and_several_experiments(mltrail, client: MlflowClient) -> None:
    e1 = client.create_experiment("one")
    e2 = client.create_experiment("two")
    (a,) = _make_runs(client, e1, [1.0])
    (b,) = _make_runs(client, e2, [2.0])
    client.delete_run(b)

    def listed(*args: str) -> set[str]:
        out = mltrail.ok("runs", "list", "--json", *args).stdout
        return {json.loads(line)["info"]["run_id"] for line in out.splitlines()}

    assert listed("-x", e1, "-x", e2) == {a}
    assert listed("-x", e1, "-x", e2, "--view", "deleted_only") == {b}
    assert listed("-x", e1, "-x", e2, "--view", "all") == {a, b}


def test_list_pages_with_a_progress_bar(mltrail, client: MlflowClient, monkeypatch) -> None:
    from mltrail.cli import _common

    monkeypatch.setattr(_common, "PAGE_SIZE", 3)
    eid = client.create_experiment("many")
    ids = _make_runs(client, eid, [float(i) for i in range(10)])
    result = mltrail.ok("runs", "list", "-x", eid, "--json")
    listed = [json.loads(line)["info"]["run_id"] for line in result.stdout.splitlines()]
    assert listed == ids[::-1]
    assert "Fetching runs" in result.stderr
    result = mltrail.ok("runs", "list", "-x", eid, "--json", "--max-results", "7")
    assert [json.loads(line)["info"]["run_id"] for line in result.stdout.splitlines()] == (
        ids[::-1][:7]
    )


def test_list_errors(mltrail) -> None:
    assert "42" in mltrail.fails("runs", "list", "-x", "42").stderr
    assert mltrail.fails("runs", "list", "-x", "0", "--filter", "metrics.loss <").stderr
    assert mltrail.fails("runs", "list", "-x", "0", "--order-by", "nonsense.x").stderr
    result = mltrail("runs", "list")
    assert result.exit_code == 2
    assert "Missing option '--experiment-id'" in result.stderr


def test_describe_prints_the_run_as_json(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("e")
    (run_id,) = _make_runs(client, eid, [0.25])
    client.set_tag(run_id, "team", "risk")
    data = json.loads(mltrail.ok("runs", "describe", "--run-id", run_id).stdout)
    assert data == client.get_run(run_id).to_dictionary()
    assert data["info"]["run_id"] == run_id
    assert data["data"]["metrics"] == {"loss": 0.25}
    assert data["data"]["params"] == {"model": "mlp"}
    assert data["data"]["tags"]["team"] == "risk"


def test_describe_unknown_run(mltrail) -> None:
    err = mltrail.fails("runs", "describe", "--run-id", "f" * 32).stderr
    assert "f" * 32 in err
    assert err.count("\n") == 1


def test_delete_and_restore(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("e")
    (run_id,) = _make_runs(client, eid, [0.1])
    assert mltrail.ok("runs", "delete", "--run-id", run_id).stdout == f"Run {run_id} deleted\n"
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert mltrail.ok("runs", "restore", "--run-id", run_id).stdout == f"Run {run_id} restored\n"
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_restore_in_a_deleted_experiment_is_an_error(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("e")
    (run_id,) = _make_runs(client, eid, [0.1])
    client.delete_experiment(eid)
    err = mltrail.fails("runs", "restore", "--run-id", run_id).stderr
    assert "restore the experiment first" in err
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED


def test_delete_unknown_run(mltrail) -> None:
    assert mltrail.fails("runs", "delete", "--run-id", "0" * 32).stderr
    assert mltrail("runs", "delete").exit_code == 2
