"""Reading a scoring request: content type, then JSON, CSV or Parquet into model input.

The formats are MLflow's scoring protocol:

- ``application/json``: an object with exactly one of ``dataframe_split`` (pandas' ``split``
  orientation: ``columns``, ``data``, optional ``index``), ``dataframe_records`` (a list of
  records), ``instances`` (a list of rows or records, TF-serving style) or ``inputs`` (a list or
  an object of columns), plus an optional ``params`` object.  Unknown keys are refused, so a
  misspelled ``param`` does not pass silently.
- ``text/csv``: a CSV table with a header line.
- ``application/vnd.apache.parquet``: a Parquet file (needs pyarrow).

Parsing only decodes: DataFrames for tabular input, numpy arrays (or a dict of them) for tensor
input.  The model's signature is enforced afterwards by the model itself
(:meth:`mltrail.pyfunc.PyFuncModel.predict`).  The schema is used here only where the wire
format loses a type: CSV column dtypes, base64 for binary columns, tensor dtypes for
``instances``/``inputs`` (cast with numpy's ``same_kind`` rule, so ``1.5`` never becomes ``1``).
Every failure is a :class:`~mltrail.BadRequest` (400) naming the problem, or an
:class:`~mltrail.exceptions.UnsupportedMediaType` (415).


The work a request can cause is bounded before pandas sees it: a table may have at most
``max_columns`` columns (:data:`MAX_COLUMNS` by default; counted on the CSV header line, on
``dataframe_split``'s columns and rows, on the fields of records and on the named inputs of
``inputs``/``instances``), and an integer too long for Python to read (``sys.int_info``'s
4300 digits) is a 400 naming where it is.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mltrail._exceptions import BadRequest, MissingDependency, UnsupportedMediaType
from mltrail._optional import require
from mltrail.models._schema import ColSpec, DataType, Schema, TensorSpec

__all__ = [
    "CONTENT_TYPES",
    "CONTENT_TYPE_CSV",
    "CONTENT_TYPE_JSON",
    "CONTENT_TYPE_PARQUET",
    "INPUT_KEYS",
    "MAX_COLUMNS",
    "ParsedInput",
    "csv_dtypes",
    "parse_content_type",
    "parse_csv_input",
    "parse_json_input",
    "parse_parquet_input",
    "parse_request",
]

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (CONTENT_TYPE_JSON, CONTENT_TYPE_CSV, CONTENT_TYPE_PARQUET)
INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS_KEY = "params"
#: The most columns (named inputs) one request may have; pandas' cost grows with each.
MAX_COLUMNS = 10_000
_FORMAT_HINT = (
    "a JSON request holds exactly one of 'dataframe_split', 'dataframe_records', 'instances' "
    "or 'inputs', and optionally 'params'"
)


@dataclass(frozen=True, slots=True)
class ParsedInput:
    """Decoded model input, the inference params (or None) and the format it came in."""

    data: Any
    params: dict[str, Any] | None
    format: str  # one of INPUT_KEYS, "csv" or "parquet"


def _json_type(value: Any) -> str:
    """What a JSON value is, with its article: "a list", "an object"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else f"a {type(value).__name__}"


def parse_content_type(header: str | None) -> str:
    """The media type of a ``Content-Type`` header, checked: one we read, UTF-8, no other
    parameters (MLflow's old ``format=pandas-split`` parameter is refused, as MLflow does)."""
    if not header or not header.strip():
        raise UnsupportedMediaType(
            f"Missing Content-Type header: expected one of {', '.join(CONTENT_TYPES)}"
        )
    mime, *parameters = (part.strip() for part in header.split(";"))
    mime = mime.lower()
    if mime not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"Unsupported content type {mime!r}: expected one of {', '.join(CONTENT_TYPES)}"
        )
    for parameter in parameters:
        if not parameter:
            continue
        key, _, value = parameter.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"').lower()
        if key == "charset":
            if value not in ("utf-8", "utf8"):
                raise UnsupportedMediaType(
                    f"Unsupported charset {value!r}: the scoring server reads UTF-8 only"
                )
        else:
            raise UnsupportedMediaType(
                f"Unsupported content type parameter {key!r} in {header.strip()!r}: only "
                "'charset=utf-8' is allowed"
            )
    return mime


def parse_request(
    body: bytes,
    content_type: str | None,
    schema: Schema | None,
    *,
    max_columns: int | None = MAX_COLUMNS,
) -> ParsedInput:
    """Decode a request body of the given ``Content-Type`` header (at most *max_columns*
    columns; None: no limit)."""
    mime = parse_content_type(content_type)
    if mime == CONTENT_TYPE_JSON:
        return parse_json_input(body, schema, max_columns=max_columns)
    if mime == CONTENT_TYPE_CSV:
        return ParsedInput(parse_csv_input(body, schema, max_columns=max_columns), None, "csv")
    return ParsedInput(parse_parquet_input(body), None, "parquet")


def _check_columns(count: int, where: str, limit: int | None) -> None:
    if limit is not None and count > limit:
        raise BadRequest(
            f"Invalid input: {where} has {count} columns, more than the scoring server's "
            f"limit of {limit} columns"
        )


# --- JSON -------------------------------------------------------------------------------------


def load_json(payload: bytes | str) -> Any:
    """``json.loads`` with a 400 that says where the body is broken (never the body itself)."""
    try:
        return json.loads(payload)
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"Invalid input: the body is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"Invalid input: the body is not valid JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno})"
        ) from None
    except RecursionError:
        raise BadRequest("Invalid input: the JSON body is nested too deeply") from None
    except ValueError:  # an integer longer than Python reads (sys.get_int_max_str_digits)
        raise _long_integer(payload) from None


class _LongInteger:
    """Stands for an integer literal too long to read, while looking for where it is."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _long_integer(payload: bytes | str) -> BadRequest:
    """The 400 for a body holding an integer longer than Python reads, naming its field."""
    limit = sys.get_int_max_str_digits()

    def read_int(text: str) -> Any:
        digits = len(text.lstrip("-"))
        return _LongInteger(digits) if limit and digits > limit else int(text)

    try:
        obj = json.loads(payload, parse_int=read_int)
    except (ValueError, RecursionError):
        obj = None
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _LongInteger):
            return BadRequest(
                f"Invalid input: the integer at '{path}' has {value.digits} digits, more than "
                f"the {limit} a number may have"
            )
        if isinstance(value, dict):
            items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", v) for i, v in enumerate(value)]))
    return BadRequest(f"Invalid input: the body holds a number longer than {limit} digits")


def parse_json_input(
    payload: bytes | str | Mapping[str, Any],
    schema: Schema | None,
    *,
    max_columns: int | None = MAX_COLUMNS,
) -> ParsedInput:
    """Decode a JSON scoring request (bytes, text or an already decoded object) of at most
    *max_columns* columns (None: no limit)."""
    obj = load_json(payload) if isinstance(payload, (bytes, bytearray, str)) else payload
    if not isinstance(obj, Mapping):
        raise BadRequest(
            f"Invalid input: expected a JSON object, got {_json_type(obj)}; " + _FORMAT_HINT
        )
    unknown = sorted(k for k in obj if k not in INPUT_KEYS and k != PARAMS_KEY)
    if unknown:
        raise BadRequest(
            f"Invalid input: unknown key(s) {', '.join(map(repr, unknown))}; " + _FORMAT_HINT
        )
    found = [k for k in INPUT_KEYS if k in obj]
    if len(found) != 1:
        got = "none of them" if not found else f"{', '.join(map(repr, found))}"
        raise BadRequest(f"Invalid input: {_FORMAT_HINT}; got {got}")
    params = obj.get(PARAMS_KEY)
    if params is not None and not isinstance(params, dict):
        raise BadRequest(
            "Invalid input: 'params' must be a JSON object of parameter names and values, "
            f"got {_json_type(params)}"
        )
    key = found[0]
    value = obj[key]
    if key == "dataframe_split":
        data: Any = _dataframe_split(value, schema, max_columns)
    elif key == "dataframe_records":
        data = _dataframe_records(value, schema, max_columns)
    elif key == "instances":
        data = _instances(value, schema, max_columns)
    else:
        if isinstance(value, dict):
            _check_columns(len(value), "'inputs'", max_columns)
        data = _inputs(value, schema)
    return ParsedInput(data, params, key)


def _row_width(rows: list[Any]) -> int:
    """The widest row of a list of rows (0 when they are not all lists or objects)."""
    if not set(map(type, rows)) <= _ROW_TYPES:  # map and set: no Python loop per row
        return 0
    return max(map(len, rows), default=0)


_ROW_TYPES = frozenset({list, dict})


def _dataframe_split(value: Any, schema: Schema | None, max_columns: int | None) -> Any:
    import pandas as pd

    if not isinstance(value, dict):
        raise BadRequest(
            "Invalid input: 'dataframe_split' must be an object with 'data' and optionally "
            f"'columns' and 'index', got {_json_type(value)}"
        )
    extra = sorted(set(value) - {"columns", "data", "index"})
    if extra:
        raise BadRequest(
            f"Invalid input: unknown key(s) {', '.join(map(repr, extra))} in 'dataframe_split': "
            "expected 'data' and optionally 'columns' and 'index'"
        )
    if "data" not in value:
        raise BadRequest("Invalid input: 'dataframe_split' has no 'data'")
    for field in ("data", "columns", "index"):
        if value.get(field) is not None and not isinstance(value[field], list):
            raise BadRequest(
                f"Invalid input: 'dataframe_split.{field}' must be a list, "
                f"got {_json_type(value[field])}"
            )
    if value.get("columns") is not None:
        _check_columns(len(value["columns"]), "'dataframe_split.columns'", max_columns)
    if value["data"] is not None:
        _check_columns(_row_width(value["data"]), "a row of 'dataframe_split.data'", max_columns)
    numeric = _numeric_rows(value["data"], value.get("columns"))
    try:
        frame = pd.DataFrame(
            data=value["data"] if numeric is None else numeric,
            columns=value.get("columns"),
            index=value.get("index"),
        )
    except (ValueError, TypeError) as exc:
        raise BadRequest(
            f"Invalid input: 'dataframe_split' is not a table in pandas' split orientation: {exc}"
        ) from None
    return _cast_columns(frame, schema)


def _numeric_rows(data: list[Any], columns: list[Any] | None) -> Any:
    """Rows of JSON numbers only, as one 2-D numpy array (one pandas block: the frame is
    built, checked and handed to the model much faster); None for anything else."""
    import numpy as np

    if not data or not isinstance(data[0], list):
        return None
    try:
        array = np.asarray(data)
    except (ValueError, TypeError):
        return None
    if array.ndim != 2 or array.dtype.kind not in "if":
        return None
    if columns is not None and array.shape[1] != len(columns):
        return None  # pandas' own error names the mismatch
    if any(type(v) is bool for row in data for v in row):
        return None  # numpy would turn true/false into 1/0
    return array


def _dataframe_records(value: Any, schema: Schema | None, max_columns: int | None) -> Any:
    import pandas as pd

    if not isinstance(value, list):
        raise BadRequest(
            f"Invalid input: 'dataframe_records' must be a list of records, got {_json_type(value)}"
        )
    for i, record in enumerate(value):
        if not isinstance(record, (dict, list)):
            raise BadRequest(
                f"Invalid input: 'dataframe_records[{i}]' must be an object (a record), "
                f"got {_json_type(record)}"
            )
    width = _row_width(value)
    if max_columns is not None and width * len(value) > max_columns:  # else the union fits
        fields = set().union(*(r for r in value if isinstance(r, dict)))
        _check_columns(max(len(fields), width), "'dataframe_records'", max_columns)
    try:
        frame = pd.DataFrame(data=value)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"Invalid input: 'dataframe_records' is not a table: {exc}") from None
    return _cast_columns(frame, schema)


def _instances(value: Any, schema: Schema | None, max_columns: int | None) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        columns: dict[str, list[Any]] = {}
        for i, record in enumerate(value):
            if not isinstance(record, dict):
                raise BadRequest(
                    f"Invalid input: 'instances[{i}]' is {_json_type(record)} but "
                    "'instances[0]' is an object: use records or rows, not both"
                )
            for name, cell in record.items():
                columns.setdefault(name, []).append(cell)
            _check_columns(len(columns), "'instances'", max_columns)
        lengths = {name: len(cells) for name, cells in columns.items()}
        if len(set(lengths.values())) > 1:
            short = sorted(n for n, count in lengths.items() if count < len(value))
            raise BadRequest(
                "Invalid input: every record of 'instances' must have the same fields; "
                f"missing in some records: {', '.join(map(repr, short))}"
            )
        return {
            name: _array(cells, _spec(schema, name), "instances", name)
            for name, cells in columns.items()
        }
    return _inputs(value, schema, key="instances")


def _inputs(value: Any, schema: Schema | None, key: str = "inputs") -> Any:
    if isinstance(value, dict):
        return {name: _array(v, _spec(schema, name), key, name) for name, v in value.items()}
    if schema is not None and schema.has_input_names() and len(schema.inputs) == 1:
        # One named input: a bare list is that input's values.
        only = schema.inputs[0]
        if isinstance(value, list) and not any(isinstance(v, dict) for v in value):
            return {only.name: _array(value, only, key, str(only.name))}
    spec = None
    if schema is not None and not schema.has_input_names() and len(schema.inputs) == 1:
        spec = schema.inputs[0]
    array = _array(value, spec, key, None)
    if spec is None and schema is not None and not schema.is_tensor_spec():
        # Rows for several columns: JSON integers for an all-float schema are floats.

        floats = (DataType.float, DataType.double)
        if schema.inputs and all(s.type in floats for s in schema.inputs):
            array = _json_numbers(array, DataType.double)
    return array


def _spec(schema: Schema | None, name: str) -> ColSpec | TensorSpec | None:
    if schema is None or not schema.has_input_names():
        return None
    for spec in schema.inputs:
        if spec.name == name:
            return spec
    return None


def _array(values: Any, spec: ColSpec | TensorSpec | None, key: str, name: str | None) -> Any:
    """*values* as a numpy array; a tensor spec's dtype applied with the ``same_kind`` rule."""
    import numpy as np

    where = f"'{key}'" if name is None else f"input {name!r} of '{key}'"
    if isinstance(spec, ColSpec) and spec.type is DataType.binary:
        values = _b64_list(values, where)
    try:
        array = np.asarray(values, dtype=object if _is_text(spec) else None)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"Invalid input: {where} is not a rectangular array: {exc}") from None
    if isinstance(spec, ColSpec) and isinstance(spec.type, DataType):
        return _json_numbers(array, spec.type)
    if isinstance(spec, TensorSpec) and spec.type != np.dtype(object) and array.dtype != spec.type:
        if array.dtype.kind in "US" and spec.type.kind in "US":
            return array.astype(spec.type)
        try:
            return array.astype(spec.type, casting="same_kind")
        except (TypeError, ValueError):
            raise BadRequest(
                f"Invalid input: {where} cannot be read as {spec.type} values "
                f"(got {_describe_dtype(array.dtype)})"
            ) from None
    return array


def _is_text(spec: ColSpec | TensorSpec | None) -> bool:
    return isinstance(spec, ColSpec) and spec.type in (DataType.string, DataType.binary)


def _describe_dtype(dtype: Any) -> str:
    kind = {"U": "strings", "S": "bytes", "O": "mixed values", "b": "booleans"}.get(dtype.kind)
    return kind or f"{dtype} values"


def _b64_list(values: Any, where: str) -> Any:
    if isinstance(values, str):
        return _b64(values, where)
    if isinstance(values, list):
        return [_b64_list(v, where) for v in values]
    return values


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise BadRequest(f"Invalid input: {where} holds binary data that is not base64") from None


def _json_numbers(values: Any, t: Any) -> Any:
    """JSON numbers carry no width and no int/float distinction: read them as the column's
    numeric type.  Integers become floats; floats become integers only when they are whole
    and fit; anything else is left for the signature check to report."""
    import numpy as np

    kind = values.dtype.kind
    if kind not in "iuf":
        if t is DataType.datetime and kind == "O":
            import pandas as pd

            try:
                return pd.to_datetime(values)
            except (ValueError, TypeError, OverflowError):
                return values
        return values
    target = t.to_numpy() if isinstance(t, DataType) else None
    if target is None or values.dtype == target:
        return values
    if t in (DataType.float, DataType.double):
        return values.astype(target)
    if t in (DataType.integer, DataType.long):
        array = np.asarray(values)
        if array.size == 0:
            return values.astype(target)
        if kind == "f" and not (np.isfinite(array).all() and (np.mod(array, 1) == 0).all()):
            return values
        info = np.iinfo(target)
        if array.min() < info.min or array.max() > info.max:
            return values
        return values.astype(target)
    return values


def _cast_columns(frame: Any, schema: Schema | None) -> Any:
    """A DataFrame from JSON, its columns read as the schema's types where JSON loses them:
    numbers (see :func:`_json_numbers`), datetimes (ISO text) and binary (base64 text)."""
    if schema is None or not schema.has_input_names() or schema.is_tensor_spec():
        return frame

    dtypes = dict(zip(frame.columns, frame.dtypes, strict=False))
    for spec in schema.inputs:
        if not isinstance(spec, ColSpec) or spec.name not in dtypes:
            continue
        if isinstance(spec.type, DataType) and dtypes[spec.name] == spec.type.to_pandas():
            continue  # already the schema's type: the common case, kept cheap
        if spec.type is DataType.binary:
            where = f"column {spec.name!r}"
            frame[spec.name] = [
                _b64(v, where) if isinstance(v, str) else v for v in frame[spec.name]
            ]
        elif isinstance(spec.type, DataType):
            column = frame[spec.name]
            converted = _json_numbers(column, spec.type)
            if converted is not column:
                frame[spec.name] = converted
    return frame


# --- CSV and Parquet --------------------------------------------------------------------------


def csv_dtypes(schema: Schema | None) -> dict[str, Any] | None:
    """The pandas dtypes CSV columns are read with: the schema's required scalar columns."""
    if schema is None or not schema.has_input_names() or schema.is_tensor_spec():
        return None

    dtypes: dict[str, Any] = {}
    for spec in schema.inputs:
        if (
            isinstance(spec, ColSpec)
            and isinstance(spec.type, DataType)
            and spec.name is not None
            and spec.type not in (DataType.datetime, DataType.binary)
            and spec.required  # optional columns may be empty, which an int dtype refuses
        ):
            dtypes[spec.name] = spec.type.to_pandas()
    return dtypes or None


def parse_csv_input(
    body: bytes | str | io.IOBase,
    schema: Schema | None,
    *,
    max_columns: int | None = MAX_COLUMNS,
) -> Any:
    """A DataFrame from CSV text with a header line of at most *max_columns* columns (None:
    no limit; counted before pandas parses anything); the schema's column types applied."""
    import pandas as pd

    source: Any = io.BytesIO(body) if isinstance(body, (bytes, bytearray)) else body
    if isinstance(body, str):
        source = io.StringIO(body)
    if max_columns is not None and isinstance(body, (bytes, bytearray, str)):
        _check_columns(_csv_header_width(body), "the CSV header", max_columns)
    dtypes = csv_dtypes(schema)
    try:
        return pd.read_csv(source, dtype=dtypes)
    except OverflowError:
        raise BadRequest(_csv_overflow(body, dtypes)) from None
    except pd.errors.EmptyDataError:
        raise BadRequest("Invalid input: the CSV body is empty (a header line is needed)") from None
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Invalid input: the CSV body is not UTF-8 ({exc.reason})") from None
    except (ValueError, TypeError, pd.errors.ParserError) as exc:
        raise BadRequest(
            f"Invalid input: the CSV body is malformed or does not match the model's schema: {exc}"
        ) from None


def _csv_header_width(body: bytes | bytearray | str) -> int:
    """The number of fields of the first record after any leading whitespace (the header
    line pandas reads), read with the csv module, which stops after that record: quoted
    newlines and commas are counted as pandas counts them."""
    text: Any
    if isinstance(body, str):
        start = _FIRST_TEXT.search(body)
        text = io.StringIO(body[start.start() :] if start else "", newline="")
    else:
        found = _FIRST_BYTE.search(body)
        raw = io.BytesIO(body)
        raw.seek(found.start() if found else len(body))
        text = io.TextIOWrapper(raw, "utf-8", "replace", newline="")
    try:
        return len(next(csv.reader(text), []))
    except csv.Error:
        return 0  # a header pandas cannot read either: it reports it


_FIRST_TEXT = re.compile(r"\S")
_FIRST_BYTE = re.compile(rb"\S")


def _csv_overflow(body: bytes | bytearray | str | io.IOBase, dtypes: dict[str, Any] | None) -> str:
    """The message for a CSV value too large for its column's type, naming the column."""
    import pandas as pd

    if isinstance(body, (bytes, bytearray, str)):
        source = io.StringIO(body) if isinstance(body, str) else io.BytesIO(body)
        try:
            frame = pd.read_csv(source, dtype=str)
        except (ValueError, TypeError, pd.errors.ParserError):
            frame = None
        for column, dtype in (dtypes or {}).items():
            if frame is not None and column in frame:
                try:
                    frame[column].astype(dtype)
                except (OverflowError, ValueError):
                    return (
                        f"Invalid input: a value in CSV column {column!r} does not fit the "
                        f"model's type ({dtype})"
                    )
    return "Invalid input: a CSV value does not fit its column's type in the model's schema"


def parse_parquet_input(body: bytes) -> Any:
    """A DataFrame from a Parquet file's bytes."""
    try:
        require("pyarrow")
    except MissingDependency as exc:
        raise UnsupportedMediaType(f"{exc.message} (on the server)") from None
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(body))
    except (ValueError, TypeError, OSError) as exc:
        raise BadRequest(f"Invalid input: the body is not a readable Parquet file: {exc}") from None
