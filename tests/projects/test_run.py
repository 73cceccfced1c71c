"""Project runs on the embedded SQLite store, in this interpreter (--env-manager local): what
the run records, the command logging into it, and its status following the process."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from tests.projects.conftest import tutorial_project, write_files

import mltrail
from mltrail.exceptions import ExecutionException, InvalidArgument
from mltrail.projects import EXIT_CODE_TAG, LocalSubmittedRun, SubmittedRun
from mltrail.tracking import MlflowClient

# Starts a grandchild, writes both pids, then waits to be cancelled.
TREE = """\
import os, subprocess, sys, time
child = subprocess.Popen(["sleep", "300"])
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
"""


def tree_project(folder: Path) -> Path:
    text = "name: tree\nentry_points:\n  main:\n    parameters:\n      out: string\n"
    text += "    command: python tree.py {out}\n"
    return write_files(folder, {"MLproject": text, "tree.py": TREE})


def wait_for_file(path: Path, deadline_s: float = 60.0) -> str:
    end = time.monotonic() + deadline_s
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie has ended: its parent did not reap it yet


def test_a_project_run_is_tracked(tmp_path: Path, client: MlflowClient) -> None:
    project = tutorial_project(tmp_path / "tutorial")
    assert mltrail.run is mltrail.projects.run
    with mltrail.start_run() as parent:
        submitted = mltrail.run(
            str(project),
            parameters={"label": "a b", "seed": 7},
            experiment_name="projects",
            env_manager="local",
            run_name="first",
        )
    assert isinstance(submitted, SubmittedRun)
    assert submitted.get_status() == "FINISHED"
    assert submitted.wait() is True
    run = client.get_run(submitted.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "first"
    assert client.get_experiment(run.info.experiment_id).name == "projects"
    tags = run.data.tags
    assert {k: v for k, v in tags.items() if k.startswith(("mlflow.", "mltrail."))} == {
        "mlflow.user": tags["mlflow.user"],
        "mlflow.runName": "first",
        "mlflow.parentRunId": parent.info.run_id,
        "mlflow.source.name": str(project),
        "mlflow.source.type": "PROJECT",
        "mlflow.project.entryPoint": "main",
        "mlflow.project.env": "local",
        "mlflow.project.backend": "local",
        "mltrail.project.parameters": '{"label": "a b", "seed": "7"}',
        "mltrail.project.exitCode": "0",
    }
    # Every parameter: the declared ones (defaults included) and the undeclared one.
    assert run.data.params == {
        "alpha": "0.5",
        "l1_ratio": "0.1",
        "epochs": "3",
        "label": "a b",
        "seed": "7",
    }
    # What the command logged went into this run (start_run resumed MLTRAIL_RUN_ID).
    assert run.data.metrics == {"alpha_seen": 0.5}
    assert (tags["label_seen"], tags["extra_seen"]) == ("a b", "--seed 7")
    logged = {f.path for f in client.list_artifacts(run.info.run_id, "project")}
    assert logged == {"project/MLproject", "project/python_env.yaml", "project/requirements.txt"}
    assert len(client.search_runs(None)) == 2  # the parent and the project's run


def test_a_failing_command_fails_the_run_with_its_exit_code(
    tmp_path: Path, client: MlflowClient
) -> None:
    project = tutorial_project(tmp_path / "tutorial")
    with pytest.raises(ExecutionException, match=r"Run \(ID '\w+'\) failed: .* exited with code 3"):
        mltrail.projects.run(str(project), "fail", env_manager="local")
    (failed,) = client.search_runs(None)
    assert failed.info.status == "FAILED"
    assert failed.data.tags[EXIT_CODE_TAG] == "3"
    assert failed.data.params == {"code": "3"}

    submitted = mltrail.projects.run(
        str(project), "fail", parameters={"code": 5}, env_manager="local", synchronous=False
    )
    assert submitted.wait() is False
    assert submitted.get_status() == "FAILED"
    run = client.get_run(submitted.run_id)
    assert (run.info.status, run.data.tags[EXIT_CODE_TAG]) == ("FAILED", "5")


def test_cancel_ends_the_process_tree_and_the_run_is_killed(
    tmp_path: Path, client: MlflowClient
) -> None:
    out = tmp_path / "pids"
    submitted = mltrail.projects.run(
        str(tree_project(tmp_path / "tree")),
        parameters={"out": str(out)},
        env_manager="local",
        synchronous=False,
    )
    assert isinstance(submitted, LocalSubmittedRun)
    pids = [int(p) for p in wait_for_file(out).split()]
    assert submitted.get_status() == "RUNNING"
    assert client.get_run(submitted.run_id).info.status == "RUNNING"
    submitted.cancel()
    assert submitted.get_status() == "KILLED"
    assert submitted.wait() is False
    run = client.get_run(submitted.run_id)
    assert run.info.status == "KILLED"
    assert run.data.tags[EXIT_CODE_TAG] == "143"  # SIGTERM
    assert not any(alive(pid) for pid in pids)


def test_run_id_resumes_an_existing_run(tmp_path: Path, client: MlflowClient) -> None:
    existing = client.create_run("0", run_name="kept").info.run_id
    client.set_terminated(existing, "FAILED")
    submitted = mltrail.projects.run(
        str(tutorial_project(tmp_path / "tutorial")),
        parameters={"label": "again"},
        env_manager="local",
        run_id=existing,
    )
    assert submitted.run_id == existing
    run = client.get_run(existing)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"alpha_seen": 0.5}
    assert run.data.tags["mlflow.project.env"] == "local"
    assert len(client.search_runs(None)) == 1


def test_bad_arguments_make_no_run(tmp_path: Path, client: MlflowClient) -> None:
    project = str(tutorial_project(tmp_path / "tutorial"))
    run = mltrail.projects.run
    with pytest.raises(InvalidArgument, match="type float expects a number"):
        run(project, parameters={"label": "x", "alpha": "high"}, env_manager="local")
    with pytest.raises(InvalidArgument, match="required parameters 'label'"):
        run(project, env_manager="local")
    with pytest.raises(InvalidArgument, match="Unsupported backend 'databricks'"):
        run(project, backend="databricks")
    with pytest.raises(InvalidArgument, match="Invalid env_manager 'pip'"):
        run(project, env_manager="pip")
    with pytest.raises(InvalidArgument, match="python_env project cannot run in conda"):
        run(project, parameters={"label": "x"}, env_manager="conda")
    with pytest.raises(InvalidArgument, match="Specify only one of"):
        run(project, experiment_name="a", experiment_id="0")
    with pytest.raises(InvalidArgument, match="param"):
        run(project, parameters={"label": "x", "bad key!": "1"}, env_manager="local")
    assert list(client.search_runs(None)) == []


def test_conda_says_what_is_missing(
    tmp_path: Path, client: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_files(
        tmp_path / "p", {"conda.yaml": "dependencies: [python=3.11]\n", "train.py": ""}
    )
    monkeypatch.setenv("PATH", os.path.dirname(os.path.realpath("/bin/sh")))
    monkeypatch.delenv("CONDA_EXE", raising=False)
    monkeypatch.delenv("MAMBA_EXE", raising=False)
    with pytest.raises(mltrail.exceptions.NotFound, match="needs conda, mamba or micromamba"):
        mltrail.projects.run(str(project), "train.py")  # a conda_env project: conda by default
    assert list(client.search_runs(None)) == []


def test_start_run_resumes_the_run_named_in_the_environment(
    client: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = client.create_run("0").info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", given)
    with mltrail.start_run() as resumed:
        assert resumed.info.run_id == given
    assert "MLFLOW_RUN_ID" not in os.environ  # used once, as in MLflow
    with mltrail.start_run() as fresh:
        assert fresh.info.run_id != given
    monkeypatch.setenv("MLTRAIL_RUN_ID", given)
    with mltrail.start_run() as again:
        assert again.info.run_id == given
