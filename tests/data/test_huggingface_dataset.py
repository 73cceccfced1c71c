"""mltrail.data.from_huggingface: MLflow's HuggingFaceDataset, recorded as MLflow records it."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mltrail
import mltrail.data as mdata
from mltrail._exceptions import InvalidArgument, MissingDependency

datasets = pytest.importorskip("datasets")


def make_ds(rows: int = 5) -> Any:
    return datasets.Dataset.from_dict(
        {
            "text": [f"sentence {i}" for i in range(rows)],
            "label": [i % 2 for i in range(rows)],
            "score": [i / 3 for i in range(rows)],
            "tokens": [list(range(i + 1)) for i in range(rows)],
            "note": [None if i % 2 else f"n{i}" for i in range(rows)],
        }
    )


@pytest.fixture
def official_mlflow(tmp_path: Path) -> Iterator[Any]:
    """The official mlflow, tracking to its own SQLite file; its fluent state reset after."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip("mlflow")
        import mlflow.data
        import mlflow.tracking._tracking_service.utils as tracking_utils
        import mlflow.tracking.fluent as fluent
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'theirs.db'}")
    try:
        yield mlflow
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        fluent._active_experiment_id = None
        tracking_utils._tracking_uri = None


def _recorded(client: Any, run_id: str) -> list[dict[str, Any]]:
    inputs = client.get_run(run_id).inputs.dataset_inputs
    return [
        {
            "name": i.dataset.name,
            "digest": i.dataset.digest,
            "source_type": i.dataset.source_type,
            "source": json.loads(i.dataset.source),
            "schema": json.loads(i.dataset.schema) if i.dataset.schema else None,
            "profile": json.loads(i.dataset.profile) if i.dataset.profile else None,
            "tags": {t.key: t.value for t in i.tags},
        }
        for i in inputs
    ]


def _log(lib: Any, ds: Any) -> str:
    with lib.start_run() as run:
        lib.log_input(
            lib.data.from_huggingface(
                ds, path="org/corpus", data_files="train.csv", revision="v1", name="hub"
            ),
            context="training",
        )
        lib.log_input(
            lib.data.from_huggingface(ds, targets="label", source="s3://bucket/corpus"),
            context="eval",
        )
        lib.log_input(lib.data.from_huggingface(ds.select(range(2)), name="code"))
    return str(run.info.run_id)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_recorded_inputs_equal_mlflows(tmp_path: Path, official_mlflow: Any) -> None:
    ds = make_ds(30)
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'ours.db'}")
    ours = _recorded(mltrail.MlflowClient(), _log(mltrail, ds))
    theirs = _recorded(official_mlflow.MlflowClient(), _log(official_mlflow, ds))
    key = lambda d: (d["name"], d["digest"])  # noqa: E731
    ours.sort(key=key)
    theirs.sort(key=key)
    assert len(ours) == 3
    for our, their in zip(ours, theirs, strict=True):
        if our["source_type"] == "code":  # the running code: its tags differ by process only
            assert their["source_type"] == "code"
            our.pop("source")
            their.pop("source")
        assert our == their
    hub = next(d for d in ours if d["name"] == "hub")
    assert hub["source_type"] == "hugging_face"
    assert hub["source"] == {
        "path": "org/corpus",
        "config_name": None,
        "data_dir": None,
        "data_files": "train.csv",
        "split": "None",
        "revision": "v1",
    }
    assert hub["profile"] == {"num_rows": 30, "dataset_size": None, "size_in_bytes": None}
    columns = {c["name"]: c for c in hub["schema"]["mlflow_colspec"]}
    assert columns["tokens"]["type"] == "array"
    assert columns["note"]["required"] is False


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")  # MLflow's integer-column hint
def test_digest_equals_mlflows_on_many_rows_and_types(official_mlflow: Any) -> None:
    """MLflow hashes the first 10,000 rows of its numeric and all-``str`` columns."""
    rows = 12_345
    ds = datasets.Dataset.from_dict(
        {
            "f": [i * 0.5 for i in range(rows)],
            "i": list(range(rows)),
            "s": [f"v{i % 97}" for i in range(rows)],
            "b": [i % 3 == 0 for i in range(rows)],
            "gap": [None if i == rows - 1 else "x" for i in range(rows)],
        }
    )
    ours = mdata.from_huggingface(ds, path="p")
    theirs = official_mlflow.data.from_huggingface(ds, path="p")
    assert ours.digest == theirs.digest
    assert ours.to_dict() == theirs.to_dict()
    # Only the first 10,000 rows count, as in MLflow; a change there changes the digest.
    tail_changed = ds.map(lambda r, k: {"i": -1 if k == rows - 1 else r["i"]}, with_indices=True)
    head_changed = ds.map(lambda r, k: {"i": -1 if k == 0 else r["i"]}, with_indices=True)
    assert mdata.from_huggingface(tail_changed, path="p").digest == ours.digest
    assert mdata.from_huggingface(head_changed, path="p").digest != ours.digest
    assert (
        mdata.from_huggingface(head_changed, path="p").digest
        == official_mlflow.data.from_huggingface(head_changed, path="p").digest
    )


def test_source_round_trip_and_reload(tmp_path: Path) -> None:
    csv = tmp_path / "train.csv"
    csv.write_text("a,b\n1,x\n2,y\n")
    loaded = datasets.load_dataset("csv", data_files=str(csv), split="train")
    dataset = mdata.from_huggingface(loaded, path="csv", data_files=str(csv), name="local")
    source = dataset.source
    assert isinstance(source, mdata.HuggingFaceDatasetSource)
    assert source.split == "train"
    entity = dataset._to_mlflow_entity()
    rebuilt = mdata.get_source(entity)
    assert isinstance(rebuilt, mdata.HuggingFaceDatasetSource)
    assert rebuilt == source
    again = rebuilt.load()  # datasets.load_dataset on the local CSV: nothing downloaded
    assert again.to_dict() == loaded.to_dict()
    with pytest.raises(InvalidArgument, match=r"\['split'\]"):
        rebuilt.load(split="train")
    inputs, outputs = mdata.from_huggingface(loaded, targets="b").to_pyfunc()
    assert list(inputs.columns) == ["a"]
    assert outputs.tolist() == ["x", "y"]


def test_bad_arguments() -> None:
    ds = make_ds()
    with pytest.raises(InvalidArgument, match="Invalid ds of type dict"):
        mdata.from_huggingface({"a": [1]})
    with pytest.raises(InvalidArgument, match="Invalid ds of type DatasetDict"):
        mdata.from_huggingface(datasets.DatasetDict({"train": ds}))
    with pytest.raises(InvalidArgument, match="Invalid targets 'y'"):
        mdata.from_huggingface(ds, targets="y")
    with pytest.raises(InvalidArgument, match="Invalid path ''"):
        mdata.from_huggingface(ds, path="")
    assert mdata.from_huggingface(ds, digest="abc", name="n").digest == "abc"


def test_missing_datasets_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingDependency, match=r"pip install 'mltrail\[huggingface\]'"):
        mdata.from_huggingface(object())
