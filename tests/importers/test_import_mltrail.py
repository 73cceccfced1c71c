"""mltrail -> mltrail: every entity, ids kept, values point by point, between SQLite,
PostgreSQL and MariaDB, and from a tracking server; repeated imports write nothing and bring
changes over."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from tests.importers._stores import assert_same_stores, fill, snapshot

from mltrail._exceptions import NotFound, NotImplementedYet
from mltrail.artifacts import get_artifact_repository
from mltrail.entities import ExperimentTag, Metric, RunTag
from mltrail.importers import ImportOptions, ImportReport, run_import
from mltrail.importers._mltrail import MltrailSource, resolve_source_uri, source_key
from mltrail.server import ServerSettings, create_app
from mltrail.store import open_backend
from mltrail.store.rest import RestBackend


def _source(tmp_path: Path, uri: str | None = None) -> tuple[str, dict[str, Any]]:
    uri = uri or f"sqlite:///{tmp_path / 'source.db'}"
    with open_backend(uri, str(tmp_path / "source-artifacts")) as backend:
        made = fill(backend, tmp_path)
    return uri, made


def _import(src_uri: str, dst_uri: str, tmp_path: Path, **options: Any) -> ImportReport:
    source = MltrailSource(src_uri)
    try:
        return run_import(
            source, dst_uri, ImportOptions(artifact_root=str(tmp_path / "dst-art"), **options)
        )
    finally:
        source.close()


def test_every_entity_into_each_database(db_uri: str, tmp_path: Path) -> None:
    src_uri, made = _source(tmp_path)
    report = _import(src_uri, db_uri, tmp_path)
    assert report.equal, report.differences()
    assert report.runs_written == len(made["run_ids"]) + 1  # the deleted experiment's run too
    assert report.logged_models_written == 1
    assert report.registered_models_written == 1
    # 3 runs x (8 + 60 points), the child's one, and the point logged for the model
    assert report.source.metric_points == 3 * (8 + 60) + 1 + 1
    with open_backend(src_uri) as src, open_backend(db_uri) as dst:
        assert_same_stores(src, dst)
        # Copied artifacts live in the destination's store, under the same run ids.
        run = dst.runs.get_run(made["run_ids"][0])
        assert run.info.artifact_uri.startswith((tmp_path / "dst-art").as_uri())
        # A version registered from a location inside a run's artifacts now points at the copy.
        name = made["registered"]
        v2 = dst.registry.get_model_version(name, 2)
        copied = dst.runs.get_run(made["run_ids"][1]).info.artifact_uri
        assert v2.source == copied + "/model"
        assert dst.registry.get_model_version_download_uri(name, 2) == copied + "/model"
        assert (
            dst.registry.get_model_version_download_uri(name, 1) == run.info.artifact_uri + "/model"
        )
        assert dst.registry.get_model_version_by_alias(name, "champion").version == 2
        model = dst.logged_models.get_logged_model(made["model_id"])
        assert model.artifact_location.startswith((tmp_path / "dst-art").as_uri())
        files = get_artifact_repository(model.artifact_location).list_artifacts()
        assert [f.path for f in files] == [f"model-{'exp'}.bin"]
        # The destination goes on working: new experiments get ids past the imported ones.
        new = dst.experiments.create_experiment("after-import")
        assert int(new) > int(made["deleted_experiment"])


@pytest.mark.parametrize("fixture", ["postgres_uri", "mysql_uri"])
def test_from_postgres_and_mariadb(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src_uri, _ = _source(tmp_path, request.getfixturevalue(fixture))
    dst_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    report = _import(src_uri, dst_uri, tmp_path)
    assert report.equal, report.differences()
    with open_backend(src_uri) as src, open_backend(dst_uri) as dst:
        assert_same_stores(src, dst)


def test_a_repeated_import_writes_nothing(db_uri: str, tmp_path: Path) -> None:
    src_uri, _ = _source(tmp_path)
    _import(src_uri, db_uri, tmp_path)
    before = snapshot(db_uri)
    again = _import(src_uri, db_uri, tmp_path)
    assert snapshot(db_uri) == before  # every row of every table, the ledger included
    assert again.equal
    assert (again.experiments_written, again.runs_written, again.rows_written) == (0, 0, 0)
    assert (again.logged_models_written, again.registered_models_written) == (0, 0)
    assert again.artifact_files_copied == 0
    assert again.runs_unchanged == again.source.runs


def test_changes_in_the_source_are_brought_over(tmp_path: Path) -> None:
    src_uri, made = _source(tmp_path)
    dst_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    _import(src_uri, dst_uri, tmp_path)
    first, second, third = made["run_ids"][:3]
    with open_backend(src_uri) as src:
        src.runs.set_tag(first, RunTag("reviewed", "yes"))
        src.runs.log_batch(second, metrics=[Metric("acc", 0.5, 1, -1)])  # below the latest step
        src.experiments.set_experiment_tag(made["experiment"], ExperimentTag("team", "nlp"))
        run = src.runs.get_run(third)
        extra = tmp_path / "extra.txt"
        extra.write_text("late")
        get_artifact_repository(run.info.artifact_uri).log_artifact(extra, "later")
        get_artifact_repository(run.info.artifact_uri).delete_artifacts("notes.txt")
        new = src.runs.create_run(made["experiment"], "eve", 1, [], "new")
        src.runs.log_batch(new.info.run_id, metrics=[Metric("loss", 1.0, 1, 0)])
    report = _import(src_uri, dst_uri, tmp_path)
    assert report.equal, report.differences()
    assert report.runs_written == 4
    assert report.experiments_written == 1
    assert report.artifact_files_copied == 2  # the new run has none; the third's two files
    with open_backend(src_uri) as src, open_backend(dst_uri) as dst:
        assert_same_stores(src, dst)
        copied = get_artifact_repository(dst.runs.get_run(third).info.artifact_uri)
        assert copied.file_info("notes.txt") is None  # removed in the source, removed here
    assert _import(src_uri, dst_uri, tmp_path).runs_written == 0


def test_keep_artifact_locations(tmp_path: Path) -> None:
    src_uri, made = _source(tmp_path)
    dst_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    report = _import(src_uri, dst_uri, tmp_path, keep_artifact_locations=True)
    assert report.equal, report.differences()
    assert report.artifact_files_copied == 0
    assert not (tmp_path / "dst-art").exists()
    with open_backend(src_uri) as src, open_backend(dst_uri) as dst:
        assert_same_stores(src, dst)
        for run_id in made["run_ids"]:
            ours, theirs = dst.runs.get_run(run_id), src.runs.get_run(run_id)
            assert ours.info.artifact_uri == theirs.info.artifact_uri
        v2 = dst.registry.get_model_version(made["registered"], 2)
        assert v2.source == src.registry.get_model_version(made["registered"], 2).source


def test_from_a_tracking_server(
    tmp_path: Path, asgi_backend: Callable[[Starlette], RestBackend]
) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        default_artifact_root=str(tmp_path / "server-artifacts"),
    )
    server = asgi_backend(create_app(settings))
    fill(server, tmp_path)
    dst_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    source = MltrailSource(server.uri, backend=server)
    report = run_import(source, dst_uri, ImportOptions(artifact_root=str(tmp_path / "dst-art")))
    assert report.equal, report.differences()
    again = run_import(source, dst_uri, ImportOptions(artifact_root=str(tmp_path / "dst-art")))
    assert (again.runs_written, again.rows_written) == (0, 0)
    with open_backend(dst_uri) as dst:
        assert_same_stores(server, dst)


def test_a_tracking_server_cannot_be_imported_into(tmp_path: Path) -> None:
    src_uri, _ = _source(tmp_path)
    with pytest.raises(NotImplementedYet, match="import into the server's database URI"):
        _import(src_uri, "http://127.0.0.1:9", tmp_path)


def test_the_source_is_never_written(tmp_path: Path) -> None:
    src_uri, _ = _source(tmp_path)
    before = snapshot(src_uri)
    _import(src_uri, f"sqlite:///{tmp_path / 'dest.db'}", tmp_path)
    assert snapshot(src_uri) == before
    with pytest.raises(NotFound, match="nothing to import"):
        MltrailSource(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


def test_source_uris_and_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "mltrail.db").touch()
    assert resolve_source_uri("store") == f"sqlite:///{tmp_path / 'store' / 'mltrail.db'}"
    assert resolve_source_uri("sqlite:///a.db") == f"sqlite:///{tmp_path / 'a.db'}"
    with pytest.raises(NotFound, match="mltrail import mlflow"):
        resolve_source_uri("elsewhere")
    assert not (tmp_path / "elsewhere").exists()
    assert source_key("postgresql+psycopg://u:secret@h/db") == "mltrail:postgresql://u@h/db"
    assert source_key("http://server:5000/") == "mltrail:http://server:5000"


def test_what_was_deleted_in_the_destination_comes_back(tmp_path: Path) -> None:
    src_uri, made = _source(tmp_path)
    dst_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    _import(src_uri, dst_uri, tmp_path)
    with open_backend(dst_uri) as dst:
        dst.runs.hard_delete_run(made["run_ids"][2])
        dst.registry.delete_registered_model(made["registered"])
        dst.logged_models.delete_logged_model(made["model_id"])
        dst.logged_models.hard_delete_logged_model(made["model_id"])
        dst.experiments.hard_delete_experiment(made["deleted_experiment"])
    report = _import(src_uri, dst_uri, tmp_path)
    assert report.equal, report.differences()
    # Every run: the experiment of the deleted logged model (whose links to runs went with
    # it) is imported again, and so is the deleted experiment's run.
    assert (report.runs_written, report.logged_models_written) == (6, 1)
    assert (report.registered_models_written, report.experiments_written) == (1, 1)
    with open_backend(src_uri) as src, open_backend(dst_uri) as dst:
        assert_same_stores(src, dst)


def test_a_run_deleted_in_the_destination_comes_back_alone(tmp_path: Path) -> None:
    src_uri, made = _source(tmp_path)
    dst_uri = f"sqlite:///{tmp_path / 'dest.db'}"
    _import(src_uri, dst_uri, tmp_path)
    with open_backend(dst_uri) as dst:
        dst.runs.hard_delete_run(made["run_ids"][2])
    report = _import(src_uri, dst_uri, tmp_path)
    assert (report.runs_written, report.runs_unchanged) == (1, report.source.runs - 1)
    assert report.equal, report.differences()


def test_a_laptop_store_into_postgres_and_s3(
    tmp_path: Path, postgres_uri: str, s3_bucket: str
) -> None:
    src_uri, made = _source(tmp_path)
    source = MltrailSource(src_uri)
    try:
        options = ImportOptions(artifact_root=f"{s3_bucket}/mltrail")
        report = run_import(source, postgres_uri, options)
        again = run_import(source, postgres_uri, options)
    finally:
        source.close()
    assert report.equal, report.differences()
    assert report.artifact_files_copied == report.source.artifacts == 7
    assert (again.runs_written, again.artifact_files_copied) == (0, 0)
    with open_backend(src_uri) as src, open_backend(postgres_uri) as dst:
        assert_same_stores(src, dst)  # the artifacts read back from S3, file by file
        run = dst.runs.get_run(made["run_ids"][0])
        assert run.info.artifact_uri.startswith(f"{s3_bucket}/mltrail/")
