"""Writing predictions: ``{"predictions": ...}`` in the shapes MLflow's scoring server uses.

- numpy array: nested lists (``array.tolist()``);
- pandas DataFrame: a list of records (``orient="records"``);
- pandas Series: a list of one-field records, the field named after the series (``0`` when
  unnamed), as MLflow does;
- dict: the same keys, arrays converted;
- anything else JSON can hold, with numpy scalars, bytes (base64), dates and times converted.

NaN and infinities are written as ``NaN``/``Infinity``, as Python's and MLflow's JSON does.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from typing import Any

from mltrail._exceptions import MltrailError

__all__ = ["jsonable", "predictions_to_csv", "predictions_to_json"]


def _default(value: Any) -> Any:
    """``json.dumps`` fallback for what the standard library cannot write."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return jsonable(value)
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return str(np.datetime_as_string(value))
        if isinstance(value, np.bytes_):
            return base64.b64encode(bytes(value)).decode("ascii")
        return value.item()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    import pandas as pd

    if isinstance(value, (pd.DataFrame, pd.Series)):
        return jsonable(value)
    if value is pd.NA or value is pd.NaT:
        return None
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def jsonable(predictions: Any) -> Any:
    """Predictions in the JSON shape of MLflow's scoring server (numpy scalars may remain)."""
    import numpy as np

    if isinstance(predictions, np.ndarray):
        if predictions.dtype.kind in "biufU":
            return predictions.tolist()
        if predictions.dtype.kind == "M":
            return np.datetime_as_string(predictions).tolist()
        return [
            _default(v) if not isinstance(v, (str, int, float)) else v for v in predictions.tolist()
        ]
    module = type(predictions).__module__
    if module.startswith("pandas"):
        import pandas as pd

        if isinstance(predictions, pd.DataFrame):
            return predictions.to_dict(orient="records")
        if isinstance(predictions, pd.Series):
            return pd.DataFrame(predictions).to_dict(orient="records")
    if isinstance(predictions, dict):
        return {k: jsonable(v) for k, v in predictions.items()}
    return predictions


def predictions_to_json(predictions: Any) -> bytes:
    """The response body for *predictions*."""
    try:
        text = json.dumps({"predictions": jsonable(predictions)}, default=_default)
    except (TypeError, ValueError) as exc:
        raise MltrailError(
            f"The model returned predictions that cannot be written as JSON: {exc}"
        ) from None
    return text.encode("utf-8")


def predictions_to_csv(predictions: Any, header: bool = True) -> str:
    """Predictions as CSV text: a DataFrame as is, anything else as one or more columns."""
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        frame = predictions
    elif isinstance(predictions, pd.Series):
        frame = predictions.to_frame()
    elif isinstance(predictions, dict):
        frame = pd.DataFrame({k: list(jsonable(v)) for k, v in predictions.items()})
    else:
        import numpy as np

        array = np.asarray(predictions)
        if array.ndim <= 1:
            frame = pd.DataFrame({"predictions": array.reshape(-1)})
        else:
            frame = pd.DataFrame(array.reshape(array.shape[0], -1))
    return str(frame.to_csv(index=False, header=header))
