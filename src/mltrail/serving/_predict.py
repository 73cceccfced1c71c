"""Batch prediction: a file (or stdin) in, predictions out, with the scoring server's parsing.

The input is read exactly as ``POST /invocations`` reads a body of the same content type
(:mod:`mltrail.serving._parsing`), so the formats, the schema-driven CSV types and the error
messages are the same; the model then enforces its signature.  Large tabular inputs are scored
in batches of ``batch_size`` rows with a progress bar on stderr, and CSV input is read batch
by batch, so a file larger than memory can be scored.  ``batch_size=0`` scores everything in
one call (for models whose output for a row depends on the other rows).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

from mltrail._exceptions import BadRequest, InvalidArgument, MltrailError
from mltrail.serving._output import jsonable, predictions_to_csv, predictions_to_json
from mltrail.serving._parsing import (
    CONTENT_TYPE_CSV,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_PARQUET,
    csv_dtypes,
    parse_csv_input,
    parse_json_input,
    parse_parquet_input,
)

__all__ = ["DEFAULT_BATCH_SIZE", "INPUT_TYPES", "OUTPUT_TYPES", "open_input", "predict_stream"]

DEFAULT_BATCH_SIZE = 10_000
INPUT_TYPES = {"json": CONTENT_TYPE_JSON, "csv": CONTENT_TYPE_CSV, "parquet": CONTENT_TYPE_PARQUET}
OUTPUT_TYPES = ("json", "csv")

# (rows done, rows in all or None when unknown) -> None
Progress = Callable[[int, int | None], None]


def _predict(model: Any, data: Any, params: dict[str, Any] | None) -> Any:
    try:
        return model.predict(data, params=params)
    except MltrailError:
        raise
    except Exception as exc:
        raise InvalidArgument(
            f"The model failed to predict on this input; check that it matches the model's "
            f"signature. {type(exc).__name__}: {exc}"
        ) from exc


def _row_batches(data: Any, batch_size: int) -> Iterator[Any]:
    """Slices of *data* along its first axis (a DataFrame or an array); other data whole."""
    import numpy as np
    import pandas as pd

    if batch_size <= 0 or not isinstance(data, (pd.DataFrame, np.ndarray)) or len(data) <= 0:
        yield data
        return
    rows = len(data)
    for start in range(0, rows, batch_size):
        yield (
            data.iloc[start : start + batch_size]
            if isinstance(data, pd.DataFrame)
            else data[start : start + batch_size]
        )


def _concat(parts: list[Any]) -> Any:
    """One prediction from the predictions of consecutive batches."""
    if len(parts) == 1:
        return parts[0]
    import numpy as np
    import pandas as pd

    first = parts[0]
    if isinstance(first, (pd.DataFrame, pd.Series)):
        return pd.concat(parts, ignore_index=True)
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    if isinstance(first, dict):
        return {key: _concat([p[key] for p in parts]) for key in first}
    if isinstance(first, list):
        return [item for part in parts for item in part]
    return [jsonable(p) for p in parts]


def _csv_batches(source: IO[bytes], schema: Any, batch_size: int) -> Iterator[Any]:
    import pandas as pd

    if batch_size <= 0:
        yield parse_csv_input(source.read(), schema, max_columns=None)  # a local file
        return
    try:
        reader = pd.read_csv(source, dtype=csv_dtypes(schema), chunksize=batch_size)
        yield from reader
    except pd.errors.EmptyDataError:
        raise BadRequest("Invalid input: the CSV body is empty (a header line is needed)") from None
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Invalid input: the CSV body is not UTF-8 ({exc.reason})") from None
    except (ValueError, TypeError, pd.errors.ParserError) as exc:
        raise BadRequest(
            f"Invalid input: the CSV body is malformed or does not match the model's schema: {exc}"
        ) from None


def predict_stream(
    model: Any,
    source: IO[bytes],
    sink: IO[str],
    input_type: str = "json",
    output_type: str = "json",
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> int:
    """Score *source* with *model*, write predictions to *sink*; the number of input rows."""
    if input_type not in INPUT_TYPES:
        raise InvalidArgument(
            f"Invalid input type {input_type!r}: expected one of {', '.join(INPUT_TYPES)}"
        )
    if output_type not in OUTPUT_TYPES:
        raise InvalidArgument(
            f"Invalid output type {output_type!r}: expected one of {', '.join(OUTPUT_TYPES)}"
        )
    metadata = getattr(model, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    params: dict[str, Any] | None = None
    total: int | None = None
    if input_type == "csv":
        batches: Iterator[Any] = _csv_batches(source, schema, batch_size)
    else:
        if input_type == "json":
            parsed = parse_json_input(source.read(), schema, max_columns=None)
            data, params = parsed.data, parsed.params
        else:
            data = parse_parquet_input(source.read())
        total = len(data) if hasattr(data, "__len__") and not isinstance(data, dict) else None
        batches = _row_batches(data, batch_size)
    parts: list[Any] = []
    done = 0
    for batch in batches:
        parts.append(_predict(model, batch, params))
        done += len(batch) if hasattr(batch, "__len__") and not isinstance(batch, dict) else 1
        if progress is not None:
            progress(done, total)
    predictions = _concat(parts) if parts else []
    if output_type == "json":
        sink.write(predictions_to_json(predictions).decode("utf-8"))
        sink.write("\n")
    else:
        sink.write(predictions_to_csv(predictions))
    return done


def open_input(path: str | None) -> IO[bytes]:
    """A binary stream of *path*, or of stdin for None or ``-``."""
    if path is None or path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InvalidArgument(f"Cannot read input {path!r}: {exc.strerror}") from None
