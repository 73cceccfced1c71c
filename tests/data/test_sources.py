"""Dataset sources: what a ``source=`` argument becomes, and back from a recorded entity."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import mltrail.data as mdata
from mltrail._exceptions import InvalidArgument
from mltrail.data._sources import resolve_source
from mltrail.entities import Dataset as DatasetEntity
from mltrail.entities import DatasetInput, InputTag


@pytest.mark.parametrize(
    ("raw", "source_type", "document"),
    [
        ("/data/train.csv", "local", {"uri": "/data/train.csv"}),
        ("data/train.csv", "local", {"uri": "data/train.csv"}),
        ("file:///data/train.csv", "local", {"uri": "file:///data/train.csv"}),
        ("C:\\data\\train.csv", "local", {"uri": "C:\\data\\train.csv"}),
        ("https://example.com/train.csv", "http", {"url": "https://example.com/train.csv"}),
        ("http://u:pw@example.com/t.csv?v=2", "http", {"url": "http://example.com/t.csv?v=2"}),
        ("s3://bucket/key.parquet", "s3", {"uri": "s3://bucket/key.parquet"}),
        ("gs://bucket/key", "gs", {"uri": "gs://bucket/key"}),
        ("hdfs://namenode/path", "hdfs", {"uri": "hdfs://namenode/path"}),
        (
            "wasbs://box@acct.blob.core.windows.net/p",
            "wasbs",
            {"uri": "wasbs://box@acct.blob.core.windows.net/p"},
        ),
        ("sftp://me:pw@host/file", "sftp", {"uri": "sftp://me@host/file"}),
        ("ftp://user:pw@host/file", "ftp", {"uri": "ftp://host/file"}),
    ],
)
def test_string_sources(raw: str, source_type: str, document: dict[str, str]) -> None:
    source = resolve_source(raw)
    assert source._get_source_type() == source_type
    assert source.source_type == source_type
    assert json.loads(source.to_json()) == document
    ds = mdata.from_pandas(pd.DataFrame({"a": [1]}), source=raw)
    assert ds._to_mlflow_entity().source_type == source_type


def test_path_objects_are_local(tmp_path: Path) -> None:
    source = resolve_source(tmp_path / "train.csv")
    assert isinstance(source, mdata.LocalArtifactDatasetSource)
    assert source.uri == str(tmp_path / "train.csv")


def test_source_objects_are_kept() -> None:
    source = mdata.HTTPDatasetSource("https://example.com/x.csv")
    assert mdata.from_pandas(pd.DataFrame({"a": [1]}), source=source).source is source


@pytest.mark.parametrize(
    "raw", ["dbfs:/x", "runs:/abc/model", "mlflow-artifacts:/1/2", "weird://x"]
)
def test_unsupported_schemes(raw: str) -> None:
    with pytest.raises(InvalidArgument, match=r"Invalid source .*unsupported URI scheme"):
        resolve_source(raw)


def test_unsupported_scheme_error_does_not_echo_credentials() -> None:
    with pytest.raises(InvalidArgument) as info:
        resolve_source("weird://user:hunter2@host/x")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("raw", ["", "   ", 12, b"/x", ["/x"]])
def test_bad_sources(raw: object) -> None:
    with pytest.raises(InvalidArgument, match="Invalid source"):
        resolve_source(raw)


def test_code_source_describes_the_running_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "make_data.py")])
    source = resolve_source(None)
    assert isinstance(source, mdata.CodeDatasetSource)
    assert source._get_source_type() == "code"
    document = json.loads(source.to_json())
    assert set(document) == {"tags"}
    assert document["tags"]["mlflow.source.name"] == str(tmp_path / "make_data.py")
    assert "mlflow.user" in document["tags"]


@pytest.mark.parametrize(
    "source",
    [
        mdata.LocalArtifactDatasetSource("/data/x.csv"),
        mdata.HTTPDatasetSource("https://example.com/x.csv"),
        mdata.ArtifactDatasetSource("s3://bucket/x.csv"),
        mdata.CodeDatasetSource({"mlflow.source.name": "/x/train.py"}),
    ],
)
def test_get_source_round_trips_through_the_entity(source: mdata.DatasetSource) -> None:
    ds = mdata.from_pandas(pd.DataFrame({"a": [1.0]}), source=source)
    entity = ds._to_mlflow_entity()
    assert mdata.get_source(entity) == source
    assert mdata.get_source(DatasetInput(entity, [InputTag("mlflow.data.context", "train")])) == (
        source
    )
    assert mdata.get_source(ds) is source


def test_get_source_of_an_unknown_type_keeps_its_document() -> None:
    entity = DatasetEntity("d", "abcd1234", "delta_table", '{"path": "/t", "version": 3}')
    source = mdata.get_source(entity)
    assert source._get_source_type() == "delta_table"
    assert source.to_dict() == {"path": "/t", "version": 3}


def test_get_source_of_something_else() -> None:
    with pytest.raises(InvalidArgument, match="Invalid dataset of type str"):
        mdata.get_source("not a dataset")


def test_public_names() -> None:
    for name in mdata.__all__:
        assert hasattr(mdata, name), name
    assert mdata.__all__ == sorted(mdata.__all__)


def test_dataset_classes_want_a_source_object() -> None:
    with pytest.raises(InvalidArgument, match="Invalid source of type str"):
        mdata.PandasDataset(pd.DataFrame({"a": [1]}), source="x.csv")  # type: ignore[arg-type]
