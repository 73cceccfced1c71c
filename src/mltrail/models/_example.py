"""Input examples: ``input_example.json`` and ``serving_input_example.json`` in MLflow's forms.

==============  =========================================  ====================================
example         input_example.json                         serving_input_example.json
==============  =========================================  ====================================
DataFrame       ``{"columns": [...], "data": [[...]]}``    ``{"dataframe_split": {...}}``
ndarray         ``[[...]]``                                ``{"inputs": [[...]]}``
dict of arrays  ``{"x": [[...]], ...}``                    ``{"inputs": {"x": [[...]], ...}}``
other JSON      the value itself                           ``{"inputs": value}``
==============  =========================================  ====================================

An example may be a ``(input, params)`` tuple; the params then go into the serving example.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import os
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import validate_artifact_path

if TYPE_CHECKING:
    from mltrail.models._model import Model

__all__ = [
    "INPUT_EXAMPLE_FILE",
    "SERVING_INPUT_EXAMPLE_FILE",
    "read_input_example",
    "read_input_example_params",
    "read_serving_input",
    "serving_input",
    "split_example",
    "to_jsonable",
    "write_input_example",
]

INPUT_EXAMPLE_FILE = "input_example.json"
SERVING_INPUT_EXAMPLE_FILE = "serving_input_example.json"


def to_jsonable(value: Any) -> Any:
    """*value* with numpy scalars and arrays, timestamps, bytes and NaN made JSON-friendly."""
    import numpy as np

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()] if value.ndim else to_jsonable(value.item())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    import pandas as pd

    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise InvalidArgument(
        f"Invalid input example: a value of type {type(value).__name__} cannot be saved as JSON"
    )


def split_example(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """``(input, params)`` from an example that may carry params as a 2-tuple."""
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        return example[0], example[1]
    return example, None


def _frame_json(df: Any) -> dict[str, Any]:
    columns = [str(c) for c in df.columns]
    data = [[to_jsonable(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return {"columns": columns, "data": data}


def _forms(example: Any) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """(input part, ``input_example.json`` content, serving input, MLmodel info) of an
    example."""
    import numpy as np
    import pandas as pd

    data, params = split_example(example)
    if isinstance(data, pd.Series):
        data = data.to_frame()
    info: dict[str, Any] = {"artifact_path": INPUT_EXAMPLE_FILE}
    if isinstance(data, pd.DataFrame):
        content: Any = _frame_json(data)
        serving: dict[str, Any] = {"dataframe_split": content}
        info.update(type="dataframe", pandas_orient="split")
    elif isinstance(data, np.ndarray) or (
        isinstance(data, dict) and data and all(isinstance(v, np.ndarray) for v in data.values())
    ):
        content = to_jsonable(data)
        serving = {"inputs": content}
        info["type"] = "ndarray"
    else:
        content = to_jsonable(data)
        serving = {"inputs": content}
        info["type"] = "json_object"
    if params:
        serving["params"] = to_jsonable(params)
    info["serving_input_path"] = SERVING_INPUT_EXAMPLE_FILE
    return data, content, serving, info


def serving_input(example: Any) -> dict[str, Any]:
    """The request body a model server takes for *example* (see the module's table)."""
    return _forms(example)[2]


def write_input_example(model: Model, path: str, example: Any) -> Any:
    """Save *example* into the model directory *path*; records it in *model*.

    Returns the input part of the example (a DataFrame for tabular data).
    """
    data, content, serving, info = _forms(example)
    if "params" in serving:  # MLflow's form of an (input, params) example
        content = {"inputs": content, "params": serving["params"]}
        info["params"] = "true"
    with open(os.path.join(path, INPUT_EXAMPLE_FILE), "w", encoding="utf-8") as f:
        json.dump(content, f)
    with open(os.path.join(path, SERVING_INPUT_EXAMPLE_FILE), "w", encoding="utf-8") as f:
        json.dump(serving, f, indent=2)
    model.saved_input_example_info = dict(sorted(info.items()))
    return data


def read_input_example_params(model: Model, path: str) -> dict[str, Any] | None:
    """The params of the (input, params) example saved with the model at *path*, or None."""
    info = model.saved_input_example_info
    if not info or not info.get("params"):
        return None
    name = str(info.get("artifact_path", INPUT_EXAMPLE_FILE))
    file = os.path.join(path, *validate_artifact_path(name).split("/"))
    with open(file, encoding="utf-8") as f:
        content = json.load(f)
    params = content.get("params") if isinstance(content, dict) else None
    return dict(params) if isinstance(params, dict) else None


def read_serving_input(model: Model, path: str) -> str | None:
    """The text of the serving input example saved with the model at *path*, or None."""
    info = model.saved_input_example_info
    name = info.get("serving_input_path") if info else None
    if not name:
        return None
    file = os.path.join(path, *validate_artifact_path(str(name)).split("/"))
    with open(file, encoding="utf-8") as f:
        return f.read()


def read_input_example(model: Model, path: str) -> Any:
    """The input example saved with the model at *path*, or None."""
    import numpy as np
    import pandas as pd

    info = model.saved_input_example_info
    if not info:
        return None
    name = str(info.get("artifact_path", INPUT_EXAMPLE_FILE))

    file = os.path.join(path, *validate_artifact_path(name).split("/"))
    with open(file, encoding="utf-8") as f:
        content = json.load(f)
    if info.get("params") and isinstance(content, dict) and "inputs" in content:
        content = content["inputs"]  # an (input, params) example: the input part
    kind = info.get("type")
    if kind == "dataframe":
        orient = info.get("pandas_orient", "split")
        if orient == "records":
            return pd.DataFrame.from_records(content)
        return pd.DataFrame(content.get("data", []), columns=content.get("columns"))
    if kind == "ndarray":
        if isinstance(content, dict):
            return {k: np.asarray(v) for k, v in content.items()}
        return np.asarray(content)
    return content
