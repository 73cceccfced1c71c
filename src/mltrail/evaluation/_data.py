"""The evaluation data: features for the model, targets, stored predictions, and the dataset
recorded as the run's input.

``data`` is a pandas DataFrame (``targets`` and ``predictions`` name its columns), a NumPy
array or a list of rows (``targets`` is an array or list), or a dataset from
``mltrail.data.from_pandas``/``from_numpy`` (which names its own targets and predictions).
The features reach the model as a DataFrame whose columns are the feature names (for arrays:
``feature_1``, ``feature_2``, ..., as MLflow names them).  With pandas' copy-on-write (the
default from pandas 3) the features share the frame's data: no column is copied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
from mltrail.data import (
    Dataset,
    HuggingFaceDataset,
    NumpyDataset,
    PandasDataset,
    from_numpy,
    from_pandas,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

__all__ = ["EvalData", "prepare_data"]


@dataclass
class EvalData:
    """What ``evaluate`` reads from its ``data`` argument."""

    features: pd.DataFrame
    feature_names: list[str]
    targets: npt.NDArray[Any] | None
    targets_name: str | None
    predictions: npt.NDArray[Any] | None
    predictions_name: str | None
    dataset: Dataset
    #: The features came as a DataFrame (the results table keeps its columns).
    from_frame: bool

    @property
    def rows(self) -> int:
        return len(self.features)


def _columns_text(df: pd.DataFrame) -> str:
    names = [str(c) for c in df.columns[:20]]
    more = ", ..." if len(df.columns) > 20 else ""
    return ", ".join(names) + more


def _column(df: pd.DataFrame, name: Any, argument: str) -> np.ndarray[Any, Any]:
    if not isinstance(name, str):
        raise InvalidArgument(
            f"Invalid {argument} {name!r}: when data is a pandas DataFrame, {argument} is the "
            "name of one of its columns"
        )
    if name not in df.columns:
        raise InvalidArgument(
            f"Invalid {argument} {name!r}: not a column of data (columns: {_columns_text(df)})"
        )
    return df[name].to_numpy()


def _array_feature_names(count: int) -> list[str]:
    width = math.ceil(math.log10(count + 1))
    return [f"feature_{str(i + 1).zfill(width)}" for i in range(count)]


def _from_frame(
    df: pd.DataFrame,
    targets: Any,
    predictions: Any,
    feature_names: Sequence[str] | None,
) -> tuple[pd.DataFrame, list[str], Any, Any]:
    y = _column(df, targets, "targets") if targets is not None else None
    p = _column(df, predictions, "predictions") if predictions is not None else None
    if feature_names is not None:
        missing = [c for c in feature_names if c not in df.columns]
        if missing:
            raise InvalidArgument(
                f"Invalid feature_names: {missing} are not columns of data (columns: "
                f"{_columns_text(df)})"
            )
        features = df[list(feature_names)]
    else:
        drop = [c for c in (targets, predictions) if c is not None]
        features = df.drop(columns=drop) if drop else df
    return features, [str(c) for c in features.columns], y, p


def _from_array(
    data: Any, targets: Any, feature_names: Sequence[str] | None
) -> tuple[pd.DataFrame, list[str], Any]:
    import numpy as np
    import pandas as pd

    shape_rule = (
        "a NumPy array must be 2-dimensional (rows x features), and a list must hold rows of "
        "the same length"
    )
    if isinstance(data, list):
        if data and not isinstance(data[0], (list, tuple, np.ndarray)):
            data = [[value] for value in data]
        try:
            data = np.array(data)
        except ValueError as exc:
            raise InvalidArgument(f"Invalid data: {shape_rule}") from exc
    if data.ndim != 2:
        raise InvalidArgument(f"Invalid data of shape {data.shape}: {shape_rule}")
    y = None
    if targets is not None:
        if not isinstance(targets, (np.ndarray, list)):
            raise InvalidArgument(
                f"Invalid targets of type {type(targets).__name__}: when data is a NumPy array "
                "or a list, targets is an array or list of the labels"
            )
        y = np.asarray(targets)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1 or len(y) != len(data):
            raise InvalidArgument(
                f"Invalid targets of shape {y.shape}: expected one label for each of the "
                f"{len(data)} rows of data"
            )
    if feature_names is not None:
        names = [str(name) for name in feature_names]
        if len(names) != data.shape[1]:
            raise InvalidArgument(
                f"Invalid feature_names: {len(names)} names for {data.shape[1]} feature columns"
            )
    else:
        names = _array_feature_names(data.shape[1])
    return pd.DataFrame(data, columns=names, copy=False), names, y


def prepare_data(
    data: Any,
    *,
    targets: Any,
    predictions: Any,
    feature_names: Sequence[str] | None,
    model_given: bool,
) -> EvalData:
    """Read ``evaluate``'s data arguments (MLflow's rules); errors name the argument."""
    import numpy as np
    import pandas as pd

    if data is None:
        raise InvalidArgument("The data argument cannot be None.")
    if feature_names is not None and len(set(feature_names)) < len(list(feature_names)):
        raise InvalidArgument("Invalid feature_names: the names must be unique")
    if isinstance(data, Dataset):
        if targets is not None:
            raise InvalidArgument(
                "The top-level targets parameter should not be specified since a Dataset is "
                "used: name the targets column in the dataset, e.g. "
                "mltrail.data.from_pandas(df, targets='y'), and call evaluate(..., targets=None)"
            )
        if predictions is not None and not model_given:
            raise InvalidArgument(
                "The top-level predictions parameter should not be specified since a Dataset is "
                "used: name the predictions column in the dataset, e.g. "
                "mltrail.data.from_pandas(df, predictions='p')"
            )
        if isinstance(data, PandasDataset):
            if model_given and data.predictions is not None:
                raise InvalidArgument(
                    "The predictions parameter should not be specified in the Dataset since a "
                    "model is specified. Please remove the predictions column from the Dataset."
                )
            features, names, y, p = _from_frame(
                data.df, data.targets, data.predictions, feature_names
            )
            return EvalData(
                features, names, y, data.targets, p, data.predictions, data, from_frame=True
            )
        if isinstance(data, HuggingFaceDataset):  # evaluated as its pandas frame, as in MLflow
            features, names, y, p = _from_frame(
                data.ds.to_pandas(), data.targets, None, feature_names
            )
            return EvalData(features, names, y, data.targets, p, None, data, from_frame=True)
        if isinstance(data, NumpyDataset):
            if isinstance(data.features, dict) or isinstance(data.targets, dict):
                raise InvalidArgument(
                    "Invalid data: a NumpyDataset of named arrays (dicts) cannot be evaluated; "
                    "give one 2-dimensional features array and one targets array"
                )
            frame, names, y = _from_array(data.features, data.targets, feature_names)
            return EvalData(frame, names, y, None, None, None, data, from_frame=False)
        raise InvalidArgument(
            f"Invalid data: a {type(data).__name__} cannot be evaluated (use "
            "mltrail.data.from_pandas, from_numpy or from_huggingface)"
        )
    if isinstance(data, pd.DataFrame):
        use_predictions = predictions if not model_given else None
        features, names, y, p = _from_frame(data, targets, use_predictions, feature_names)
        dataset = from_pandas(data, targets=targets, predictions=use_predictions)
        return EvalData(features, names, y, targets, p, use_predictions, dataset, from_frame=True)
    if isinstance(data, (np.ndarray, list)):
        if predictions is not None and not model_given:
            raise InvalidArgument(
                "Invalid predictions: a predictions column needs data as a pandas DataFrame "
                "(or a dataset from mltrail.data.from_pandas)"
            )
        frame, names, y = _from_array(data, targets, feature_names)
        array_dataset = from_numpy(frame.to_numpy(), targets=y)
        return EvalData(frame, names, y, None, None, None, array_dataset, from_frame=False)
    raise InvalidArgument(
        f"Invalid data of type {type(data).__name__}: evaluate takes a pandas DataFrame, a "
        "NumPy array, a list of rows, or a dataset from mltrail.data.from_pandas/from_numpy"
    )
