"""Checking model input against a signature at predict time, with MLflow's casting rules.

Column-based schemas turn the input into a DataFrame, reorder its columns to the schema's,
drop extra columns and fail on missing required ones.  Each column is converted only when the
conversion cannot lose information:

* anything to ``string`` only from object or string columns; ``binary`` from bytes or strings,
* same kind, no narrower (int32 -> int64, float32 -> float64), unsigned to a wider signed int,
* integers of up to 32 bits to ``double``; 0/1-only int64 columns to float or double,
* any datetime precision, or objects holding dates, to ``datetime``.

Everything else raises :class:`~mltrail.exceptions.InvalidArgument` naming the column, the
expected type and the received type.  Tensor schemas check shape and dtype; arrays built from
JSON (lists, DataFrames) are converted to the declared dtype, numpy input must already match.
Params are checked against the param schema and completed with defaults.
"""

from __future__ import annotations

import logging
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models._schema import (
    ColSpec,
    DataType,
    ParamSchema,
    Schema,
    TensorSpec,
    validate_param_value,
)

__all__ = ["enforce_params", "enforce_schema"]

_log = logging.getLogger(__name__)


def _fail_column(name: Any, values: Any, t: DataType, hint: str = "") -> InvalidArgument:
    return InvalidArgument(
        f"Incompatible input types for column {name!r}: expected type {t.name} "
        f"({t.to_numpy()}), got {values.dtype}; it cannot be converted safely.{hint}"
    )


def _to_datetime(name: Any, values: Any) -> Any:
    import numpy as np

    try:
        return values.astype(np.dtype("datetime64[ns]"))
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"Incompatible input types for column {name!r}: expected type datetime, got "
            f"{values.dtype} values that are not timezone-naive dates ({exc})"
        ) from None


def _enforce_column(name: Any, values: Any, t: DataType) -> Any:
    """*values* (a Series) converted to *t* when that is safe; InvalidArgument otherwise."""
    import numpy as np
    import pandas as pd

    object_dtype = np.dtype(object)
    dtype = values.dtype
    is_str = isinstance(dtype, pd.StringDtype)
    if dtype == object_dtype and t not in (DataType.binary, DataType.string):
        values = values.infer_objects()
        dtype = values.dtype
        is_str = isinstance(dtype, pd.StringDtype)
    if t is DataType.string:
        if dtype == object_dtype or is_str:
            return values
        raise _fail_column(name, values, t)
    if t is DataType.binary and (is_str or dtype == object_dtype or dtype.kind == "S"):
        return values
    if t is DataType.datetime and (is_str or dtype == object_dtype):
        return _to_datetime(name, values)
    if not isinstance(dtype, np.dtype):  # pandas extension dtypes
        if isinstance(dtype, pd.DatetimeTZDtype):
            raise InvalidArgument(
                f"Incompatible input types for column {name!r}: expected a timezone-naive "
                f"datetime, got {dtype}"
            )
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        if numpy_dtype is None or bool(values.isna().any()):
            raise _fail_column(name, values, t)
        values = values.astype(numpy_dtype)
        dtype = values.dtype
    target = t.to_numpy()
    if dtype == target:
        return values
    if t is DataType.datetime:
        if dtype.kind == "M":
            return _to_datetime(name, values)
        raise _fail_column(name, values, t)
    if t is DataType.boolean and dtype == object_dtype:
        return values
    if dtype.kind == target.kind:
        safe = dtype.itemsize <= target.itemsize
    elif dtype.kind == "u" and target.kind == "i":
        safe = dtype.itemsize < target.itemsize
    elif dtype.kind in ("i", "u") and target == np.float64:
        safe = dtype.itemsize <= 4
    else:
        safe = False
    if safe:
        return values.astype(target)
    if (
        dtype == np.int64
        and target.kind == "f"
        and all(pd.isnull(x) or x in (0, 1) for x in values)
    ):
        return values.astype(target)
    hint = ""
    if (
        dtype == np.float64
        and target.kind in ("i", "u")
        and bool(values.isna().any())
        and all(pd.isnull(x) or float(x).is_integer() for x in values)
    ):
        hint = (
            " Hint: the column has missing values, which make an integer column float; infer "
            "the schema from data with missing values, or declare the column as double."
        )
    raise _fail_column(name, values, t, hint)


def _to_frame(data: Any, schema: Schema) -> Any:
    """Column-shaped input as a DataFrame (named by the schema when it has no names)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        if schema.has_input_names() and data.name is None and len(schema) == 1:
            return data.to_frame(schema.inputs[0].name)
        return data.to_frame()
    scalar_cols = all(isinstance(s, ColSpec) and s.is_scalar for s in schema.inputs)
    if isinstance(data, dict):
        if not data:
            raise InvalidArgument("Invalid input: an empty dict")
        if scalar_cols and any(isinstance(v, (list, tuple, np.ndarray)) for v in data.values()):
            return pd.DataFrame(
                {k: list(np.ravel(v)) if isinstance(v, np.ndarray) else v for k, v in data.items()}
            )
        return pd.DataFrame([data])
    if isinstance(data, (list, tuple)):
        if data and all(isinstance(r, dict) for r in data):
            return pd.DataFrame.from_records(list(data))
        if not schema.has_input_names():
            return pd.DataFrame({0: list(data)}) if len(schema) == 1 else pd.DataFrame(list(data))
        return pd.DataFrame(list(data), columns=[str(n) for n in schema.input_names()])
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            data = data.reshape(-1, 1) if len(schema) == 1 else data.reshape(1, -1)
        if data.ndim != 2:
            raise InvalidArgument(
                f"Invalid input: a column-based signature takes 1-d or 2-d arrays, got shape "
                f"{data.shape}"
            )
        names = schema.input_names() if data.shape[1] == len(schema) else None
        return pd.DataFrame(data, columns=names)
    if isinstance(data, (str, bytes, int, float, bool)):
        name = schema.input_names()[0] if len(schema) == 1 else 0
        return pd.DataFrame({name: [data]})
    raise InvalidArgument(
        f"Invalid input of type {type(data).__name__}: this model's signature is column-based "
        "and takes a pandas DataFrame, a dict, a list of records or a numpy array"
    )


def _fast_check(schema: Schema) -> tuple[list[Any], list[Any]] | None:
    """The column names and exact dtypes a conforming DataFrame has (cached on the schema);
    None when the schema has non-scalar columns (those always take the full path)."""
    cached = schema.__dict__.get("_fast_check", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    names: list[Any] = []
    targets: list[Any] = []
    result: tuple[list[Any], list[Any]] | None = (names, targets)
    for spec in schema.inputs:
        if not isinstance(spec, ColSpec) or not isinstance(spec.type, DataType):
            result = None
            break
        names.append(spec.name)
        # Strings and bytes: object columns pass as they are; other string dtypes are checked.
        kind = spec.type
        stringy = kind in (DataType.string, DataType.binary)
        targets.append(None if stringy else kind.to_numpy())
    schema.__dict__["_fast_check"] = result
    return result


def _column_dtypes(df: Any) -> list[Any]:
    manager = getattr(df, "_mgr", None)
    get_dtypes = getattr(manager, "get_dtypes", None)
    if callable(get_dtypes):  # pandas' block manager: no Series built (~100x cheaper)
        return list(get_dtypes())
    return list(df.dtypes)


def _already_conforms(df: Any, schema: Schema) -> bool:
    """True when a DataFrame has exactly the schema's columns, in order, of its exact types
    (the common case at predict time: nothing to copy or convert)."""
    check = _fast_check(schema)
    if check is None:
        return False
    names, targets = check
    if len(df.columns) != len(names) or list(df.columns) != names:
        return False
    import numpy as np
    import pandas as pd

    for dtype, target in zip(_column_dtypes(df), targets, strict=True):
        if target is None:
            if dtype != np.dtype(object) and not isinstance(dtype, pd.StringDtype):
                return False
        elif dtype != target:
            return False
    return True


def _enforce_columns(data: Any, schema: Schema) -> Any:
    import pandas as pd

    named = schema.has_input_names()
    if named and isinstance(data, pd.DataFrame) and _already_conforms(data, schema):
        return data
    df = _to_frame(data, schema)
    if schema.has_input_names():
        names = [str(n) for n in schema.input_names()]
        columns = {str(c): c for c in df.columns}
        required = [str(n) for n in schema.required_input_names()]
        missing = [n for n in required if n not in columns]
        if missing:
            extra = sorted(set(columns) - set(names))
            note = f"; it has extra inputs {extra}" if extra else ""
            raise InvalidArgument(f"Model is missing inputs {missing}{note}")
        present = [n for n in names if n in columns]
        df = df[[columns[n] for n in present]]
        df.columns = present
        specs = {s.name: s for s in schema.inputs}
    else:
        if len(df.columns) < len(schema.required_input_names()):
            raise InvalidArgument(
                f"Model expects {len(schema)} unnamed inputs, got {len(df.columns)} columns"
            )
        df = df.iloc[:, : len(schema)]
        specs = dict(zip(df.columns, schema.inputs, strict=True))
    out = {}
    for col in df.columns:
        spec = specs[col]
        values = df[col]
        if isinstance(spec, ColSpec) and isinstance(spec.type, DataType):
            values = _enforce_column(col, values, spec.type)
        out[col] = values
    return pd.DataFrame(out, index=df.index)


def _enforce_tensor(values: Any, spec: TensorSpec) -> Any:
    import numpy as np

    name = repr(spec.name) if spec.name else "the input"
    if not isinstance(values, np.ndarray):
        try:
            values = np.asarray(values, dtype=spec.type)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"Invalid input {name}: cannot convert it to a {spec.type} tensor ({exc})"
            ) from None
    expected = spec.shape
    if expected == (-1,) and spec.type == np.dtype(object):
        return values
    if (
        len(expected) > 1
        and -1 in expected[1:]
        and values.ndim == 1
        and values.dtype == np.dtype(object)
    ):
        return values  # a ragged array
    if values.ndim != len(expected) or any(
        e != -1 and e != a for e, a in zip(expected, values.shape, strict=True)
    ):
        raise InvalidArgument(
            f"Invalid input {name}: shape {values.shape} does not match expected shape "
            f"{tuple(expected)}"
        )
    actual = values.dtype
    if actual.char in ("U", "S"):
        actual = np.dtype(actual.char)
    if actual != spec.type:
        raise InvalidArgument(
            f"Invalid input {name}: expected dtype {spec.type}, got dtype {values.dtype}"
        )
    return values


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if not schema.has_input_names():
        if isinstance(data, pd.DataFrame):
            values = data.to_numpy()
            if values.dtype != specs[0].type:
                values = values.astype(specs[0].type)
            data = values
        elif isinstance(data, dict) and len(data) == 1:
            data = next(iter(data.values()))
        return _enforce_tensor(data, specs[0])
    if isinstance(data, pd.DataFrame):
        data = {str(c): data[c].to_numpy() for c in data.columns}
    if isinstance(data, np.ndarray) and len(specs) == 1:
        data = {specs[0].name: data}
    if not isinstance(data, dict):
        raise InvalidArgument(
            f"Invalid input of type {type(data).__name__}: this model takes named tensors "
            f"{[s.name for s in specs]} as a dict of arrays"
        )
    missing = [s.name for s in specs if s.name not in data]
    if missing:
        raise InvalidArgument(f"Model is missing inputs {missing}")
    return {s.name: _enforce_tensor(data[s.name], s) for s in specs}


def enforce_schema(data: Any, schema: Schema) -> Any:
    """*data* checked and converted for a model whose input schema is *schema*."""
    if not len(schema):
        return data
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


def enforce_params(
    params: dict[str, Any] | None, schema: ParamSchema | None
) -> dict[str, Any] | None:
    """Params checked against *schema* and completed with its defaults.

    Without a schema, params are ignored (logged), as in MLflow; unknown params too.
    """
    if schema is None:
        if params:
            _log.warning(
                "Ignoring params %s: the model's signature declares no params", sorted(params)
            )
        return None
    if params is not None and not isinstance(params, dict):
        raise InvalidArgument(f"Invalid params {params!r}: expected a dict")
    given = dict(params or {})
    unknown = sorted(set(given) - {p.name for p in schema})
    if unknown:
        _log.warning("Ignoring params %s: not in the model's param schema", unknown)
    out: dict[str, Any] = {}
    for spec in schema:
        if spec.name in given:
            out[spec.name] = validate_param_value(
                spec.name, given[spec.name], spec.dtype, spec.shape
            )
        else:
            out[spec.name] = spec.default
    return out
