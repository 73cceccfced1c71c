"""Short, stable dataset digests computed from a bounded sample of the data.

A digest is the first 8 hex characters of a SHA-256 over the data's structure (shape, column
names, dtypes) and a sample of its values: the first rows, evenly spaced rows from the middle and
the last rows. The sample is bounded, so a frame of 10^7 rows is digested in milliseconds, and
hashing never uses Python's per-process salted ``hash()``, so the same data gives the same digest
in every process. Two datasets that differ only outside the sample share a digest: the digest tells
datasets apart for tracking, it is not a checksum.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "DIGEST_LENGTH",
    "mlflow_frame_digest",
    "numpy_digest",
    "pandas_digest",
    "sample_positions",
]

DIGEST_LENGTH = 8
_ROWS_PER_REGION = 1000  # pandas: rows from the head, the middle and the tail
_MAX_SAMPLED_CELLS = 300_000  # pandas: fewer rows per region for wide frames
_COLUMNS_PER_REGION = 1000  # pandas: very wide frames are sampled across columns too
_ELEMENTS_PER_REGION = 10_000  # numpy: elements from the head, the middle and the tail
_MLFLOW_MAX_ROWS = 10_000  # mlflow_frame_digest: the rows MLflow hashes


def sample_positions(n: int, per_region: int) -> npt.NDArray[np.int64]:
    """Positions 0..n-1 to sample: all if n <= 3 * per_region, else head, spread middle, tail."""
    import numpy as np

    if n <= 3 * per_region:
        return np.arange(n, dtype=np.int64)
    head = np.arange(per_region, dtype=np.int64)
    middle = np.linspace(per_region, n - per_region - 1, per_region).astype(np.int64)
    tail = np.arange(n - per_region, n, dtype=np.int64)
    return np.concatenate([head, middle, tail])


def _finish(h: Any) -> str:
    return str(h.hexdigest()[:DIGEST_LENGTH])


def _header(h: Any, structure: object) -> None:
    text = json.dumps(structure, separators=(",", ":"), ensure_ascii=False)
    h.update(text.encode("utf-8", "surrogatepass"))
    h.update(b"\0")


def _repr_bytes(values: Iterable[object]) -> bytes:
    return "\x1f".join(repr(v) for v in values).encode("utf-8", "surrogatepass")


def pandas_digest(df: pd.DataFrame) -> str:
    """The digest of a DataFrame: shape, column names, dtypes and sampled rows (not the index)."""
    rows, cols = df.shape
    h = hashlib.sha256(b"mltrail.pandas.v1\0")
    _header(
        h,
        {
            "shape": [rows, cols],
            "columns": [str(c) for c in df.columns],
            "dtypes": [str(t) for t in df.dtypes],
        },
    )
    col_positions = sample_positions(cols, _COLUMNS_PER_REGION)
    sampled_cols = len(col_positions)
    per_region = max(1, min(_ROWS_PER_REGION, _MAX_SAMPLED_CELLS // (3 * max(sampled_cols, 1))))
    row_positions = sample_positions(rows, per_region)
    sample = df
    if sampled_cols < cols:
        sample = sample.iloc[:, col_positions]
    if len(row_positions) < rows:
        sample = sample.iloc[row_positions]
    h.update(_frame_bytes(sample))
    return _finish(h)


def _frame_bytes(sample: pd.DataFrame) -> bytes:
    import pandas as pd

    if sample.shape[1] == 0:
        return b""
    try:
        hashed = pd.util.hash_pandas_object(sample, index=False)
        return bytes(hashed.to_numpy(dtype="<u8").tobytes())
    except (TypeError, ValueError):  # unhashable cells (lists, dicts): hash column by column
        pass
    parts: list[bytes] = []
    for i in range(sample.shape[1]):
        column = sample.iloc[:, i]
        try:
            hashed = pd.util.hash_pandas_object(column, index=False)
            parts.append(bytes(hashed.to_numpy(dtype="<u8").tobytes()))
        except (TypeError, ValueError):
            parts.append(_repr_bytes(column.tolist()))
        parts.append(b"\0")
    return b"".join(parts)


def numpy_digest(arrays: Sequence[tuple[str | None, npt.NDArray[Any]]]) -> str:
    """The digest of named arrays (features, targets): names, dtypes, shapes, sampled elements."""
    h = hashlib.sha256(b"mltrail.numpy.v1\0")
    for name, array in arrays:
        _header(h, {"name": name, "dtype": str(array.dtype), "shape": list(array.shape)})
        h.update(_array_bytes(array))
        h.update(b"\0")
    return _finish(h)


def _array_bytes(array: npt.NDArray[Any]) -> bytes:
    import numpy as np

    if array.size <= 3 * _ELEMENTS_PER_REGION:
        sample = array.reshape(-1)
    else:
        positions = sample_positions(array.size, _ELEMENTS_PER_REGION)
        sample = array[np.unravel_index(positions, array.shape)]
    if sample.dtype.hasobject:
        return _repr_bytes(sample.tolist())
    little = np.ascontiguousarray(sample).astype(sample.dtype.newbyteorder("<"), copy=False)
    return bytes(little.tobytes())


def mlflow_frame_digest(df: pd.DataFrame) -> str:
    """MLflow's digest of a DataFrame, for datasets whose digests must equal MLflow's
    (``from_huggingface``): the first 8 hex characters of an MD5 over the row hashes of the
    first 10,000 rows (index included) restricted to the numeric columns and the columns whose
    every value is a ``str`` (sorted by name), then the row count as an int64, then
    every column name."""
    import numpy as np
    import pandas as pd

    head = df.head(_MLFLOW_MAX_ROWS)
    all_strings = [all(type(v) is str for v in df.iloc[:, i]) for i in range(df.shape[1])]
    kept = head.columns[all_strings].union(head.select_dtypes(include=[np.number]).columns)
    h = hashlib.md5(usedforsecurity=False)
    h.update(pd.util.hash_pandas_object(head[kept]).to_numpy().tobytes())
    h.update(np.int64(len(df)).tobytes())
    for column in df.columns:
        h.update(str(column).encode())
    return _finish(h)
