"""``custom_artifacts``: functions ``fn(eval_df, builtin_metrics, artifacts_dir)`` returning
artifacts by name, logged beside the default evaluator's (MLflow's contract).

``eval_df`` has a ``prediction`` and a ``target`` column, ``builtin_metrics`` maps the metric
names to their :class:`MetricValue`, and ``artifacts_dir`` is a temporary folder for files the
function writes.  An artifact is a path to a file (``.png``, ``.jpg``, ``.jpeg``, ``.json``,
``.npy``, ``.csv``, ``.parquet``, ``.txt``), a JSON string, a pandas DataFrame (CSV), a NumPy
array (``.npy``), a matplotlib figure (PNG) or any JSON-ready object.  Unlike MLflow, other
objects are refused, not pickled.  Every artifact is read into memory before anything is
logged.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import pathlib
import tempfile
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.evaluation._metric import MetricValue
from mltrail.evaluation._result import (
    KIND_BY_EXTENSION,
    CsvEvaluationArtifact,
    EvaluationArtifact,
    ImageEvaluationArtifact,
    JsonEvaluationArtifact,
    NumpyEvaluationArtifact,
)

__all__ = ["check_custom_artifacts", "compute_custom_artifacts"]

_logger = logging.getLogger("mltrail")

#: An artifact ready to log: its kind, its file name and its bytes.
Prepared = tuple[type[EvaluationArtifact], str, bytes]


def check_custom_artifacts(functions: Any) -> list[Any]:
    """*functions* as a list; an error names an item that cannot be called."""
    if functions is None:
        return []
    if not isinstance(functions, (list, tuple)):
        raise InvalidArgument(
            "Invalid custom_artifacts: expected a list of functions "
            "fn(eval_df, builtin_metrics, artifacts_dir) returning a dict of artifacts"
        )
    for index, function in enumerate(functions):
        if not callable(function):
            raise InvalidArgument(
                f"Invalid custom_artifacts[{index}] of type {type(function).__name__}: expected "
                "a function fn(eval_df, builtin_metrics, artifacts_dir)"
            )
    return list(functions)


def _json_default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # NumPy arrays and scalars
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _from_path(header: str, name: str, path: pathlib.Path) -> Prepared:
    if not path.is_file():
        raise InvalidArgument(
            f"{header} produced an artifact '{name}' with path '{path}' that is not a file."
        )
    kind = KIND_BY_EXTENSION.get(path.suffix)
    if kind is None:
        raise InvalidArgument(
            f"{header} produced an artifact '{name}' with path '{path}' that does not match any "
            f"of the supported file extensions: {', '.join(KIND_BY_EXTENSION)}."
        )
    return kind, name + path.suffix, path.read_bytes()


def _prepare(header: str, name: str, raw: Any) -> Prepared:
    """The kind, file name and bytes of artifact *raw* (MLflow's inference, without pickle)."""
    import numpy as np
    import pandas as pd

    if isinstance(raw, str):
        if pathlib.Path(raw).exists():
            return _from_path(header, name, pathlib.Path(raw))
        try:
            json.loads(raw)
        except ValueError:
            raise InvalidArgument(
                f"{header} produced an artifact '{name}' with string representation '{raw}' "
                "that is neither a valid path to a file nor a JSON string."
            ) from None
        return JsonEvaluationArtifact, f"{name}.json", raw.encode("utf-8")
    if isinstance(raw, pathlib.Path):
        if not raw.exists():
            raise InvalidArgument(
                f"{header} produced an artifact '{name}' with path '{raw}' that does not exist."
            )
        return _from_path(header, name, raw)
    if isinstance(raw, pd.DataFrame):
        text: str = raw.to_csv(index=False)
        return CsvEvaluationArtifact, f"{name}.csv", text.encode("utf-8")
    if isinstance(raw, np.ndarray):
        buffer = io.BytesIO()
        try:
            np.save(buffer, raw, allow_pickle=False)
        except ValueError as exc:
            raise InvalidArgument(
                f"{header} produced an artifact '{name}': an array of objects, which .npy files "
                "hold only by pickling (refused)"
            ) from exc
        return NumpyEvaluationArtifact, f"{name}.npy", buffer.getvalue()
    if type(raw).__module__.startswith("matplotlib") and callable(getattr(raw, "savefig", None)):
        buffer = io.BytesIO()
        raw.savefig(buffer, format="png")
        return ImageEvaluationArtifact, f"{name}.png", buffer.getvalue()
    try:
        text = json.dumps(raw, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{header} produced an artifact '{name}' of type {type(raw).__name__}, which mltrail "
            "does not log: return a file path, a JSON string or JSON-ready object, a pandas "
            "DataFrame, a NumPy array or a matplotlib figure (MLflow would pickle it)"
        ) from exc
    return JsonEvaluationArtifact, f"{name}.json", text.encode("utf-8")


def compute_custom_artifacts(
    functions: Sequence[Any],
    *,
    predictions: Any,
    targets: Any,
    values: dict[str, MetricValue],
) -> dict[str, Prepared]:
    """Call each function and prepare what it returns, by artifact name."""
    import pandas as pd

    prepared: dict[str, Prepared] = {}
    if not functions:
        return prepared
    frame = pd.DataFrame({"prediction": predictions})
    if targets is not None:
        frame["target"] = targets
    for index, function in enumerate(functions):
        name = getattr(function, "__name__", repr(function))
        header = (
            f"Custom artifact function '{name}' at index {index} in the `custom_artifacts` "
            "parameter"
        )
        with tempfile.TemporaryDirectory(prefix="mltrail-artifacts-") as folder:
            try:
                produced = function(frame.copy(), copy.deepcopy(values), folder)
            except Exception as exc:
                raise InvalidArgument(f"{header} failed: {exc!r}") from exc
            if produced is None:
                _logger.warning("%s returned None.", header)
                continue
            if not isinstance(produced, dict) or not all(isinstance(k, str) for k in produced):
                _logger.warning(
                    "%s did not return artifacts as a dictionary of string artifact names with "
                    "their corresponding objects.",
                    header,
                )
                continue
            for artifact_name, raw in produced.items():
                kind, file_name, data = _prepare(header, artifact_name, raw)
                if any(file_name == taken for _, taken, _ in prepared.values()):
                    raise InvalidArgument(
                        f"{header} produced an artifact '{artifact_name}' that cannot be logged "
                        "because there already exists an artifact with the same name."
                    )
                prepared[artifact_name] = (kind, file_name, data)
    return prepared
