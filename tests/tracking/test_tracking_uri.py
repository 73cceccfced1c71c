"""Tracking URIs mltrail cannot serve are refused with a message that says so; an SQLite file's
missing folder is an error, a folder store's folder is created (README's URI table)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mltrail as mlflow
from mltrail import MlflowClient
from mltrail._exceptions import InvalidArgument

HOSTED = [
    "databricks",
    "databricks://my-profile",
    "databricks-uc",
    "databricks-uc://my-profile",
    "uc:http://localhost:8080",
]


@pytest.mark.parametrize("uri", HOSTED)
def test_hosted_service_uris_are_refused_naming_the_uri_and_the_accepted_forms(
    uri: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        mlflow.set_tracking_uri(uri)
    message = str(caught.value)
    assert repr(uri) in message
    assert "Databricks" in message
    for accepted in ("sqlite:///", "postgresql://", "http(s)://", "./folder"):
        assert accepted in message
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'mltrail.db'}"  # unchanged
    assert list(tmp_path.iterdir()) == []  # no ./databricks/mltrail.db


def test_a_hosted_uri_from_the_environment_is_refused_at_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "databricks")
    with pytest.raises(InvalidArgument, match="'databricks'"):
        mlflow.start_run()
    assert mlflow.active_run() is None
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_opaque_scheme_is_refused(tmp_path: Path) -> None:
    uri = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/x"
    with pytest.raises(InvalidArgument, match="cannot read scheme 'arn:'"):
        mlflow.set_tracking_uri(uri)
    assert list(tmp_path.iterdir()) == []


def test_an_sqlite_file_in_a_missing_folder_is_an_error_naming_the_folder(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no" / "such"
    mlflow.set_tracking_uri(f"sqlite:///{missing / 'runs.db'}")
    with pytest.raises(InvalidArgument) as caught:
        mlflow.start_run()
    assert str(missing) in str(caught.value)
    assert "does not exist" in str(caught.value)
    assert not (tmp_path / "no").exists()
    with pytest.raises(InvalidArgument, match="does not exist"):
        MlflowClient("sqlite:///no/such/runs.db").search_experiments()
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("uri", ["./folder", "file:./folder", "folder"])
def test_folder_stores_are_created_as_documented(uri: str, tmp_path: Path) -> None:
    mlflow.set_tracking_uri(uri)
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'folder' / 'mltrail.db'}"
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    assert (tmp_path / "folder" / "mltrail.db").is_file()
    assert mlflow.get_run(run.info.run_id).data.params == {"p": "1"}


def test_the_default_and_relative_sqlite_files_keep_working(tmp_path: Path) -> None:
    with mlflow.start_run():
        pass
    assert (tmp_path / "mltrail.db").is_file()
    mlflow.set_tracking_uri("sqlite:///relative.db")
    with mlflow.start_run():
        pass
    assert (tmp_path / "relative.db").is_file()
