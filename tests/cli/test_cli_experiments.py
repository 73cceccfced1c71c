"""``mltrail experiments``: each command against a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

from mltrail import MlflowClient
from mltrail.entities import LifecycleStage


def test_create_stores_the_experiment_and_prints_its_id(mltrail, client: MlflowClient) -> None:
    out = mltrail.ok("experiments", "create", "--experiment-name", "fraud").stdout
    exp = client.get_experiment_by_name("fraud")
    assert exp is not None
    assert out == f"Experiment 'fraud' created with id {exp.experiment_id}\n"
    assert exp.lifecycle_stage == LifecycleStage.ACTIVE
    assert exp.artifact_location.endswith(f"/{exp.experiment_id}")


def test_create_with_short_options_and_artifact_location(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    mltrail.ok("experiments", "create", "-n", "a", "-l", "s3://bucket/a")
    exp_a = client.get_experiment_by_name("a")
    assert exp_a is not None
    assert exp_a.artifact_location == "s3://bucket/a"
    # A local folder is pinned to an absolute file URI (not left relative to the cwd).
    mltrail.ok("experiments", "create", "-n", "b", "--artifact-location", "arts/b")
    exp_b = client.get_experiment_by_name("b")
    assert exp_b is not None
    assert exp_b.artifact_location == (tmp_path / "arts" / "b").as_uri()


def test_create_duplicate_name_is_an_error(mltrail, client: MlflowClient) -> None:
    client.create_experiment("dup")
    err = mltrail.fails("experiments", "create", "-n", "dup").stderr
    assert err == "Error: Experiment 'dup' already exists\n"
    assert len(client.search_experiments()) == 2  # Default and dup


def test_create_requires_a_name(mltrail) -> None:
    result = mltrail("experiments", "create")
    assert result.exit_code == 2
    assert "Missing option '--experiment-name'" in result.stderr


def test_search_prints_a_table_of_active_experiments(mltrail, client: MlflowClient) -> None:
    first = client.create_experiment("first")
    second = client.create_experiment("second")
    client.delete_experiment(second)
    lines = mltrail.ok("experiments", "search").stdout.splitlines()
    assert lines[0].split() == ["ID", "Name", "Stage", "Created", "Artifact", "location"]
    assert set(lines[1]) <= {"-", " "}
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"0", first}
    assert rows[first][1:3] == ["first", "active"]


def test_search_views_and_json(mltrail, client: MlflowClient) -> None:
    keep = client.create_experiment("keep")
    gone = client.create_experiment("gone")
    client.delete_experiment(gone)

    def ids(*args: str) -> list[str]:
        out = mltrail.ok("experiments", "search", "--json", *args).stdout
        return sorted(json.loads(line)["experiment_id"] for line in out.splitlines())

    assert ids() == sorted(["0", keep])
    assert ids("--view", "deleted_only") == [gone]
    assert ids("--view", "ALL") == sorted(["0", keep, gone])
    record = json.loads(
        mltrail.ok("experiments", "search", "--json", "--view", "deleted_only").stdout
    )
    assert record["name"] == "gone"
    assert record["lifecycle_stage"] == "deleted"


def test_search_filter_order_and_max_results(mltrail, client: MlflowClient) -> None:
    for name in ("alpha", "beta", "gamma"):
        client.create_experiment(name)

    def names(*args: str) -> list[str]:
        out = mltrail.ok("experiments", "search", "--json", *args).stdout
        return [json.loads(line)["name"] for line in out.splitlines()]

    assert names("--filter", "name LIKE '%a'", "--order-by", "name DESC") == [
        "gamma",
        "beta",
        "alpha",
    ]
    assert names("--order-by", "name ASC", "--max-results", "2") == ["Default", "alpha"]


def test_search_pages_through_results_with_a_progress_bar(
    mltrail, client: MlflowClient, monkeypatch
) -> None:
    from mltrail.cli import _common

    monkeypatch.setattr(_common, "PAGE_SIZE", 2)
    for i in range(6):
        client.create_experiment(f"exp-{i}")
    result = mltrail.ok("experiments", "search", "--json", "--order-by", "name")
    names = [json.loads(line)["name"] for line in result.stdout.splitlines()]
    assert names == ["Default", *(f"exp-{i}" for i in range(6))]
    assert "Fetching experiments" in result.stderr  # the bar (its label, off a terminal)
    limited = mltrail.ok("experiments", "search", "--json", "--max-results", "5")
    assert len(limited.stdout.splitlines()) == 5


def test_search_bad_input(mltrail) -> None:
    result = mltrail("experiments", "search", "--view", "everything")
    assert result.exit_code == 2
    assert "'everything' is not one of" in result.stderr
    result = mltrail("experiments", "search", "--max-results", "0")
    assert result.exit_code == 2
    assert mltrail.fails("experiments", "search", "--filter", "name ==== 'x'").stderr


def test_delete_and_restore(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("temp")
    run = client.create_run(eid)
    out = mltrail.ok("experiments", "delete", "--experiment-id", eid).stdout
    assert out == f"Experiment {eid} deleted\n"
    assert client.get_experiment(eid).lifecycle_stage == LifecycleStage.DELETED
    assert client.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED

    out = mltrail.ok("experiments", "restore", "-x", eid).stdout
    assert out == f"Experiment {eid} restored\n"
    assert client.get_experiment(eid).lifecycle_stage == LifecycleStage.ACTIVE
    assert client.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_delete_errors(mltrail, client: MlflowClient) -> None:
    assert "999" in mltrail.fails("experiments", "delete", "-x", "999").stderr
    err = mltrail.fails("experiments", "delete", "-x", "0").stderr
    assert "default experiment" in err
    assert client.get_experiment("0").lifecycle_stage == LifecycleStage.ACTIVE
    assert mltrail("experiments", "delete").exit_code == 2


def test_rename(mltrail, client: MlflowClient) -> None:
    eid = client.create_experiment("old")
    client.create_experiment("taken")
    out = mltrail.ok("experiments", "rename", "-x", eid, "--new-name", "new").stdout
    assert out == f"Experiment {eid} renamed to 'new'\n"
    assert client.get_experiment(eid).name == "new"
    err = mltrail.fails("experiments", "rename", "-x", eid, "--new-name", "taken").stderr
    assert err == "Error: Experiment 'taken' already exists\n"
    assert client.get_experiment(eid).name == "new"
    assert mltrail("experiments", "rename", "-x", eid).exit_code == 2
