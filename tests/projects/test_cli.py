"""``mltrail run``: its options, reproducing a recorded run from a git repository
(``--from-run``), and Ctrl-C ending the command's process tree with the run KILLED."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from click.testing import CliRunner
from tests._live_server import clean_env, mltrail_command
from tests.projects.conftest import TRAIN, git_commit, git_init, tutorial_project
from tests.projects.test_run import alive, tree_project, wait_for_file

from mltrail.cli import cli
from mltrail.tracking import MlflowClient

VERSIONED_TRAIN = TRAIN.replace(
    'mlflow.log_metric("alpha_seen", args.alpha)',
    'mlflow.log_metric("alpha_seen", args.alpha)\n    mlflow.log_metric("code_version", VERSION)',
)


def test_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "Give a project URI or --from-run RUN_ID" in result.output
    result = runner.invoke(cli, ["run", str(tmp_path), "-P", "novalue"])
    assert result.exit_code == 2
    assert "Invalid -P 'novalue': expected NAME=VALUE" in result.output
    result = runner.invoke(cli, ["run", str(tmp_path), "-P", "a=1", "-P", "a=2"])
    assert "Repeated -P 'a'" in result.output
    result = runner.invoke(cli, ["run", str(tmp_path / "missing"), "--env-manager", "local"])
    assert result.exit_code == 1
    assert "Error: Invalid project URI" in result.output


def test_a_bad_backend_config_is_refused_before_any_run(
    tmp_path: Path, client: MlflowClient
) -> None:
    project = str(tutorial_project(tmp_path / "tutorial"))
    runner = CliRunner()
    cases = {
        "{not json": "Invalid backend config: not JSON",
        "[1, 2]": "Invalid backend config: expected a JSON object",
        str(tmp_path / "missing.json"): "Cannot read the backend config",
    }
    for value, message in cases.items():
        args = ["run", project, "--env-manager", "local", "--backend-config", value]
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert message in result.output
    assert client.search_runs(["0"]) == []


def test_a_recorded_run_is_run_again_at_its_commit(
    tmp_path: Path, client: MlflowClient, sqlite_uri: str
) -> None:
    repo = tutorial_project(tmp_path / "repo", train="VERSION = 1\n" + VERSIONED_TRAIN)
    first_commit = git_init(repo, remote="https://example.com/org/tutorial.git")
    runner = CliRunner()
    args = ["run", str(repo), "--env-manager", "local", "--tracking-uri", sqlite_uri]
    first = runner.invoke(cli, [*args, "-P", "label=x", "-P", "alpha=0.25", "-P", "extra=1"])
    assert first.exit_code == 0, first.output
    first_id = first.stdout.strip().splitlines()[-1]
    # The project moves on: the next commit logs another code version.
    (repo / "train.py").write_text("VERSION = 2\n" + VERSIONED_TRAIN)
    git_commit(repo, "second")

    again = runner.invoke(cli, ["run", "--from-run", first_id, "--tracking-uri", sqlite_uri])
    assert again.exit_code == 0, again.output
    second_id = again.stdout.strip().splitlines()[-1]
    original, rerun = client.get_run(first_id), client.get_run(second_id)
    assert rerun.info.status == "FINISHED"
    assert rerun.info.experiment_id == original.info.experiment_id
    assert rerun.data.metrics == {"alpha_seen": 0.25, "code_version": 1.0}  # the first commit
    assert rerun.data.params == original.data.params
    assert rerun.data.params["extra"] == "1"
    assert rerun.data.tags["mltrail.project.reproducedFrom"] == first_id
    for key in (
        "mlflow.source.name",
        "mlflow.source.git.commit",
        "mlflow.source.git.repoURL",
        "mlflow.project.entryPoint",
        "mlflow.project.env",
        "mltrail.project.parameters",
    ):
        assert rerun.data.tags[key] == original.data.tags[key], key
    assert original.data.tags["mlflow.source.git.commit"] == first_commit
    assert original.data.tags["mlflow.source.name"] == repo.as_uri()
    assert json.loads(original.data.tags["mltrail.project.parameters"]) == {
        "alpha": "0.25",
        "extra": "1",
        "label": "x",
    }
    # -P overrides one parameter; a run that is no project run is refused.
    third = runner.invoke(
        cli, ["run", "--from-run", first_id, "-P", "alpha=0.5", "--tracking-uri", sqlite_uri]
    )
    assert third.exit_code == 0, third.output
    third_run = client.get_run(third.stdout.strip().splitlines()[-1])
    assert third_run.data.metrics["alpha_seen"] == 0.5
    plain = client.create_run("0").info.run_id
    refused = runner.invoke(cli, ["run", "--from-run", plain, "--tracking-uri", sqlite_uri])
    assert refused.exit_code == 1
    assert f"Run {plain} is not a project run" in refused.output


def test_ctrl_c_cancels_the_run(tmp_path: Path, client: MlflowClient, sqlite_uri: str) -> None:
    out = tmp_path / "pids"
    command = mltrail_command(
        "run", str(tree_project(tmp_path / "tree")), "--env-manager", "local", "-P", f"out={out}"
    )
    proc = subprocess.Popen(
        command,
        env=clean_env({"MLTRAIL_TRACKING_URI": sqlite_uri}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        pids = [int(p) for p in wait_for_file(out).split()]
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends to `mltrail run`
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr.decode()
    assert b"the run was cancelled (KILLED)" in stderr
    (run,) = client.search_runs(None)
    assert run.info.status == "KILLED"
    assert not any(alive(pid) for pid in pids)
