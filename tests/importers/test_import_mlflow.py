"""``mltrail import mlflow SOURCE`` end to end: stores made by the real MLflow (3.17 database,
mlruns folder and server; 2.22 folder) imported into SQLite, PostgreSQL and MariaDB, then read
back from the destination and compared value by value with what MLflow's client read from the
source; a repeated import writes nothing; the source is never written."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.importers._mlflow_compare import assert_source_matches
from tests.importers.conftest import MakeStore, Server

from mltrail._exceptions import InvalidArgument
from mltrail.cli import cli
from mltrail.cli._import_mlflow import check_destination
from mltrail.importers import ImportOptions, run_import
from mltrail.importers._mlflow import open_mlflow_source
from mltrail.importers._mltrail import MltrailSource
from mltrail.store import open_backend

pytestmark = pytest.mark.slow


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, ["import", "mlflow", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _destination_matches(uri: str, dump: dict[str, Any], *, copied: bool = True) -> None:
    """The destination, read as an import source, holds what MLflow's client read."""
    source = MltrailSource(uri)
    try:
        assert_source_matches(source, dump, locations=not copied)
        if copied:
            ids = [e.experiment_id for e in source.experiments()]
            (parent,) = [
                h for h in source.run_headers(ids) if h.info.run_id == dump["ids"]["parent"]
            ]
            repo = source.open_artifacts(parent.info.artifact_uri)
            assert repo is not None
            with repo.open_read("notes/hello.txt") as stream:
                assert stream.read() == b"hello"
    finally:
        source.close()


def test_an_mlflow_3_database_into_each_backend(
    tmp_path: Path, make_store: MakeStore, db_uri: str
) -> None:
    db = tmp_path / "mlflow.db"
    dump = make_store(f"sqlite:///{db}")
    before = _digest(db)
    artifacts = str(tmp_path / "dest-artifacts")
    out = _invoke(f"sqlite:///{db}", "--tracking-uri", db_uri, "--artifact-root", artifacts, "-q")
    assert "The destination holds everything the source holds." in out
    _destination_matches(db_uri, dump)
    again = _invoke(f"sqlite:///{db}", "--tracking-uri", db_uri, "--artifact-root", artifacts)
    assert f"0 runs ({len(dump['runs'])} unchanged)" in again
    assert _digest(db) == before


def test_an_mlflow_3_folder_and_a_dry_run(tmp_path: Path, make_store: MakeStore) -> None:
    root = tmp_path / "mlruns"
    dump = make_store(root.as_uri())
    dest = tmp_path / "dest" / "mltrail.db"
    dest.parent.mkdir()
    dry = _invoke(str(root), "--tracking-uri", f"sqlite:///{dest}", "--dry-run")
    assert "Dry run: nothing was written." in dry
    assert not dest.exists()
    _invoke(str(root), "--tracking-uri", f"sqlite:///{dest}", "-q")
    _destination_matches(f"sqlite:///{dest}", dump)


def test_an_mlflow_2_folder(tmp_path: Path, make_store: MakeStore, mlflow2_python: str) -> None:
    root = tmp_path / "mlruns"
    dump = make_store(root.as_uri(), python=mlflow2_python)
    dest = f"sqlite:///{tmp_path / 'mltrail.db'}"
    _invoke(root.as_uri(), "--tracking-uri", dest, "-q")
    _destination_matches(dest, dump)


def test_kept_artifact_locations(tmp_path: Path, make_store: MakeStore) -> None:
    db = tmp_path / "mlflow.db"
    dump = make_store(f"sqlite:///{db}")
    dest = f"sqlite:///{tmp_path / 'mltrail.db'}"
    source = open_mlflow_source(str(db))
    try:
        report = run_import(source, dest, ImportOptions(keep_artifact_locations=True))
    finally:
        source.close()
    assert report.equal, report.differences()
    assert report.artifact_files_copied == 0
    with open_backend(dest) as backend:
        run = backend.runs.get_run(dump["ids"]["parent"])
    assert run.info.artifact_uri == next(
        r["artifact_uri"] for r in dump["runs"] if r["run_id"] == dump["ids"]["parent"]
    )


def test_the_source_itself_is_refused_as_destination(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    with pytest.raises(InvalidArgument, match="--tracking-uri"):
        check_destination(str(db), f"sqlite:///{db}")
    with pytest.raises(InvalidArgument, match="is the MLflow store"):
        check_destination(str(tmp_path / "mlruns"), f"sqlite:///{tmp_path / 'mlruns' / 'x.db'}")
    check_destination(str(db), f"sqlite:///{tmp_path / 'mltrail.db'}")
    result = CliRunner().invoke(
        cli, ["import", "mlflow", f"sqlite:///{db}", "--tracking-uri", f"sqlite:///{db}"]
    )
    assert result.exit_code != 0
    assert "is the MLflow store being imported" in result.output
    assert not db.exists()


# A pooled keep-alive socket of the artifact proxy's shared HTTP client (mltrail.artifacts.http)
# is sometimes reported unclosed once the copy threads are done with it; not this importer's
# objects (its REST client is closed), and not reproduced outside pytest: to be looked into.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_running_mlflow_server(tmp_path: Path, mlflow_server: Server) -> None:
    dest = f"sqlite:///{tmp_path / 'mltrail.db'}"
    out = _invoke(mlflow_server.url, "--tracking-uri", dest, "-q")
    assert "The destination holds everything the source holds." in out
    _destination_matches(dest, mlflow_server.dump)
    (model,) = mlflow_server.dump["logged_models"]
    with open_backend(dest) as backend:
        copied = backend.logged_models.get_logged_model(model["model_id"])
    source = MltrailSource(dest)
    try:
        repo = source.open_artifacts(copied.artifact_location)
        assert repo is not None
        assert repo.file_info("MLmodel") is not None  # the model's files came through the proxy
    finally:
        source.close()
