"""Datasets of pandas DataFrames: ``mltrail.data.from_pandas``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
from mltrail.data._dataset import Dataset
from mltrail.data._digest import pandas_digest
from mltrail.data._sources import DatasetSource, resolve_source

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PandasDataset", "from_pandas"]

# Results of pandas.api.types.infer_dtype for object columns, as column types.
_INFERRED_TYPES = {
    "string": "string",
    "bytes": "binary",
    "boolean": "boolean",
    "integer": "long",
    "floating": "double",
    "mixed-integer-float": "double",
    "datetime": "datetime",
    "datetime64": "datetime",
}


class PandasDataset(Dataset):
    """A pandas DataFrame with its source, optional target and prediction column names."""

    def __init__(
        self,
        df: pd.DataFrame,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        _check_frame(df, "df")
        _check_column(df, targets, "targets")
        _check_column(df, predictions, "predictions")
        self._df = df
        self._targets = targets
        self._predictions = predictions
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return pandas_digest(self._df)

    @property
    def df(self) -> pd.DataFrame:
        return self._df

    @property
    def targets(self) -> str | None:
        """The name of the target column, if any."""
        return self._targets

    @property
    def predictions(self) -> str | None:
        """The name of the prediction column, if any."""
        return self._predictions

    @property
    def profile(self) -> dict[str, Any]:
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}

    def _compute_schema(self) -> dict[str, Any] | None:
        """``{"mlflow_colspec": [{"type", "name", "required"}, ...]}`` or None.

        None when a column has a type outside boolean, integer, long, float, double, string,
        binary and datetime (e.g. complex numbers, timedeltas, lists, mixed objects), or when
        column names repeat, as MLflow does.
        """
        names = [str(c) for c in self._df.columns]
        if len(set(names)) != len(names):
            return None
        specs: list[dict[str, Any]] = []
        for i, name in enumerate(names):
            column = self._df.iloc[:, i]
            column_type = column_type_of(column)
            if column_type is None:
                return None
            required = not bool(column.isna().any())
            specs.append({"type": column_type, "name": name, "required": required})
        return {"mlflow_colspec": specs}


def column_type_of(values: pd.Series[Any] | pd.Index) -> str | None:
    """The colspec type of a column (``"double"``, ``"long"``, ``"string"``, ...) or None."""
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return column_type_of(dtype.categories)
    if isinstance(dtype, pd.StringDtype):
        return "string"
    kind = dtype.kind
    itemsize = int(getattr(dtype, "itemsize", 8))
    if kind == "b":
        return "boolean"
    if kind == "i":
        return "integer" if itemsize <= 4 else "long"
    if kind == "u":
        if itemsize <= 2:
            return "integer"
        return "long" if itemsize <= 4 else None  # uint64 does not fit a long
    if kind == "f":
        if itemsize <= 4:
            return "float"
        return "double" if itemsize == 8 else None
    if kind == "M":
        return "datetime"
    if kind == "U":
        return "string"
    if kind == "S":
        return "binary"
    if kind == "O":
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        return _INFERRED_TYPES.get(inferred)
    return None


def _check_frame(df: Any, argument: str) -> None:
    pandas = sys.modules.get("pandas")  # a DataFrame exists only if pandas is imported
    if pandas is None or not isinstance(df, pandas.DataFrame):
        raise InvalidArgument(
            f"Invalid {argument} of type {type(df).__name__}: expected a pandas DataFrame"
        )


def _check_column(df: pd.DataFrame, column: Any, argument: str) -> None:
    if column is None:
        return
    if not isinstance(column, str):
        raise InvalidArgument(
            f"Invalid {argument} {column!r}: expected the name of a column of the DataFrame"
        )
    if column not in df.columns:
        raise InvalidArgument(
            f"Invalid {argument} '{column}': the DataFrame has no column '{column}'"
        )


def from_pandas(
    df: pd.DataFrame,
    source: str | DatasetSource | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """A dataset of *df* to record with ``log_input``.

    *source* is where the data came from: a local path, a ``file:``/``http(s)``/``s3``/... URI or
    a DatasetSource; without one, the running code (script path and git commit) is the source.
    *targets* and *predictions* name columns of *df*. *name* defaults to ``"dataset"`` and
    *digest* to a short hash of the data.
    """
    _check_frame(df, "df")
    return PandasDataset(
        df=df,
        source=resolve_source(source),
        targets=targets,
        name=name,
        digest=digest,
        predictions=predictions,
    )
