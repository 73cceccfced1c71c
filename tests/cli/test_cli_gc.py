"""``mltrail gc``: deleted runs and experiments are removed for good, with their artifacts."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from mltrail import MlflowClient
from mltrail._exceptions import NotFound
from mltrail.artifacts import LocalArtifactRepository
from mltrail.store._logged_models_base import LoggedModelStore

DAY_MS = 86_400_000


def _run_with_artifact(client: MlflowClient, experiment_id: str, tmp_path: Path) -> str:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "loss", 0.5)
    source = tmp_path / f"{run_id}.txt"
    source.write_text(run_id)
    client.log_artifact(run_id, str(source))
    assert _artifact_files(client, run_id) == [f"{run_id}.txt"]
    return run_id


def _artifact_files(client: MlflowClient, run_id: str) -> list[str]:
    """What is on disk in the run's artifact folder (independently of the store)."""
    root = Path(LocalArtifactRepository(client.get_run(run_id).info.artifact_uri).root)
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def _artifact_root(client: MlflowClient, run_id: str) -> Path:
    return Path(LocalArtifactRepository(client.get_run(run_id).info.artifact_uri).root)


def _gone(client: MlflowClient, run_id: str) -> bool:
    try:
        client.get_run(run_id)
    except NotFound:
        return True
    return False


def _age(uri: str, table: str, days: int) -> None:
    """Pretend everything deleted in *table* was deleted *days* ago."""
    conn = sqlite3.connect(uri.removeprefix("sqlite:///"))
    try:
        past = time.time_ns() // 1_000_000 - days * DAY_MS
        conn.execute(
            f"UPDATE {table} SET deleted_time = ? WHERE lifecycle_stage = 'deleted'", (past,)
        )
        conn.commit()
    finally:
        conn.close()


def test_gc_removes_deleted_runs_and_their_artifacts(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    eid = client.create_experiment("e")
    keep = _run_with_artifact(client, eid, tmp_path)
    drop = _run_with_artifact(client, eid, tmp_path)
    drop_root = _artifact_root(client, drop)
    client.delete_run(drop)

    result = mltrail.ok("gc")
    assert result.stdout == "Removed 1 run and 0 experiments for good\n"
    assert _gone(client, drop)
    assert not drop_root.exists()
    assert not drop_root.parent.exists()  # the empty <run id> folder is tidied away too
    assert drop_root.parent.parent.is_dir()
    assert not _gone(client, keep)
    assert _artifact_files(client, keep) == [f"{keep}.txt"]
    assert client.get_run(keep).data.metrics == {"loss": 0.5}


def test_gc_removes_deleted_experiments_with_all_their_runs(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    eid = client.create_experiment("old")
    runs = [_run_with_artifact(client, eid, tmp_path) for _ in range(2)]
    roots = [_artifact_root(client, r) for r in runs]
    other = client.create_experiment("other")
    survivor = _run_with_artifact(client, other, tmp_path)
    client.delete_experiment(eid)

    out = mltrail.ok("gc", "--tracking-uri", mltrail.uri, env={"MLTRAIL_TRACKING_URI": None})
    assert out.stdout == "Removed 2 runs and 1 experiment for good\n"
    with pytest.raises(NotFound):
        client.get_experiment(eid)
    assert all(_gone(client, r) for r in runs)
    assert not any(root.exists() for root in roots)
    assert not _gone(client, survivor)
    assert _artifact_files(client, survivor) == [f"{survivor}.txt"]
    # The name is free again.
    assert client.create_experiment("old") != eid


def test_gc_older_than_keeps_recent_deletions(
    mltrail, client: MlflowClient, uri: str, tmp_path: Path
) -> None:
    eid = client.create_experiment("e")
    old = _run_with_artifact(client, eid, tmp_path)
    client.delete_run(old)
    _age(uri, "runs", 40)
    recent = _run_with_artifact(client, eid, tmp_path)
    client.delete_run(recent)

    assert mltrail.ok("gc", "--older-than", "30d").stdout.startswith("Removed 1 run ")
    assert _gone(client, old)
    assert not _gone(client, recent)
    assert _artifact_files(client, recent) == [f"{recent}.txt"]
    # A named run deleted too recently is refused.
    err = mltrail.fails("gc", "--older-than", "1d12h", "--run-ids", recent).stderr
    assert err == f"Error: Run {recent} was not deleted long enough ago for --older-than\n"
    assert not _gone(client, recent)
    assert mltrail.ok("gc", "--older-than", "0s").stdout.startswith("Removed 1 run ")
    assert _gone(client, recent)


def test_gc_older_than_applies_to_experiments(mltrail, client: MlflowClient, uri: str) -> None:
    old = client.create_experiment("old")
    client.delete_experiment(old)
    _age(uri, "experiments", 10)
    recent = client.create_experiment("recent")
    client.delete_experiment(recent)
    assert mltrail.ok("gc", "--older-than", "1w").stdout.endswith("and 1 experiment for good\n")
    with pytest.raises(NotFound):
        client.get_experiment(old)
    assert client.get_experiment(recent).lifecycle_stage == "deleted"


def test_gc_named_runs_and_experiments_only(mltrail, client: MlflowClient, tmp_path: Path) -> None:
    eid = client.create_experiment("e")
    a, b, c = (_run_with_artifact(client, eid, tmp_path) for _ in range(3))
    for run_id in (a, b, c):
        client.delete_run(run_id)
    gone_exp = client.create_experiment("gone")
    kept_exp = client.create_experiment("kept")
    client.delete_experiment(gone_exp)
    client.delete_experiment(kept_exp)

    out = mltrail.ok("gc", "--run-ids", f"{a}, {b}", "--experiment-ids", gone_exp).stdout
    assert out == "Removed 2 runs and 1 experiment for good\n"
    assert _gone(client, a)
    assert _gone(client, b)
    assert not _gone(client, c)
    with pytest.raises(NotFound):
        client.get_experiment(gone_exp)
    assert client.get_experiment(kept_exp).lifecycle_stage == "deleted"


def test_gc_refuses_what_is_not_deleted_and_then_removes_nothing(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    eid = client.create_experiment("e")
    active = _run_with_artifact(client, eid, tmp_path)
    deleted = _run_with_artifact(client, eid, tmp_path)
    client.delete_run(deleted)

    err = mltrail.fails("gc", "--run-ids", f"{deleted},{active}").stderr
    assert err == (
        f"Error: Run {active} is not deleted (active); delete it first with 'mltrail runs delete'\n"
    )
    assert not _gone(client, deleted)
    assert _artifact_files(client, deleted) == [f"{deleted}.txt"]
    assert not _gone(client, active)

    err = mltrail.fails("gc", "--experiment-ids", eid).stderr
    assert err.startswith(f"Error: Experiment {eid} is not deleted (active)")
    assert client.get_experiment(eid).lifecycle_stage == "active"

    assert "999" in mltrail.fails("gc", "--experiment-ids", "999").stderr
    assert "f" * 32 in mltrail.fails("gc", "--run-ids", "f" * 32).stderr


def test_gc_bad_input_is_a_usage_error(mltrail) -> None:
    for args in (
        ["--older-than", "30"],
        ["--older-than", "30x"],
        ["--older-than", "-1d"],
        ["--run-ids", "a,,b"],
        ["--experiment-ids", ","],
    ):
        result = mltrail("gc", *args)
        assert result.exit_code == 2, args
        assert "Invalid value" in result.stderr, args


def test_gc_dry_run_removes_nothing(mltrail, client: MlflowClient, tmp_path: Path) -> None:
    eid = client.create_experiment("e")
    run_id = _run_with_artifact(client, eid, tmp_path)
    client.delete_run(run_id)
    other = client.create_experiment("other")
    client.delete_experiment(other)
    out = mltrail.ok("gc", "--dry-run").stdout
    assert out.splitlines() == [
        f"Would remove run {run_id} (experiment {eid})",
        f"Would remove experiment {other} with 0 runs",
        "Dry run: 2 items would be removed",
    ]
    assert not _gone(client, run_id)
    assert _artifact_files(client, run_id) == [f"{run_id}.txt"]
    assert client.get_experiment(other).lifecycle_stage == "deleted"


def test_gc_shows_a_progress_bar_for_many_items(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    eid = client.create_experiment("e")
    runs = [_run_with_artifact(client, eid, tmp_path) for _ in range(7)]
    for run_id in runs:
        client.delete_run(run_id)
    result = mltrail.ok("gc")
    assert "Removing" in result.stderr
    assert result.stdout == "Removed 7 runs and 0 experiments for good\n"
    assert all(_gone(client, r) for r in runs)
    small = mltrail.ok("gc")
    assert small.stderr == ""
    assert small.stdout == "Removed 0 runs and 0 experiments for good\n"


def test_gc_keeps_a_run_whose_artifacts_cannot_be_removed(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    broken = client.create_experiment("broken", artifact_location="nowhere://bucket/x")
    stuck = client.create_run(broken).info.run_id
    client.delete_run(stuck)
    eid = client.create_experiment("fine")
    fine = _run_with_artifact(client, eid, tmp_path)
    client.delete_run(fine)

    result = mltrail.fails("gc")
    assert result.stdout == "Removed 1 run and 0 experiments for good\n"
    assert f"Failed: run {stuck} (experiment {broken}): Unsupported artifact URI scheme" in (
        result.stderr
    )
    assert "1 item could not be removed" in result.stderr
    assert _gone(client, fine)
    assert client.get_run(stuck).info.lifecycle_stage == "deleted"


def _lm(client: MlflowClient) -> LoggedModelStore:
    """The logged models of the client's backend."""
    return client._backend.logged_models


def _model_with_artifact(client: MlflowClient, experiment_id: str, tmp_path: Path) -> Any:
    """A logged model with a file in its artifact folder."""
    model = _lm(client).create_logged_model(experiment_id, name="m")
    source = tmp_path / f"{model.model_id}.txt"
    source.write_text(model.model_id)
    LocalArtifactRepository(model.artifact_location).log_artifact(str(source))
    assert _model_root(model).joinpath(source.name).is_file()
    return model


def _model_root(model: Any) -> Path:
    return Path(LocalArtifactRepository(model.artifact_location).root)


def _model_gone(client: MlflowClient, model_id: str) -> bool:
    try:
        _lm(client).get_logged_model(model_id, allow_deleted=True)
    except NotFound:
        return True
    return False


def test_gc_removes_deleted_logged_models_and_their_artifacts(
    mltrail, client: MlflowClient, uri: str, tmp_path: Path
) -> None:
    eid = client.create_experiment("e")
    keep = _model_with_artifact(client, eid, tmp_path)
    drop = _model_with_artifact(client, eid, tmp_path)
    recent = _model_with_artifact(client, eid, tmp_path)
    lm = _lm(client)
    lm.delete_logged_model(drop.model_id)
    conn = sqlite3.connect(uri.removeprefix("sqlite:///"))
    with conn:  # deleted 40 days ago
        past = time.time_ns() // 1_000_000 - 40 * DAY_MS
        conn.execute("UPDATE logged_models SET last_updated_time = ?", (past,))
    conn.close()
    lm.delete_logged_model(recent.model_id)

    # Named models are checked before anything goes: an active one, one deleted too recently.
    err = mltrail.fails("gc", "--logged-model-ids", f"{drop.model_id},{keep.model_id}").stderr
    assert f"Logged model {keep.model_id} is not deleted" in err
    err = mltrail.fails("gc", "--older-than", "30d", "--logged-model-ids", recent.model_id).stderr
    assert err.endswith("was not deleted long enough ago for --older-than\n")
    assert not _model_gone(client, drop.model_id)
    assert "m-0" in mltrail.fails("gc", "--logged-model-ids", "m-" + "0" * 32).stderr

    dry = mltrail.ok("gc", "--older-than", "30d", "--dry-run").stdout
    assert dry == f"Would remove logged model {drop.model_id} (experiment {eid})\n" + (
        "Dry run: 1 item would be removed\n"
    )
    out = mltrail.ok("gc", "--older-than", "30d").stdout
    assert out == "Removed 0 runs, 0 experiments and 1 logged model for good\n"
    assert _model_gone(client, drop.model_id)
    assert not _model_root(drop).exists()
    assert not _model_root(drop).parent.exists()  # the empty <model id> folder too
    assert not _model_gone(client, recent.model_id)
    assert _model_root(recent).is_dir()
    assert not _model_gone(client, keep.model_id)
    assert [p.name for p in _model_root(keep).iterdir()] == [f"{keep.model_id}.txt"]

    out = mltrail.ok("gc", "--logged-model-ids", recent.model_id).stdout
    assert out == "Removed 0 runs, 0 experiments and 1 logged model for good\n"
    assert _model_gone(client, recent.model_id)
    assert not _model_root(recent).exists()


def test_gc_of_an_experiment_takes_its_logged_models_artifacts(
    mltrail, client: MlflowClient, tmp_path: Path
) -> None:
    eid = client.create_experiment("with-models")
    run_id = _run_with_artifact(client, eid, tmp_path)
    active = _model_with_artifact(client, eid, tmp_path)
    deleted = _model_with_artifact(client, eid, tmp_path)
    other = _model_with_artifact(client, client.create_experiment("other"), tmp_path)
    lm = _lm(client)
    lm.delete_logged_model(deleted.model_id)
    client.delete_run(run_id)
    client.delete_experiment(eid)

    dry = mltrail.ok("gc", "--dry-run").stdout
    assert f"Would remove experiment {eid} with 1 run and 2 logged models\n" in dry
    out = mltrail.ok("gc").stdout
    assert out == "Removed 1 run, 1 experiment and 2 logged models for good\n"
    for model in (active, deleted):
        assert _model_gone(client, model.model_id)
        assert not _model_root(model).exists()
    assert not _model_gone(client, other.model_id)
    assert _model_root(other).is_dir()


def test_gc_removes_what_was_logged_through_the_artifact_proxy(
    mltrail, tracking_server: Any, tmp_path: Path
) -> None:
    """Runs logged through a server keep their files behind its proxy (mlflow-artifacts:/):
    gc on the server's database removes them below its --artifacts-destination."""
    remote = MlflowClient(tracking_server.url)
    experiment_id = remote.create_experiment("proxied")
    run_id = _run_with_artifact_remote(remote, experiment_id, tmp_path)
    run_uri = remote.get_run(run_id).info.artifact_uri
    assert run_uri.startswith("mlflow-artifacts:/")
    stored = tmp_path / "server" / "artifacts" / run_uri.removeprefix("mlflow-artifacts:/")
    assert (stored / f"{run_id}.txt").read_text() == run_id
    remote.delete_run(run_id)
    db = f"sqlite:///{tmp_path / 'server' / 'mltrail.db'}"
    destination = str(tmp_path / "server" / "artifacts")
    out = mltrail.ok("gc", "--backend-store-uri", db, "--artifacts-destination", destination).stdout
    assert "Removed 1 run" in out
    assert not stored.exists()
    with pytest.raises(NotFound):
        remote.get_run(run_id)


def _run_with_artifact_remote(client: MlflowClient, experiment_id: str, tmp_path: Path) -> str:
    run_id = client.create_run(experiment_id).info.run_id
    source = tmp_path / f"{run_id}.txt"
    source.write_text(run_id)
    client.log_artifact(run_id, str(source))
    return run_id
