"""The evaluation dataset hash of the ``mlflow.datasets`` run tag, computed as MLflow does for
NumPy input and pandas frames of scalar columns: MD5 over, for the features, the targets and
the predictions in turn, the row count and the rows (all of them below ten rows, else the
first and the last five), an array as pandas' element hashes and its shape, a frame as its
row hashes (index included), as big-endian unsigned 64-bit integers; then the feature names
joined by commas."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

__all__ = ["array_dataset_hash", "frame_dataset_hash"]

_SAMPLE_ROWS = 5


def _uint64(values: Any) -> bytes:
    return struct.pack(f">{len(values)}Q", *(int(v) for v in values))


def _array_bytes(array: Any) -> bytes:
    import numpy as np
    import pandas as pd

    array = np.asarray(array)
    hashed = pd.util.hash_array(array.flatten(order="C"))
    return _uint64(hashed) + _uint64(np.array(array.shape, dtype="uint64"))


def _frame_bytes(frame: Any) -> bytes:
    import pandas as pd

    return _uint64(pd.util.hash_pandas_object(frame).to_numpy())  # rows with their index


def _update(md5: Any, data: Any) -> None:
    import pandas as pd

    to_bytes = _frame_bytes if isinstance(data, pd.DataFrame) else _array_bytes
    rows = data.iloc if isinstance(data, pd.DataFrame) else data
    md5.update(_uint64([len(data)]))
    if len(data) < _SAMPLE_ROWS * 2:
        md5.update(to_bytes(data))
    else:
        md5.update(to_bytes(rows[:_SAMPLE_ROWS]))
        md5.update(to_bytes(rows[-_SAMPLE_ROWS:]))


def array_dataset_hash(
    features: Any, targets: Any | None, predictions: Any | None, feature_names: list[str]
) -> str:
    """The hash of *features* (a 2-d NumPy array or a pandas frame), NumPy *targets* and
    *predictions* (or None)."""
    md5 = hashlib.md5(usedforsecurity=False)
    for array in (features, targets, predictions):
        if array is not None:
            _update(md5, array)
    md5.update(",".join(feature_names).encode("utf-8"))
    return md5.hexdigest()


def frame_dataset_hash(
    features: Any, targets: Any | None, predictions: Any | None, feature_names: list[str]
) -> str | None:
    """The hash of a pandas *features* frame of scalar columns (its index included) with NumPy
    *targets* and *predictions*; None for a frame with object columns (MLflow hashes their
    nested values its own way)."""
    if any(dtype.kind == "O" for dtype in features.dtypes):
        return None
    return array_dataset_hash(features, targets, predictions, feature_names)
