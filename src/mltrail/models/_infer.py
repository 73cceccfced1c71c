"""Inferring a :class:`~mltrail.models.Schema` from data and a param schema from values.

The rules give the same schemas as MLflow for the same data (a compatibility test compares
them): DataFrame columns become named ColSpecs (``required`` false when a column has missing
values), Series one ColSpec, numpy arrays TensorSpecs with a free first dimension, dicts of arrays
named TensorSpecs, lists of records named ColSpecs, and lists or scalars one unnamed ColSpec.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models._schema import (
    ColSpec,
    DataType,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
)

__all__ = ["infer_param_schema", "infer_schema"]


def _python_scalar_type(value: Any) -> DataType | None:
    """The DataType of a Python or numpy scalar; None when it is not a scalar."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return DataType.boolean
    if isinstance(value, np.integer):
        return DataType.integer if value.dtype.itemsize <= 4 else DataType.long
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, np.floating):
        return DataType.float if value.dtype.itemsize <= 4 else DataType.double
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, (bytes, bytearray)):
        return DataType.binary
    if isinstance(value, (_dt.datetime, _dt.date, np.datetime64)):
        return DataType.datetime
    return None


def _dtype_to_type(dtype: Any, what: str) -> DataType | None:
    """The DataType of a numpy/pandas dtype; None for object columns (values decide)."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, pd.StringDtype):
        return DataType.string
    if isinstance(dtype, pd.DatetimeTZDtype):
        return DataType.datetime
    if isinstance(dtype, pd.CategoricalDtype):
        raise InvalidArgument(
            f"Cannot infer a type for {what}: categorical columns are not supported; convert it "
            "to its categories' type first"
        )
    if not isinstance(dtype, np.dtype):  # other pandas extension dtypes (Int64, Float64, ...)
        dtype = np.dtype(getattr(dtype, "numpy_dtype", object))
    kind = dtype.kind
    if kind == "b":
        return DataType.boolean
    if kind in ("i", "u"):
        return DataType.integer if dtype.itemsize <= 4 and kind == "i" else DataType.long
    if kind == "f":
        return DataType.float if dtype.itemsize <= 4 else DataType.double
    if kind == "U":
        return DataType.string
    if kind == "S":
        return DataType.binary
    if kind == "M":
        return DataType.datetime
    if kind == "O":
        return None
    raise InvalidArgument(f"Cannot infer a type for {what}: unsupported dtype {dtype}")


def _values_type(values: list[Any], what: str) -> DataType | dict[str, Any]:
    """The common type of non-null Python values (an object column or a list)."""
    kinds: set[Any] = set()
    for value in values:
        if isinstance(value, (list, tuple)) or (
            hasattr(value, "ndim") and getattr(value, "ndim", 0) == 1
        ):
            # the item type as JSON: a set holds only hashable kinds (key order is kept)
            kinds.add(("array", json.dumps(_array_item_type(list(value), what))))
            continue
        kind = _python_scalar_type(value)
        if kind is None:
            raise InvalidArgument(
                f"Cannot infer a type for {what}: unsupported value type {type(value).__name__}"
            )
        kinds.add(kind)
    if not kinds:
        raise InvalidArgument(f"Cannot infer a type for {what}: it holds no values")
    if kinds <= {DataType.long, DataType.integer, DataType.double, DataType.float}:
        if kinds & {DataType.double, DataType.float}:
            return DataType.double
        return DataType.long
    if len(kinds) > 1:
        names = sorted(str(k[0] if isinstance(k, tuple) else k) for k in kinds)
        raise InvalidArgument(f"Cannot infer a type for {what}: it mixes types {names}")
    (kind,) = kinds
    if isinstance(kind, tuple):
        return {"type": "array", "items": json.loads(kind[1])}
    result: DataType = kind
    return result


def _array_item_type(items: list[Any], what: str) -> dict[str, Any]:
    kind = _values_type([v for v in items if v is not None], f"the items of {what}")
    return dict(kind) if isinstance(kind, dict) else {"type": kind.name}


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def _column_spec(name: str | None, series: Any) -> ColSpec:
    what = f"column {name!r}" if name is not None else "the input"
    has_nulls = bool(series.isna().any())
    kind: DataType | dict[str, Any] | None = _dtype_to_type(series.dtype, what)
    if kind is None:
        kind = _values_type([v for v in series.tolist() if not _is_null(v)], what)
    return ColSpec(kind, name, required=not has_nulls)


def _records_schema(records: list[dict[str, Any]]) -> Schema:
    names: list[str] = []
    for record in records:
        for key in record:
            if str(key) not in names:
                names.append(str(key))
    specs = []
    for name in names:
        values = [r.get(name) for r in records]
        present = [v for v in values if not _is_null(v)]
        kind = _values_type(present, f"field {name!r}")
        specs.append(ColSpec(kind, name, required=len(present) == len(records)))
    return Schema(specs)


def _tensor_spec(array: Any, name: str | None) -> TensorSpec:
    if array.ndim == 0:
        raise InvalidArgument(f"Cannot infer a tensor spec for {name or 'the input'}: a 0-d array")
    return TensorSpec(array.dtype, (-1, *array.shape[1:]), name)


def _is_scipy_sparse(data: Any) -> bool:
    """A SciPy CSR or CSC matrix (or array): a 2-d tensor of its dtype, as MLflow infers it.
    Recognized without importing SciPy (a model given one has SciPy loaded already)."""
    return type(data).__module__.startswith("scipy.sparse") and getattr(data, "format", None) in (
        "csr",
        "csc",
    )


def infer_schema(data: Any) -> Schema:
    """The schema of *data* (DataFrame, Series, ndarray, SciPy CSR/CSC matrix, dict, list or
    scalar)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, Schema):
        return data
    if isinstance(data, pd.DataFrame):
        return Schema(_column_spec(str(c), data[c]) for c in data.columns)
    if isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        return Schema([_column_spec(name, data)])
    if isinstance(data, np.ndarray) or _is_scipy_sparse(data):
        return Schema([_tensor_spec(data, None)])
    if isinstance(data, dict):
        if not data:
            raise InvalidArgument("Cannot infer a schema from an empty dict")
        arrays = [isinstance(v, np.ndarray) for v in data.values()]
        if all(arrays):
            return Schema(_tensor_spec(v, str(k)) for k, v in data.items())
        if any(arrays):
            raise InvalidArgument(
                "Cannot infer a schema from a dict mixing numpy arrays and other values"
            )
        specs = []
        for key, value in data.items():
            what = f"field {key!r}"
            if isinstance(value, (list, tuple)):
                specs.append(ColSpec({"type": "array", **_wrap_items(value, what)}, str(key)))
            else:
                kind = _python_scalar_type(value)
                if kind is None:
                    raise InvalidArgument(
                        f"Cannot infer a type for {what}: unsupported value type "
                        f"{type(value).__name__}"
                    )
                specs.append(ColSpec(kind, str(key), required=not _is_null(value)))
        return Schema(specs)
    if isinstance(data, (list, tuple)):
        if not data:
            raise InvalidArgument("Cannot infer a schema from an empty list")
        if all(isinstance(v, dict) for v in data):
            return _records_schema(list(data))
        present = [v for v in data if not _is_null(v)]
        item_type = _values_type(present, "the input list")
        return Schema([ColSpec(item_type, None, required=len(present) == len(data))])
    kind = _python_scalar_type(data)
    if kind is None:
        raise InvalidArgument(
            f"Cannot infer a schema from {type(data).__name__}: expected a pandas DataFrame or "
            "Series, a numpy array, a dict, a list or a scalar"
        )
    return Schema([ColSpec(kind)])


def _wrap_items(values: Any, what: str) -> dict[str, Any]:
    return {"items": _array_item_type(list(values), what)}


def infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    """A ParamSchema whose defaults are *params* (types inferred from the values)."""
    if not isinstance(params, dict):
        raise InvalidArgument(f"Invalid params {params!r}: expected a dict")
    specs = []
    for name, value in params.items():
        shape: tuple[int, ...] | None = None
        probe = value
        if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
            value = value.tolist() if getattr(value, "ndim", 0) else value
        if isinstance(value, (list, tuple)):
            if not value:
                raise InvalidArgument(f"Cannot infer the type of param {name!r}: an empty list")
            shape = (-1,)
            kinds = {_python_scalar_type(v) for v in value}
            if kinds == {DataType.long, DataType.double}:
                kinds = {DataType.double}
            if len(kinds) != 1 or None in kinds:
                raise InvalidArgument(
                    f"Cannot infer the type of param {name!r}: list items must share one "
                    "scalar type"
                )
            (kind,) = kinds
        else:
            kind = _python_scalar_type(probe)
        if kind is None:
            raise InvalidArgument(
                f"Cannot infer the type of param {name!r}: unsupported value "
                f"{type(probe).__name__} (expected bool, int, float, str, bytes, datetime or a "
                "list of them)"
            )
        specs.append(ParamSpec(str(name), kind, value, shape))
    return ParamSchema(specs)
