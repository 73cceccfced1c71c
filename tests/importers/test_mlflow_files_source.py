"""An MLflow file store (``mlruns``) as an import source: folders written by MLflow 3.17 (with
``MLFLOW_ALLOW_FILE_STORE``: 3.x keeps the file store in maintenance mode) and MLflow 2.22,
read value by value as MLflow's client reads them; nothing in the folder changes."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import sys
from pathlib import Path

import pytest
from tests.importers._mlflow_compare import assert_source_matches
from tests.importers.conftest import MakeStore, run_script

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.importers._mlflow import open_mlflow_source
from mltrail.importers._mlflow_files import MlflowFileSource

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, str]:
    """Every file below *root* with its content's digest (and its modification time)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        + f"@{path.stat().st_mtime_ns}"
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_an_mlflow_3_folder_reads_as_mlflows_client_reads_it(
    tmp_path: Path, make_store: MakeStore
) -> None:
    root = tmp_path / "mlruns"
    dump = make_store(root.as_uri())
    before = _tree(root)
    source = open_mlflow_source(root.as_uri())
    try:
        assert isinstance(source, MlflowFileSource)
        contents = assert_source_matches(source, dump)
        parent = contents[dump["ids"]["parent"]]
        assert parent.params["opt/beta"] == "0.9"  # a key with '/' is a nested file
        assert sorted(parent.model_output_ids) == [(dump["logged_models"][0]["model_id"], 0)]
        ids = [e.experiment_id for e in source.experiments()]
        counts = source.counts(ids)
        assert counts.runs == len(dump["runs"])
        assert counts.logged_models == 1
        assert counts.model_versions == 3
        assert counts.artifacts is not None
        assert counts.artifacts >= 2
        repo = source.open_artifacts(parent.header.info.artifact_uri)
        assert repo is not None
        with repo.open_read("config.json") as stream:
            assert stream.read() == b'{\n  "a": 1\n}'
        (model,) = source.logged_models(ids)
        model_repo = source.open_artifacts(model.artifact_location)
        assert model_repo is not None
        assert model_repo.file_info("MLmodel") is not None
    finally:
        source.close()
    assert _tree(root) == before


def test_a_moved_folder_still_finds_its_artifacts_and_fingerprints_follow_changes(
    tmp_path: Path, make_store: MakeStore
) -> None:
    written = tmp_path / "mlruns"
    dump = make_store(written.as_uri())
    moved = tmp_path / "elsewhere" / "mlruns"
    shutil.copytree(written, moved)
    shutil.rmtree(written)
    source = MlflowFileSource(str(moved))
    ids = [e.experiment_id for e in source.experiments()]
    headers = {h.info.run_id: h for h in source.run_headers(ids)}
    parent = headers[dump["ids"]["parent"]]
    assert str(written) in parent.info.artifact_uri  # the location as MLflow recorded it
    repo = source.open_artifacts(parent.info.artifact_uri)
    assert repo is not None
    with repo.open_read("notes/hello.txt") as stream:
        assert stream.read() == b"hello"
    run_script(sys.executable, "more", moved.as_uri(), parent.info.run_id, cwd=tmp_path)
    after = {h.info.run_id: h.fingerprint for h in MlflowFileSource(str(moved)).run_headers(ids)}
    changed = [run_id for run_id, h in headers.items() if h.fingerprint != after[run_id]]
    assert changed == [parent.info.run_id]


def test_an_mlflow_2_folder_reads_as_mlflow_2_reads_it(
    tmp_path: Path, make_store: MakeStore, mlflow2_python: str
) -> None:
    root = tmp_path / "mlruns"
    dump = make_store(root.as_uri(), python=mlflow2_python)
    assert dump["mlflow_version"].startswith("2.")
    source = MlflowFileSource(str(root))
    assert_source_matches(source, dump)
    assert list(source.logged_models([e.experiment_id for e in source.experiments()])) == []


def test_old_metric_lines_and_malformed_ones(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    run_dir = root / "0" / ("ab" * 16)
    (root / "0").mkdir(parents=True)
    (root / "0" / "meta.yaml").write_text(
        "experiment_id: '0'\nname: Default\nartifact_location: ./mlruns/0\n"
        "lifecycle_stage: active\n"
    )
    for folder in ("metrics", "params", "tags", "artifacts"):
        (run_dir / folder).mkdir(parents=True)
    (run_dir / "meta.yaml").write_text(
        f"run_uuid: {'ab' * 16}\nexperiment_id: '0'\nstatus: 3\nstart_time: 5\n"
        "end_time: 9\nuser_id: bob\nlifecycle_stage: active\nartifact_uri: ''\n"
    )
    (run_dir / "tags" / "mlflow.runName").write_text("old-run")
    (run_dir / "metrics" / "m").write_text("100 1.5\n101 nan 2\n102 -inf 3 train d1\n")
    source = MlflowFileSource(str(root))
    (header,) = source.run_headers(["0"])
    assert header.info.run_name == "old-run"
    assert header.info.status == "FINISHED"
    (contents,) = source.run_contents([header])
    cols = contents.metrics
    assert cols.steps == [0, 2, 3]
    assert cols.timestamps == [100, 101, 102]
    assert cols.values[0] == 1.5
    assert math.isnan(cols.values[1])
    assert cols.values[2] == -math.inf
    assert cols.dataset_names == [None, None, "train"]
    (run_dir / "metrics" / "m").write_text("100\n")
    with pytest.raises(InvalidArgument, match="Malformed MLflow metric file"):
        list(source.run_contents([header]))


def test_what_is_not_an_mlruns_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        MlflowFileSource(str(tmp_path / "nothing"))
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("x")
    with pytest.raises(InvalidArgument, match="not an MLflow file store"):
        open_mlflow_source(str(tmp_path / "plain"))
    with pytest.raises(InvalidArgument, match="Unsupported MLflow source"):
        open_mlflow_source("gs://bucket/mlruns")
    assert os.listdir(tmp_path / "plain") == ["notes.txt"]
