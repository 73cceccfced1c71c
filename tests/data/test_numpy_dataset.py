"""mltrail.data.from_numpy with real arrays: digest, schema, profile, entity, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import mltrail
import mltrail.data as mdata
from mltrail._exceptions import InvalidArgument
from mltrail.data import _digest
from mltrail.data._digest import sample_positions

SRC = str(Path(mltrail.__file__).resolve().parents[1])


def digest_of(features: object, targets: object = None) -> str:
    return mdata.from_numpy(features, source="d.npy", targets=targets).digest  # type: ignore[arg-type]


def test_schema_and_profile_json_exact() -> None:
    features = np.arange(12.0).reshape(3, 4)
    ds = mdata.from_numpy(features, source="d.npy", targets=np.array([1, 2, 3]))
    d = ds.to_dict()
    assert d["schema"] == json.dumps(
        {
            "mlflow_tensorspec": {
                "features": '[{"type": "tensor", "tensor-spec": '
                '{"dtype": "float64", "shape": [-1, 4]}}]',
                "targets": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
            }
        }
    )
    assert d["profile"] == (
        '{"features_shape": [3, 4], "features_size": 12, "features_nbytes": 96, '
        '"targets_shape": [3], "targets_size": 3, "targets_nbytes": 24}'
    )
    assert ds.features is features
    assert ds.targets is not None


def test_schema_without_targets_and_special_dtypes() -> None:
    def spec_of(array: npt.NDArray[Any]) -> Any:
        schema = mdata.from_numpy(array, source="d.npy").schema
        assert schema is not None
        assert schema["mlflow_tensorspec"]["targets"] is None
        specs = json.loads(schema["mlflow_tensorspec"]["features"])
        assert [s["type"] for s in specs] == ["tensor"]
        return specs[0]["tensor-spec"]

    assert spec_of(np.zeros((2, 3, 4), dtype="float32")) == {
        "dtype": "float32",
        "shape": [-1, 3, 4],
    }
    assert spec_of(np.array(["a", "bb"])) == {"dtype": "str", "shape": [-1]}
    assert spec_of(np.array([b"a"]))["dtype"] == "bytes"
    assert spec_of(np.array([1, 2], dtype=object))["dtype"] == "object"
    assert spec_of(np.array([True]))["dtype"] == "bool"
    assert spec_of(np.array(["2024-01-01"], dtype="datetime64[s]"))["dtype"] == "datetime64[s]"


def test_dict_features_and_targets() -> None:
    features = {"a": np.arange(12.0).reshape(3, 4), "b": np.array(["x", "y", "zz"])}
    ds = mdata.from_numpy(features, source="d.npy", targets={"t": np.array([1, 2, 3])})
    schema = ds.schema
    assert schema is not None
    assert json.loads(schema["mlflow_tensorspec"]["features"]) == [
        {"name": "a", "type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}},
        {"name": "b", "type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1]}},
    ]
    assert ds.profile == {
        "features_shape": {"a": [3, 4], "b": [3]},
        "features_size": {"a": 12, "b": 3},
        "features_nbytes": {"a": 96, "b": 24},
        "targets_shape": {"t": [3]},
        "targets_size": {"t": 3},
        "targets_nbytes": {"t": 24},
    }


CHILD = """
import numpy as np, mltrail.data as mdata
a = np.arange(100_000, dtype=np.float64).reshape(25_000, 4)
objs = np.array([{"k": i} for i in range(10)], dtype=object)
print(mdata.from_numpy(a, source="d", targets=a[:, 0] > 10).digest,
      mdata.from_numpy({"o": objs, "s": np.array(["x", "y"])}, source="d").digest)
"""


def test_digest_is_stable_across_processes() -> None:
    a = np.arange(100_000, dtype=np.float64).reshape(25_000, 4)
    objs = np.array([{"k": i} for i in range(10)], dtype=object)
    expected = f"{digest_of(a, a[:, 0] > 10)} {digest_of({'o': objs, 's': np.array(['x', 'y'])})}"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": SRC, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == expected


def test_digest_differs_on_different_data() -> None:
    base = np.arange(200_000, dtype=np.float64).reshape(50_000, 4)
    digests = {digest_of(base)}
    middle = int(sample_positions(200_000, 10_000)[15_000])
    for flat in (0, middle, 199_999):
        changed = base.copy().reshape(-1)
        changed[flat] = -1
        digests.add(digest_of(changed.reshape(50_000, 4)))
    digests.add(digest_of(base.reshape(100_000, 2)))  # same values, other shape
    digests.add(digest_of(base.astype(np.float32)))  # other dtype
    digests.add(digest_of(base, targets=np.zeros(50_000)))  # with targets
    digests.add(digest_of({"x": base}))  # named
    digests.add(digest_of({"y": base}))  # named otherwise
    assert len(digests) == 9


def test_digest_does_not_depend_on_memory_layout() -> None:
    a = np.arange(60_000, dtype=np.float64).reshape(200, 300)
    assert digest_of(np.asfortranarray(a)) == digest_of(a)
    assert digest_of(a[:, ::2]) == digest_of(np.ascontiguousarray(a[:, ::2]))


def test_a_large_array_is_digested_from_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """10^7 rows: the digest hashes as many bytes as for 10^5 rows, and the dataset is made
    without copying or scanning the array (allocations stay a small fraction of its size)."""
    hashed: list[int] = []
    sampled = _digest._array_bytes

    def counting(array: np.ndarray) -> bytes:
        data = sampled(array)
        hashed.append(len(data))
        return data

    monkeypatch.setattr(_digest, "_array_bytes", counting)
    source = mdata.LocalArtifactDatasetSource("big.npy")
    mdata.NumpyDataset(np.zeros((100_000, 4)), source=source)
    big = np.zeros((10_000_000, 4))
    tracemalloc.start()
    try:
        mdata.NumpyDataset(big, source=source)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert hashed[0] == hashed[1] < 1_000_000, hashed
    assert peak < big.nbytes / 20, peak


def test_entity_conversion() -> None:
    ds = mdata.from_numpy(np.ones((5, 2)), source="https://u:p@example.com/x.npy", name="ones")
    entity = ds._to_mlflow_entity()
    assert entity.name == "ones"
    assert entity.digest == ds.digest
    assert entity.source_type == "http"
    assert entity.source == '{"url": "https://example.com/x.npy"}'
    assert entity.schema == json.dumps(ds.schema)
    assert json.loads(entity.profile or "") == {
        "features_shape": [5, 2],
        "features_size": 10,
        "features_nbytes": 80,
    }


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([1, 2, 3], "Invalid features of type list"),
        (np.float64(3.0), "Invalid features of type float64"),
        (np.array(3.0), "Invalid features: a 0-dimensional array"),
        ({}, "Invalid features: an empty dict"),
        ({"a": [1, 2]}, r"Invalid features\['a'\] of type list"),
        ({1: np.zeros(2)}, "Invalid features key 1"),
        (None, "Invalid features of type NoneType"),
    ],
)
def test_bad_features(features: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        mdata.from_numpy(features, source="d.npy")  # type: ignore[arg-type]


def test_bad_targets() -> None:
    with pytest.raises(InvalidArgument, match="Invalid targets of type list"):
        mdata.from_numpy(np.zeros(3), source="d.npy", targets=[1, 2, 3])  # type: ignore[arg-type]
