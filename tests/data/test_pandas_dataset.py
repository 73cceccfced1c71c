"""mltrail.data.from_pandas with real DataFrames: digest, schema, profile, source, entity."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mltrail
import mltrail.data as mdata
from mltrail._exceptions import InvalidArgument
from mltrail.data import _digest
from mltrail.data._digest import sample_positions
from mltrail.entities import Dataset as DatasetEntity

SRC = str(Path(mltrail.__file__).resolve().parents[1])


def frame(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "x": rng.random(n),
            "y": np.arange(n),
            "label": [f"c{i % 3}" for i in range(n)],
        }
    )


def digest_of(df: pd.DataFrame) -> str:
    return mdata.from_pandas(df, source="data.csv").digest


# -- digest ------------------------------------------------------------------------------------


def test_digest_is_8_hex_chars_and_repeatable() -> None:
    d = digest_of(frame())
    assert len(d) == 8
    assert int(d, 16) >= 0
    assert digest_of(frame()) == d


CHILD = """
import numpy as np, pandas as pd, mltrail.data as mdata
rng = np.random.default_rng(7)
n = 100
df = pd.DataFrame({"x": rng.random(n), "y": np.arange(n), "label": [f"c{i % 3}" for i in range(n)]})
big = pd.DataFrame({"a": np.arange(50_000) * 0.5, "s": [str(i) for i in range(50_000)]})
print(mdata.from_pandas(df, source="data.csv").digest, mdata.from_pandas(big, source="b").digest)
"""


def test_digest_is_stable_across_processes() -> None:
    big = pd.DataFrame({"a": np.arange(50_000) * 0.5, "s": [str(i) for i in range(50_000)]})
    expected = f"{digest_of(frame())} {digest_of(big)}"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": SRC, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == expected


def test_digest_differs_on_different_data() -> None:
    base = frame(10_000)
    digests = {digest_of(base)}
    middle = int(sample_positions(10_000, 1000)[1500])
    for row in (0, middle, 9_999):  # head, a sampled row of the middle, tail
        changed = base.copy()
        changed.loc[row, "x"] = -1.0
        digests.add(digest_of(changed))
    digests.add(digest_of(base.iloc[::-1].reset_index(drop=True)))  # same rows, other order
    digests.add(digest_of(base.iloc[:-1]))  # one row fewer
    digests.add(digest_of(base.rename(columns={"x": "z"})))  # other column name
    digests.add(digest_of(base.astype({"y": "float64"})))  # same values, other dtype
    digests.add(digest_of(base[["y", "x", "label"]]))  # other column order
    assert len(digests) == 9


def test_digest_ignores_the_index() -> None:
    df = frame()
    assert digest_of(df.set_axis(range(100, 200))) == digest_of(df)


def test_digest_of_unhashable_cells_and_edge_shapes() -> None:
    lists = pd.DataFrame({"v": [[1, 2], [3], []], "d": [{"a": 1}, {}, {"b": [2]}]})
    assert digest_of(lists) == digest_of(lists.copy())
    assert digest_of(lists) != digest_of(lists.assign(v=pd.Series([[1, 2], [3], [4]])))
    empty = pd.DataFrame()
    no_rows = pd.DataFrame({"a": pd.Series([], dtype="float64")})
    assert len({digest_of(empty), digest_of(no_rows), digest_of(frame(1))}) == 3


def test_explicit_digest_and_name() -> None:
    ds = mdata.from_pandas(frame(), source="data.csv", name="train", digest="abc")
    assert (ds.name, ds.digest) == ("train", "abc")
    assert mdata.from_pandas(frame(), source="data.csv").name == "dataset"


def test_a_large_frame_is_digested_from_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """10^7 rows: the digest hashes 3,000 sampled rows, as for 10^5 rows, and the dataset is
    made without copying or scanning the frame (allocations stay a small fraction of it)."""
    hashed: list[int] = []
    sampled = _digest._frame_bytes

    def counting(sample: pd.DataFrame) -> bytes:
        hashed.append(len(sample))
        return sampled(sample)

    monkeypatch.setattr(_digest, "_frame_bytes", counting)
    n = 10_000_000
    big = pd.DataFrame({"a": np.arange(n, dtype=np.float64), "b": np.arange(n)})
    source = mdata.LocalArtifactDatasetSource("big.parquet")
    mdata.PandasDataset(big.head(100_000), source=source)
    tracemalloc.start()
    try:
        ds = mdata.PandasDataset(big, source=source)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert hashed == [3000, 3000]
    assert peak < big.memory_usage().sum() / 20, peak
    big.iloc[-1, 0] = -1.0  # in place: no second 160 MB frame
    assert mdata.PandasDataset(big, source=source).digest != ds.digest


# -- schema and profile ------------------------------------------------------------------------


def test_schema_and_profile_json_exact() -> None:
    df = pd.DataFrame(
        {
            "f64": [1.0, 2.0, None],
            "i64": [1, 2, 3],
            "i32": np.array([1, 2, 3], dtype="int32"),
            "u32": np.array([1, 2, 3], dtype="uint32"),
            "u8": np.array([1, 2, 3], dtype="uint8"),
            "f32": np.array([1, 2, 3], dtype="float32"),
            "flag": [True, False, True],
            "text": ["a", "b", None],
            "raw": [b"a", b"b", b"c"],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    d = mdata.from_pandas(df, source="data.csv").to_dict()
    assert d["schema"] == (
        '{"mlflow_colspec": ['
        '{"type": "double", "name": "f64", "required": false}, '
        '{"type": "long", "name": "i64", "required": true}, '
        '{"type": "integer", "name": "i32", "required": true}, '
        '{"type": "long", "name": "u32", "required": true}, '
        '{"type": "integer", "name": "u8", "required": true}, '
        '{"type": "float", "name": "f32", "required": true}, '
        '{"type": "boolean", "name": "flag", "required": true}, '
        '{"type": "string", "name": "text", "required": false}, '
        '{"type": "binary", "name": "raw", "required": true}, '
        '{"type": "datetime", "name": "when", "required": true}, '
        '{"type": "long", "name": "nullable", "required": false}]}'
    )
    assert d["profile"] == '{"num_rows": 3, "num_elements": 33}'


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (pd.Categorical(["a", "b", "a"]), "string"),
        (pd.Series(["a", "b", "c"], dtype=object), "string"),
        (pd.Series([1, 2, 3], dtype=object), "long"),
        (pd.Series([1.5, None, 2.0], dtype=object), "double"),
        (pd.array([True, None, False], dtype="boolean"), "boolean"),
        (pd.array([1.5, None, 3.0], dtype="Float64"), "double"),
        (pd.array([1, 2, 3], dtype="Int32"), "integer"),
        (pd.array(["a", "b", "c"], dtype="string"), "string"),
        (pd.to_datetime(["2024-01-01"] * 3).tz_localize("UTC"), "datetime"),
        (np.array([1, 2, 3], dtype="float16"), "float"),
    ],
)
def test_column_types(column: object, expected: str) -> None:
    df = pd.DataFrame({"c": column})
    schema = mdata.from_pandas(df, source="d.csv").schema
    assert schema is not None
    assert schema["mlflow_colspec"][0]["type"] == expected


@pytest.mark.parametrize(
    "column",
    [
        np.array([1, 2, 3], dtype="uint64"),
        np.array([1j, 2, 3]),
        pd.to_timedelta([1, 2, 3], unit="s"),
        pd.Series([1, "a", 2.0], dtype=object),
        pd.Series([[1], [2], [3]]),
    ],
)
def test_unsupported_column_types_give_no_schema(column: object) -> None:
    df = pd.DataFrame({"ok": [1.0, 2.0, 3.0], "c": column})
    ds = mdata.from_pandas(df, source="d.csv")
    assert ds.schema is None
    assert ds.to_dict()["schema"] is None
    assert ds._to_mlflow_entity().schema is None


def test_non_string_column_names_are_recorded_as_strings() -> None:
    df = pd.DataFrame(np.zeros((2, 2)))
    schema = mdata.from_pandas(df, source="d.csv").schema
    assert schema is not None
    assert [c["name"] for c in schema["mlflow_colspec"]] == ["0", "1"]


# -- targets, predictions, entity --------------------------------------------------------------


def test_targets_and_predictions() -> None:
    df = frame().assign(pred=0.0)
    ds = mdata.from_pandas(df, source="d.csv", targets="y", predictions="pred")
    assert ds.targets == "y"
    assert ds.predictions == "pred"
    assert ds.df is df


def test_entity_conversion() -> None:
    df = frame()
    ds = mdata.from_pandas(df, source="s3://bucket/train.parquet", name="train")
    entity = ds._to_mlflow_entity()
    assert isinstance(entity, DatasetEntity)
    assert entity == DatasetEntity(
        name="train",
        digest=ds.digest,
        source_type="s3",
        source='{"uri": "s3://bucket/train.parquet"}',
        schema=json.dumps(ds.schema),
        profile='{"num_rows": 100, "num_elements": 300}',
    )
    assert (
        json.loads(ds.to_json())
        == ds.to_dict()
        == {
            "name": "train",
            "digest": ds.digest,
            "source": '{"uri": "s3://bucket/train.parquet"}',
            "source_type": "s3",
            "schema": entity.schema,
            "profile": entity.profile,
        }
    )
    assert mdata.get_source(entity) == ds.source
    assert "PandasDataset" in repr(ds)


def test_code_source_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "prepare.py")])
    ds = mdata.from_pandas(frame())
    assert ds.source._get_source_type() == "code"
    tags = json.loads(ds.source.to_json())["tags"]
    assert tags["mlflow.source.name"] == str(tmp_path / "prepare.py")
    assert tags["mlflow.source.type"] == "LOCAL"
    assert "mltrail.source.git.dirty" not in tags
    assert ds._to_mlflow_entity().source_type == "code"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [[1, 2], {"a": [1]}, np.zeros(3), pd.Series([1.0]), None])
def test_not_a_dataframe(bad: object) -> None:
    with pytest.raises(InvalidArgument, match=r"Invalid df .*expected a pandas DataFrame"):
        mdata.from_pandas(bad)  # type: ignore[arg-type]


def test_bad_targets_predictions_name_digest_source() -> None:
    df = frame()
    with pytest.raises(InvalidArgument, match="Invalid targets 'missing'"):
        mdata.from_pandas(df, source="d.csv", targets="missing")
    with pytest.raises(InvalidArgument, match="Invalid predictions"):
        mdata.from_pandas(df, source="d.csv", predictions=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Invalid name"):
        mdata.from_pandas(df, source="d.csv", name="")
    with pytest.raises(InvalidArgument, match="Invalid digest"):
        mdata.from_pandas(df, source="d.csv", digest=123)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Invalid source of type int"):
        mdata.from_pandas(df, source=123)  # type: ignore[arg-type]


def test_importing_mltrail_data_does_not_import_pandas_or_numpy() -> None:
    probe = (
        "import sys, mltrail.data\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'numpy')))"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
