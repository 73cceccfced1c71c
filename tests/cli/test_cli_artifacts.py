"""``mltrail artifacts``: list, download and log-artifact against a real store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests._live_server import ThreadedServer

from mltrail import MlflowClient


@pytest.fixture
def run_id(client: MlflowClient) -> str:
    return client.create_run(client.create_experiment("arts")).info.run_id


@pytest.fixture
def files(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "model" / "sub").mkdir(parents=True)
    (src / "model" / "MLmodel").write_text("flavors: {}\n")
    (src / "model" / "sub" / "weights.bin").write_bytes(b"\x00" * 10)
    (src / "notes.txt").write_text("hello")
    return src


def test_log_artifact_copies_a_file(mltrail, client: MlflowClient, run_id: str, files: Path):
    out = mltrail.ok(
        "artifacts", "log-artifact", "--local-file", str(files / "notes.txt"), "--run-id", run_id
    ).stdout
    assert out == f"Logged {files / 'notes.txt'} to run {run_id} as notes.txt\n"
    mltrail.ok(
        "artifacts", "log-artifact", "-l", str(files / "notes.txt"), "--run-id", run_id,
        "-a", "docs/v1",
    )  # fmt: skip
    listed = {(i.path, i.is_dir) for i in client.list_artifacts(run_id)}
    assert listed == {("notes.txt", False), ("docs", True)}
    assert [i.path for i in client.list_artifacts(run_id, "docs/v1")] == ["docs/v1/notes.txt"]
    local = client.download_artifacts(run_id, "docs/v1/notes.txt", str(files.parent / "out"))
    assert Path(local).read_text() == "hello"


def test_log_artifact_copies_a_folder(mltrail, client: MlflowClient, run_id: str, files: Path):
    mltrail.ok("artifacts", "log-artifact", "-l", str(files / "model"), "--run-id", run_id)
    assert [i.path for i in client.list_artifacts(run_id, "model")] == [
        "model/MLmodel",
        "model/sub",
    ]


def test_log_artifact_bad_input(mltrail, client: MlflowClient, run_id: str, files: Path):
    result = mltrail("artifacts", "log-artifact", "-l", str(files / "missing"), "--run-id", run_id)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    err = mltrail.fails(
        "artifacts", "log-artifact", "-l", str(files / "notes.txt"), "--run-id", run_id,
        "-a", "../escape",
    ).stderr  # fmt: skip
    assert "Invalid artifact path '../escape/notes.txt'" in err or "'..'" in err
    assert client.list_artifacts(run_id) == []
    assert mltrail.fails(
        "artifacts", "log-artifact", "-l", str(files / "notes.txt"), "--run-id", "a" * 32
    ).stderr


def test_list_table_and_json(mltrail, client: MlflowClient, run_id: str, files: Path):
    client.log_artifacts(run_id, str(files))
    lines = mltrail.ok("artifacts", "list", "--run-id", run_id).stdout.splitlines()
    assert lines[0].split() == ["Path", "Size"]
    assert [line.split() for line in lines[2:]] == [["model/"], ["notes.txt", "5"]]
    out = mltrail.ok("artifacts", "list", "--run-id", run_id, "-a", "model/sub", "--json").stdout
    assert [json.loads(line) for line in out.splitlines()] == [
        {"path": "model/sub/weights.bin", "is_dir": False, "file_size": 10}
    ]


def test_list_errors(mltrail, run_id: str) -> None:
    assert mltrail.fails("artifacts", "list", "--run-id", "b" * 32).stderr
    err = mltrail.fails("artifacts", "list", "--run-id", run_id, "-a", "/etc").stderr
    assert "absolute paths are not allowed" in err


def test_download_a_file_and_a_folder(
    mltrail, client: MlflowClient, run_id: str, files: Path, tmp_path: Path
):
    client.log_artifacts(run_id, str(files))
    dst = tmp_path / "dst"
    out = mltrail.ok(
        "artifacts", "download", "--run-id", run_id, "-a", "notes.txt", "--dst-path", str(dst)
    ).stdout
    assert out == f"{dst / 'notes.txt'}\n"
    assert (dst / "notes.txt").read_text() == "hello"

    out = mltrail.ok("artifacts", "download", "--run-id", run_id, "-a", "model", "-d", str(dst))
    assert out.stdout == f"{dst / 'model'}\n"
    assert (dst / "model" / "sub" / "weights.bin").read_bytes() == b"\x00" * 10

    everything = mltrail.ok("artifacts", "download", "--run-id", run_id).stdout.strip()
    assert (Path(everything) / "model" / "MLmodel").read_text() == "flavors: {}\n"
    assert os.stat(everything).st_mode & 0o077 == 0  # a private temporary folder


def test_download_many_files_with_a_progress_bar(
    mltrail, client: MlflowClient, run_id: str, tmp_path: Path
):
    src = tmp_path / "many"
    (src / "deep" / "er").mkdir(parents=True)
    (src / "empty").mkdir()
    for i in range(8):
        (src / "deep" / "er" / f"f{i}.txt").write_text(str(i))
    (src / "top.txt").write_text("top")
    client.log_artifacts(run_id, str(src), "data")

    dst = tmp_path / "dst"
    result = mltrail.ok("artifacts", "download", "--run-id", run_id, "-a", "data", "-d", str(dst))
    assert result.stdout == f"{dst / 'data'}\n"
    assert "Downloading artifacts" in result.stderr
    assert sorted(p.name for p in (dst / "data" / "deep" / "er").iterdir()) == [
        f"f{i}.txt" for i in range(8)
    ]
    assert (dst / "data" / "deep" / "er" / "f7.txt").read_text() == "7"
    assert (dst / "data" / "top.txt").read_text() == "top"
    assert (dst / "data" / "empty").is_dir()

    whole = mltrail.ok("artifacts", "download", "--run-id", run_id).stdout.strip()
    assert (Path(whole) / "data" / "deep" / "er" / "f0.txt").read_text() == "0"
    assert os.stat(whole).st_mode & 0o077 == 0


def test_mlflows_short_options_and_artifact_uri(
    mltrail, client: MlflowClient, run_id: str, files: Path, tmp_path: Path
):
    client.log_artifacts(run_id, str(files))
    listed = mltrail.ok("artifacts", "list", "-r", run_id, "--json").stdout
    assert sorted(json.loads(line)["path"] for line in listed.splitlines()) == [
        "model",
        "notes.txt",
    ]
    dst = tmp_path / "by-uri"
    out = mltrail.ok(
        "artifacts", "download", "-u", f"runs:/{run_id}/model/sub", "-d", str(dst)
    ).stdout
    assert (Path(out.strip()) / "weights.bin").read_bytes() == b"\x00" * 10
    assert Path(out.strip()).is_relative_to(dst)
    both = mltrail.fails("artifacts", "download", "-r", run_id, "-u", f"runs:/{run_id}/notes.txt")
    assert "Give either --run-id or --artifact-uri" in both.stderr
    neither = mltrail.fails("artifacts", "download")
    assert "Give either --run-id or --artifact-uri" in neither.stderr


def test_download_errors(mltrail, client: MlflowClient, run_id: str, files: Path):
    err = mltrail.fails("artifacts", "download", "--run-id", run_id).stderr
    assert err == f"Error: Run {run_id} has no artifacts\n"
    client.log_artifacts(run_id, str(files))
    err = mltrail.fails("artifacts", "download", "--run-id", run_id, "-a", "nope").stderr
    assert err == f"Error: Run {run_id} has no artifact 'nope'\n"
    err = mltrail.fails("artifacts", "download", "--run-id", run_id, "-a", "a/../..").stderr
    assert "Invalid artifact path" in err
    assert mltrail.fails("artifacts", "download", "--run-id", "c" * 32).stderr


def test_download_through_a_tracking_servers_proxy(
    mltrail, tracking_server: ThreadedServer, files: Path, tmp_path: Path
) -> None:
    """A run on a proxying server (``mlflow-artifacts:`` URI) downloads with ``--tracking-uri``
    alone, with no tracking URI in the environment."""
    remote = MlflowClient(tracking_server.url)
    run_id = remote.create_run(remote.create_experiment("proxied")).info.run_id
    assert remote.get_run(run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    remote.log_artifacts(run_id, str(files))
    dst = tmp_path / "dst"
    no_env = {"MLTRAIL_TRACKING_URI": None, "MLFLOW_TRACKING_URI": None}
    out = mltrail.ok(
        "artifacts",
        "download",
        "--tracking-uri",
        tracking_server.url,
        "--run-id",
        run_id,
        "-a",
        "notes.txt",
        "-d",
        str(dst),
        env=no_env,
    ).stdout
    assert out == f"{dst / 'notes.txt'}\n"
    assert (dst / "notes.txt").read_text() == "hello"
