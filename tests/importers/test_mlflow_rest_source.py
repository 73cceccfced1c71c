"""A running MLflow tracking server (the real ``mlflow server`` 3.17, artifacts proxied to a
folder) as an import source, read through its REST API value by value as MLflow's client reads
it; and the same server's database read directly, its ``mlflow-artifacts:`` locations resolved
below the ``--artifacts-destination`` the user names."""

from __future__ import annotations

import pytest
from tests.importers._mlflow_compare import assert_source_matches, series
from tests.importers.conftest import Server

from mltrail._exceptions import InvalidArgument
from mltrail.importers._mlflow import open_mlflow_source
from mltrail.importers._mlflow_db import MlflowDatabaseSource
from mltrail.importers._mlflow_rest import MlflowServerSource

pytestmark = pytest.mark.slow


def test_the_server_reads_as_mlflows_client_reads_it(mlflow_server: Server) -> None:
    source = open_mlflow_source(mlflow_server.url)
    try:
        assert isinstance(source, MlflowServerSource)
        contents = assert_source_matches(source, mlflow_server.dump)
        parent = contents[mlflow_server.dump["ids"]["parent"]]
        assert parent.header.info.artifact_uri.startswith("mlflow-artifacts:")
        repo = source.open_artifacts(parent.header.info.artifact_uri)
        assert repo is not None
        with repo.open_read("notes/hello.txt") as stream:
            assert stream.read() == b"hello"
        ids = [e.experiment_id for e in source.experiments()]
        counts = source.counts(ids)
        assert counts.runs == len(mlflow_server.dump["runs"])
        assert counts.metric_points == sum(
            len(points or [])
            for run in mlflow_server.dump["runs"]
            for points in run["metrics"].values()
        )
        assert counts.model_versions == 3
    finally:
        source.close()


def test_without_the_bulk_history_call_every_series_is_read_whole(mlflow_server: Server) -> None:
    bulk, single = MlflowServerSource(mlflow_server.url), MlflowServerSource(mlflow_server.url)
    single._has_bulk = False  # a server (or proxy) without the UI's ajax-api endpoints
    try:
        ids = [e.experiment_id for e in bulk.experiments()]
        one = {
            c.header.info.run_id: series(c) for c in bulk.run_contents(list(bulk.run_headers(ids)))
        }
        two = {
            c.header.info.run_id: series(c)
            for c in single.run_contents(list(single.run_headers(ids)))
        }
        assert repr(one) == repr(two)
        assert len(one[mlflow_server.dump["ids"]["parent"]]["loss"]) == 100
    finally:
        bulk.close()
        single.close()


def test_the_servers_database_needs_its_artifacts_destination(mlflow_server: Server) -> None:
    parent_id = mlflow_server.dump["ids"]["parent"]
    uri = f"sqlite:///{mlflow_server.db}"
    source = MlflowDatabaseSource(uri)
    try:
        ids = [e.experiment_id for e in source.experiments()]
        (parent,) = [h for h in source.run_headers(ids) if h.info.run_id == parent_id]
        with pytest.raises(InvalidArgument, match="--artifacts-destination"):
            source.open_artifacts(parent.info.artifact_uri)
    finally:
        source.close()
    source = open_mlflow_source(uri, artifacts_destination=str(mlflow_server.artifacts))
    try:
        repo = source.open_artifacts(parent.info.artifact_uri)
        assert repo is not None
        with repo.open_read("notes/hello.txt") as stream:
            assert stream.read() == b"hello"
        assert_source_matches(source, mlflow_server.dump)
    finally:
        source.close()
