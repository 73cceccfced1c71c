"""The evaluation dataset hash of the ``mlflow.datasets`` run tag, computed as MLflow does for
NumPy input: MD5 over, for the features, the targets and the predictions in turn, the row count
and the rows (all of them below ten rows, else the first and the last five), each array as
pandas' element hashes and its shape, as big-endian unsigned 64-bit integers; then the feature
names joined by commas."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

__all__ = ["array_dataset_hash"]

_SAMPLE_ROWS = 5


def _uint64(values: Any) -> bytes:
    return struct.pack(f">{len(values)}Q", *(int(v) for v in values))


def _array_bytes(array: Any) -> bytes:
    import numpy as np
    import pandas as pd

    array = np.asarray(array)
    hashed = pd.util.hash_array(array.flatten(order="C"))
    return _uint64(hashed) + _uint64(np.array(array.shape, dtype="uint64"))


def _update(md5: Any, array: Any) -> None:
    md5.update(_uint64([len(array)]))
    if len(array) < _SAMPLE_ROWS * 2:
        md5.update(_array_bytes(array))
    else:
        md5.update(_array_bytes(array[:_SAMPLE_ROWS]))
        md5.update(_array_bytes(array[-_SAMPLE_ROWS:]))


def array_dataset_hash(
    features: Any, targets: Any | None, predictions: Any | None, feature_names: list[str]
) -> str:
    """The hash of NumPy *features* (2-d), *targets* and *predictions* (or None)."""
    md5 = hashlib.md5(usedforsecurity=False)
    for array in (features, targets, predictions):
        if array is not None:
            _update(md5, array)
    md5.update(",".join(feature_names).encode("utf-8"))
    return md5.hexdigest()
